/**
 * HSS, the hierarchy of LMS trees of RFC 8554 §6, and the encodings of its keys.
 *
 * - Public key (§6.1): u32(L) ‖ the LMS public key of the top tree (60 bytes with SHA-256/32).
 * - Signature (§6.2): u32(L−1) ‖ for each level but the last its LMS signature of the next level's public
 *   key and that public key ‖ the last level's LMS signature of the message.
 * - Private key (OpenTSB's own, sealed like every key): u8(1) ‖ u32(L) ‖ L × (u32 LMS type ‖ u32 LM-OTS type)
 *   ‖ I (16) ‖ SEED (32) of the top tree ‖ the top tree's upper nodes (public values, kept so that signing
 *   after a restart need not recompute the whole top tree). No index: the index lives in the database.
 *   The tree below top-tree leaf q has SEED' = H(I ‖ u32(q) ‖ u16(0xfffe) ‖ u8(0xff) ‖ SEED) and
 *   I' = the first 16 bytes of H(I ‖ u32(q) ‖ u16(0xffff) ‖ u8(0xff) ‖ SEED).
 */
import { bufferView } from '../../lib/encoding.js';
import { PRG_CHILD_I, PRG_CHILD_SEED, prg } from './lm-ots.js';
import {
  type HssParameterSet,
  type LevelParams,
  LMS_PUBLIC_KEY_LENGTH,
  lmotsTypeById,
  lmsTypeById,
  N,
} from './lms-params.js';
import {
  authPath,
  computeTop,
  lmsPublicKey,
  lmsSign,
  lmsSignatureParams,
  lmsVerify,
  SUBTREE_HEIGHT,
  subtreeHeight,
  subtreeRoot,
  type TreeSeeds,
  treeRoot,
} from './lms-tree.js';

const VERSION = 1;

export interface HssPrivateKey {
  readonly levels: readonly LevelParams[];
  readonly top: TreeSeeds;
  /** the upper nodes of the top tree (see computeTop) */
  readonly topNodes: Uint8Array;
}

/** Checks the rule the signer relies on: every tree below the top fits in one subtree. */
export function checkParameterSet(set: HssParameterSet): void {
  if (set.levels.length < 1 || set.levels.length > 8) throw new Error(`${set.name}: 1 to 8 levels`);
  for (const level of set.levels.slice(1))
    if (level.lms.h > SUBTREE_HEIGHT)
      throw new Error(`${set.name}: lower trees of height ≤ ${SUBTREE_HEIGHT}`);
}

export function encodePrivateKey(key: HssPrivateKey): Uint8Array {
  const head = Buffer.alloc(1 + 4 + key.levels.length * 8);
  head[0] = VERSION;
  head.writeUInt32BE(key.levels.length, 1);
  for (const [i, level] of key.levels.entries()) {
    head.writeUInt32BE(level.lms.id, 5 + i * 8);
    head.writeUInt32BE(level.ots.id, 9 + i * 8);
  }
  return new Uint8Array(Buffer.concat([head, key.top.I, key.top.seed, key.topNodes]));
}

export function decodePrivateKey(bytes: Uint8Array): HssPrivateKey {
  const buffer = bufferView(bytes);
  if (buffer.length < 5 || buffer[0] !== VERSION) throw new Error('not an HSS private key');
  const count = buffer.readUInt32BE(1);
  if (count < 1 || count > 8 || buffer.length < 5 + count * 8 + 16 + N)
    throw new Error('not an HSS private key');
  const levels = Array.from({ length: count }, (_, i) => {
    const lms = lmsTypeById(buffer.readUInt32BE(5 + i * 8));
    const ots = lmotsTypeById(buffer.readUInt32BE(9 + i * 8));
    if (!lms || !ots) throw new Error('not an HSS private key');
    return { lms, ots };
  });
  const at = 5 + count * 8;
  const I = bytes.subarray(at, at + 16);
  const seed = bytes.subarray(at + 16, at + 16 + N);
  const topNodes = bytes.subarray(at + 16 + N);
  const top = levels[0]!;
  if (topNodes.length !== 2 * 2 ** (top.lms.h - subtreeHeight(top)) * N)
    throw new Error('not an HSS private key');
  return { levels, top: { I, seed }, topNodes };
}

export function hssPublicKey(key: HssPrivateKey): Uint8Array {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(key.levels.length, 0);
  return new Uint8Array(
    Buffer.concat([count, lmsPublicKey(key.levels[0]!, key.top.I, treeRoot(key.topNodes))]),
  );
}

/** The private key from the top tree's seeds and the roots of its subtrees (in order). */
export function assemblePrivateKey(
  levels: readonly LevelParams[],
  top: TreeSeeds,
  roots: readonly Uint8Array[],
): HssPrivateKey {
  return { levels, top, topNodes: computeTop(levels[0]!, top.I, roots) };
}

export function childSeeds(parent: TreeSeeds, q: number): TreeSeeds {
  return {
    I: prg(parent.I, q, PRG_CHILD_I, parent.seed).subarray(0, 16),
    seed: prg(parent.I, q, PRG_CHILD_SEED, parent.seed),
  };
}

/** Leaf index per level of a signature index, from the top. */
export function leafIndices(levels: readonly LevelParams[], index: number): number[] {
  const result: number[] = [];
  let rest = index;
  for (let l = levels.length - 1; l >= 0; l--) {
    const width = 2 ** levels[l]!.lms.h;
    result.unshift(rest % width);
    rest = Math.floor(rest / width);
  }
  if (rest !== 0) throw new Error('signature index out of range');
  return result;
}

export const maxSignatures = (levels: readonly LevelParams[]) =>
  levels.reduce((product, level) => product * 2 ** level.lms.h, 1);

/** Gives subtree j of a tree (computed, or from a cache). */
export type SubtreeSource = (level: LevelParams, seeds: TreeSeeds, j: number) => Uint8Array;
/** Gives the signature of a lower tree's public key by its parent (computed, or from a cache). */
export type ChildSignatureSource = (key: string, make: () => Uint8Array) => Uint8Array;

/** The HSS signature of `message` at `index` (§6.2). */
export function hssSign(
  key: HssPrivateKey,
  index: number,
  message: Uint8Array,
  subtree: SubtreeSource,
  childSignature: ChildSignatureSource = (_key, make) => make(),
): Uint8Array {
  const { levels } = key;
  const qs = leafIndices(levels, index);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(levels.length - 1, 0);
  const parts: Uint8Array[] = [count];
  let seeds = key.top;
  let pathOf = (q: number) => {
    const level = levels[0]!;
    return authPath(
      level,
      q,
      subtree(level, key.top, Math.floor(q / 2 ** subtreeHeight(level))),
      key.topNodes,
    );
  };
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l]!;
    const q = qs[l]!;
    const parentSeeds = seeds;
    const parentPath = pathOf(q);
    const child = childSeeds(parentSeeds, q);
    const childLevel = levels[l + 1]!;
    const childTree = subtree(childLevel, child, 0);
    const childPublic = lmsPublicKey(childLevel, child.I, subtreeRoot(childTree));
    const cacheKey = `${Buffer.from(parentSeeds.I).toString('hex')}:${q}`;
    parts.push(
      childSignature(cacheKey, () => lmsSign(level, parentSeeds, q, childPublic, parentPath)),
      childPublic,
    );
    seeds = child;
    pathOf = (leaf: number) => authPath(childLevel, leaf, childTree, childTree);
  }
  const last = levels[levels.length - 1]!;
  parts.push(lmsSign(last, seeds, qs[levels.length - 1]!, message, pathOf(qs[levels.length - 1]!)));
  return new Uint8Array(Buffer.concat(parts));
}

interface ParsedSignature {
  levels: { signature: Uint8Array; level: LevelParams; q: number; publicKey?: Uint8Array }[];
}

function parseSignature(signature: Uint8Array): ParsedSignature | null {
  if (signature.length < 4) return null;
  const buffer = bufferView(signature);
  const nspk = buffer.readUInt32BE(0);
  if (nspk > 7) return null;
  const levels: ParsedSignature['levels'] = [];
  let at = 4;
  for (let l = 0; l <= nspk; l++) {
    const parsed = lmsSignatureParams(signature.subarray(at));
    if (!parsed) return null;
    const entry: ParsedSignature['levels'][number] = {
      signature: signature.subarray(at, at + parsed.length),
      level: parsed.level,
      q: parsed.q,
    };
    at += parsed.length;
    if (l < nspk) {
      if (signature.length < at + LMS_PUBLIC_KEY_LENGTH) return null;
      entry.publicKey = signature.subarray(at, at + LMS_PUBLIC_KEY_LENGTH);
      at += LMS_PUBLIC_KEY_LENGTH;
    }
    levels.push(entry);
  }
  return at === signature.length ? { levels } : null;
}

/** HSS verification (§6.3). */
export function hssVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 4 + LMS_PUBLIC_KEY_LENGTH) return false;
  const levelCount = Buffer.from(publicKey.buffer, publicKey.byteOffset, 4).readUInt32BE(0);
  const parsed = parseSignature(signature);
  if (!parsed || parsed.levels.length !== levelCount) return false;
  let key = publicKey.subarray(4);
  for (const entry of parsed.levels) {
    const signed = entry.publicKey ?? message;
    if (!lmsVerify(key, signed, entry.signature)) return false;
    if (entry.publicKey) key = entry.publicKey;
  }
  return true;
}

/** The signature index a well-formed HSS signature was made at (−1 if malformed). */
export function hssSignatureIndex(signature: Uint8Array): number {
  const parsed = parseSignature(signature);
  if (!parsed) return -1;
  return parsed.levels.reduce((index, entry) => index * 2 ** entry.level.lms.h + entry.q, 0);
}
