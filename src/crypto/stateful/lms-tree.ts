/**
 * LMS, the Merkle tree of one-time keys of RFC 8554 §5. A tree of height h is computed as 2^(h−S)
 * subtrees of height S = min(h, 10) below a top tree of height h − S; a signature needs the subtree of
 * its leaf and the top tree (its authentication path is in those two), so a signer keeps the top tree and
 * the subtree in use, and computes each subtree once.
 */
import { otsCandidate, otsPublicKeyHash, otsSign, sha256 } from './lm-ots.js';
import {
  type LevelParams,
  LMS_PUBLIC_KEY_LENGTH,
  lmotsTypeById,
  lmsSignatureLength,
  lmsTypeById,
  N,
  otsSignatureLength,
} from './lms-params.js';

const D_LEAF = 0x8282;
const D_INTR = 0x8383;
export const SUBTREE_HEIGHT = 10;

/** the private part of one tree: its identifier I (16 bytes) and SEED (32 bytes) */
export interface TreeSeeds {
  readonly I: Uint8Array;
  readonly seed: Uint8Array;
}

export const subtreeHeight = (level: LevelParams) => Math.min(level.lms.h, SUBTREE_HEIGHT);

function nodeHash(I: Uint8Array, r: number, tag: number, ...parts: Uint8Array[]): Buffer {
  const head = Buffer.alloc(16 + 4 + 2);
  head.set(I, 0);
  head.writeUInt32BE(r, 16);
  head.writeUInt16BE(tag, 20);
  return sha256(Buffer.concat([head, ...parts]));
}

/** Fills the internal nodes of a heap (node l at offset l·N, leaves at width … 2·width−1). */
function fillHeap(nodes: Uint8Array, width: number, I: Uint8Array, globalOf: (l: number) => number): void {
  for (let l = width - 1; l >= 1; l--) {
    const children = nodes.subarray(2 * l * N, (2 * l + 2) * N);
    nodes.set(nodeHash(I, globalOf(l), D_INTR, children), l * N);
  }
}

/**
 * Subtree j of a tree: a heap of height S whose node l (offset l·N) is the tree's node
 * l + 2^(S−k)·(2^(h−S) − 1 + j) at level k above the leaves.
 */
export function computeSubtree(level: LevelParams, { I, seed }: TreeSeeds, j: number): Uint8Array {
  const h = level.lms.h;
  const S = subtreeHeight(level);
  const width = 2 ** S;
  const nodes = new Uint8Array(2 * width * N);
  for (let t = 0; t < width; t++) {
    const q = j * width + t;
    const K = otsPublicKeyHash(level.ots, I, seed, q);
    nodes.set(nodeHash(I, 2 ** h + q, D_LEAF, K), (width + t) * N);
  }
  fillHeap(nodes, width, I, (l) => {
    const k = S - Math.floor(Math.log2(l));
    return l + 2 ** (S - k) * (2 ** (h - S) - 1 + j);
  });
  return nodes;
}

/** The top tree from the subtree roots: a heap of height h − S holding the tree's nodes 1 … 2^(h−S+1) − 1. */
export function computeTop(level: LevelParams, I: Uint8Array, roots: readonly Uint8Array[]): Uint8Array {
  const width = 2 ** (level.lms.h - subtreeHeight(level));
  if (roots.length !== width) throw new Error('wrong number of subtree roots');
  const nodes = new Uint8Array(2 * width * N);
  for (const [j, root] of roots.entries()) nodes.set(root, (width + j) * N);
  fillHeap(nodes, width, I, (l) => l);
  return nodes;
}

export const subtreeRoot = (subtree: Uint8Array) => subtree.subarray(N, 2 * N);
export const treeRoot = (top: Uint8Array) => top.subarray(N, 2 * N);

/** The authentication path of leaf q (§5.4.1) from its subtree and the top tree. */
export function authPath(level: LevelParams, q: number, subtree: Uint8Array, top: Uint8Array): Uint8Array {
  const h = level.lms.h;
  const S = subtreeHeight(level);
  const path = new Uint8Array(h * N);
  let local = 2 ** S + (q % 2 ** S);
  for (let i = 0; i < S; i++, local >>= 1)
    path.set(subtree.subarray((local ^ 1) * N, ((local ^ 1) + 1) * N), i * N);
  let node = 2 ** (h - S) + Math.floor(q / 2 ** S);
  for (let i = S; i < h; i++, node >>= 1) path.set(top.subarray((node ^ 1) * N, ((node ^ 1) + 1) * N), i * N);
  return path;
}

export function lmsPublicKey(level: LevelParams, I: Uint8Array, root: Uint8Array): Buffer {
  const key = Buffer.alloc(LMS_PUBLIC_KEY_LENGTH);
  key.writeUInt32BE(level.lms.id, 0);
  key.writeUInt32BE(level.ots.id, 4);
  key.set(I, 8);
  key.set(root, 24);
  return key;
}

/** The LMS signature of `message` at leaf q (§5.4.1), given the leaf's authentication path. */
export function lmsSign(
  level: LevelParams,
  seeds: TreeSeeds,
  q: number,
  message: Uint8Array,
  path: Uint8Array,
): Buffer {
  const ots = otsSign(level.ots, seeds.I, seeds.seed, q, message);
  const signature = Buffer.alloc(lmsSignatureLength(level));
  signature.writeUInt32BE(q, 0);
  signature.set(ots, 4);
  signature.writeUInt32BE(level.lms.id, 4 + ots.length);
  signature.set(path, 8 + ots.length);
  return signature;
}

const u32 = (bytes: Uint8Array, offset: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32BE(offset);

/** The parameters and length of the LMS signature at the start of `bytes` (for HSS parsing); null if malformed. */
export function lmsSignatureParams(
  bytes: Uint8Array,
): { level: LevelParams; length: number; q: number } | null {
  if (bytes.length < 8) return null;
  const ots = lmotsTypeById(u32(bytes, 4));
  if (!ots) return null;
  const at = 4 + otsSignatureLength(ots);
  if (bytes.length < at + 4) return null;
  const lms = lmsTypeById(u32(bytes, at));
  if (!lms) return null;
  const level = { lms, ots };
  const length = lmsSignatureLength(level);
  if (bytes.length < length) return null;
  return { level, length, q: u32(bytes, 0) };
}

/** LMS verification (§5.4.2, Algorithm 6a); `signature` must be exactly one LMS signature. */
export function lmsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== LMS_PUBLIC_KEY_LENGTH) return false;
  const parsed = lmsSignatureParams(signature);
  if (!parsed || parsed.length !== signature.length) return false;
  const { level, q } = parsed;
  if (level.lms.id !== u32(publicKey, 0) || level.ots.id !== u32(publicKey, 4)) return false;
  const h = level.lms.h;
  if (q >= 2 ** h) return false;
  const I = publicKey.subarray(8, 24);
  const otsLength = otsSignatureLength(level.ots);
  const Kc = otsCandidate(I, q, signature.subarray(4, 4 + otsLength), message, level.ots);
  if (!Kc) return false;
  const path = signature.subarray(8 + otsLength);
  let node = 2 ** h + q;
  let tmp = nodeHash(I, node, D_LEAF, Kc);
  for (let i = 0; node > 1; i++) {
    const sibling = path.subarray(i * N, (i + 1) * N);
    const parent = Math.floor(node / 2);
    tmp =
      node % 2 === 1 ? nodeHash(I, parent, D_INTR, sibling, tmp) : nodeHash(I, parent, D_INTR, tmp, sibling);
    node = parent;
  }
  return Buffer.from(tmp).equals(publicKey.subarray(24, 24 + N));
}
