/**
 * The `approvalToBeSigned` challenge that SKA approvers sign (reference §4.4, layout and rationale in
 * docs/approval-challenge.md). OpenTSB keeps the TSB frame (`u32le length`, then `u16le tag, u16le
 * length, value` items zero-padded to 4 bytes) and the TSB tags it can, and adds private tags (0x7Fxx)
 * for what the challenge must bind: payload digest, key id and version, the operation parameters digest,
 * request id (workflow) or nonce (pre-signed), and the digest of the frozen rule.
 *
 * Decoding is strict: any malformed, truncated, reordered, duplicated, unknown or trailing input is a
 * TsbError INPUT_VALIDATION_FAILED (600), never another exception.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  Asn1Error,
  type Asn1Node,
  bitString,
  children,
  decode,
  expectTag,
  readBitString,
  readObjectIdentifier,
  sequence,
  TAG,
} from '../crypto/der.js';
import { TsbError } from '../errors.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { UUID_PATTERN } from '../lib/encoding.js';

export type SkaOperation =
  | 'SIGN'
  | 'BLOCK'
  | 'UNBLOCK'
  | 'MODIFY'
  | 'UNWRAP'
  | 'DECRYPT'
  | 'CERTIFICATE_REQUEST'
  | 'SELF_SIGN_CERTIFICATE'
  | 'SIGN_CERTIFICATE';

/** Values of the 0x003B item; 1 (sign) and 4 (modify) as in the TSB samples, the others OpenTSB's. */
export const SKA_OPERATION_CODES: Readonly<Record<SkaOperation, number>> = {
  SIGN: 1,
  BLOCK: 2,
  UNBLOCK: 3,
  MODIFY: 4,
  UNWRAP: 5,
  DECRYPT: 6,
  /** a CSR (and the key's self-signed certificate) under ruleUse */
  CERTIFICATE_REQUEST: 7,
  /** a self-signed certificate under ruleUse */
  SELF_SIGN_CERTIFICATE: 8,
  /** a certificate issued from a CSR by a CA key under ruleUse */
  SIGN_CERTIFICATE: 9,
};

export const CHALLENGE_TAG = {
  OPERATION: 0x003b,
  KEY_LABEL: 0x1002,
  TIMESTAMP: 0x1054,
  TIMESTAMP_SIGNATURE: 0x1056,
  PAYLOAD_DIGEST: 0x7f01,
  REQUEST_ID: 0x7f02,
  RULE_DIGEST: 0x7f03,
  KEY_ID: 0x7f04,
  KEY_VERSION: 0x7f05,
  PARAMETERS_DIGEST: 0x7f06,
  NONCE: 0x7f07,
  CREATION_TIME: 0x0107,
  TIMESTAMP_KEY_NAME: 0x1002,
} as const;

const TAG_NAMES: Record<number, string> = {
  59: 'operation',
  4098: 'label',
  4180: 'timestamp container',
  4182: 'timestamp signature',
  4183: 'TSB raw sign payload',
  4184: 'TSB binary policy',
  32513: 'payload digest',
  32514: 'request id',
  32515: 'rule digest',
  32516: 'key id',
  32517: 'key version',
  32518: 'operation parameters digest',
  32519: 'nonce',
  263: 'creation time',
};

export interface ChallengeContent {
  operation: SkaOperation;
  /** UTF-8, including a derivation path suffix if the request named one. */
  keyLabel: string;
  /** SHA-256 (32 bytes) of what the operation acts on, see docs/approval-challenge.md. */
  payloadDigest: Buffer;
  /** The key's UUID (lower-case text once decoded): binds the partition and the very key, not only its label. */
  keyId: string;
  /** The key's version (it changes with every block, unblock, policy or password change): an approval is for the key as it is. */
  keyVersion: number;
  /** SHA-256 of the canonical JSON of the operation's parameters (src/ska/operation-parameters.ts). */
  parametersDigest: Buffer;
  /** Seconds precision: the encoder floors to whole seconds. */
  createdAt: Date;
  /** Lower-case canonical UUID text once decoded; null in a self-computed challenge. */
  requestId: string | null;
  /** 16 random bytes chosen by the approver tool; exactly when there is no request id (a self-computed challenge). */
  nonce: Buffer | null;
  /** SHA-256 of the canonical JSON of the frozen rule; null in a self-computed challenge. */
  ruleDigest: Buffer | null;
  /** The partition timestamp key (e.g. "timestamp-key"); null in a self-computed challenge. */
  timestampKeyName: string | null;
}

export interface DecodedChallenge {
  content: ChallengeContent;
  /** The VALUE bytes of the 0x1054 item: what the timestamp signature covers. */
  timestampBlock: Buffer;
  /** Raw DER ECDSA-Sig-Value of the timestamp key, or null (self-computed challenge). */
  timestampSignature: Buffer | null;
}

export interface TlvItem {
  tag: number;
  value: Buffer;
}

const DIGEST_BYTES = 32;
const UUID_BYTES = 16;
export const NONCE_BYTES = 16;
const MAX_ITEM_BYTES = 0xffff;
/** The largest Unix time a JS Date can hold (±8.64e15 ms). */
const MAX_UNIX_SECONDS = 8_640_000_000_000;
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** DER AlgorithmIdentifier { ecdsa-with-SHA256, NULL }, as in the TSB samples. */
const ECDSA_WITH_SHA256_ALGORITHM = Buffer.from('300c06082a8648ce3d0403020500', 'hex');

// ---------------------------------------------------------------------------------------------
// Public API

export function payloadDigest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** SHA-256 of the canonical JSON (object keys sorted recursively, no whitespace) of a normalized rule. */
export function ruleDigest(rule: unknown): Buffer {
  return createHash('sha256').update(canonicalJson(rule), 'utf8').digest();
}

/** The VALUE bytes of the 0x1054 item (u32le length + inner items): what the timestamp key signs. */
export function timestampBlock(content: ChallengeContent): Buffer {
  checkContent(content);
  const items: TlvItem[] = [
    { tag: CHALLENGE_TAG.PAYLOAD_DIGEST, value: content.payloadDigest },
    { tag: CHALLENGE_TAG.KEY_ID, value: uuidBytes(content.keyId) },
    { tag: CHALLENGE_TAG.KEY_VERSION, value: u32le(content.keyVersion) },
    { tag: CHALLENGE_TAG.PARAMETERS_DIGEST, value: content.parametersDigest },
  ];
  if (content.requestId !== null) {
    items.push({ tag: CHALLENGE_TAG.REQUEST_ID, value: uuidBytes(content.requestId) });
  }
  if (content.nonce !== null) items.push({ tag: CHALLENGE_TAG.NONCE, value: content.nonce });
  if (content.ruleDigest !== null) items.push({ tag: CHALLENGE_TAG.RULE_DIGEST, value: content.ruleDigest });
  items.push({ tag: CHALLENGE_TAG.CREATION_TIME, value: u64le(unixSeconds(content.createdAt)) });
  if (content.timestampKeyName !== null) {
    items.push({
      tag: CHALLENGE_TAG.TIMESTAMP_KEY_NAME,
      value: Buffer.from(content.timestampKeyName, 'utf8'),
    });
  }
  return encodeTlvFrame(items);
}

/**
 * The challenge bytes. `timestampSignature` is the raw DER ECDSA-Sig-Value of the timestamp key over
 * {@link timestampBlock}; it is wrapped here into SEQUENCE { AlgorithmIdentifier, BIT STRING }. Null for
 * a self-computed challenge.
 */
export function encodeChallenge(content: ChallengeContent, timestampSignature: Buffer | null): Buffer {
  const block = timestampBlock(content);
  const items: TlvItem[] = [
    { tag: CHALLENGE_TAG.OPERATION, value: u32le(SKA_OPERATION_CODES[content.operation]) },
    { tag: CHALLENGE_TAG.KEY_LABEL, value: Buffer.from(content.keyLabel, 'utf8') },
    { tag: CHALLENGE_TAG.TIMESTAMP, value: block },
  ];
  if (timestampSignature !== null) {
    items.push({ tag: CHALLENGE_TAG.TIMESTAMP_SIGNATURE, value: wrapTimestampSignature(timestampSignature) });
  }
  items.push({ tag: CHALLENGE_TAG.PAYLOAD_DIGEST, value: content.payloadDigest });
  return encodeTlvFrame(items);
}

/** What an approver tool needs to build a pre-signed approval's challenge. */
export interface SelfComputedInput {
  operation: SkaOperation;
  /** label (with a derivation path suffix if the request names one), `uuid` and `version` of the key */
  key: { label: string; id: string; version: number };
  /** {@link payloadDigest} of the operation's payload */
  payloadDigest: Buffer;
  /** `parametersDigest(operation, request)` of src/ska/operation-parameters.ts */
  parametersDigest: Buffer;
  createdAt: Date;
  /** 16 bytes; fresh random bytes when omitted */
  nonce?: Buffer;
}

/**
 * The challenge an approver builds itself for a synchronous endpoint (no request, rule or timestamp key):
 * a fresh nonce makes every such challenge distinct, and the service accepts each one once.
 */
export function selfComputedChallenge(input: SelfComputedInput): Buffer {
  const content = {
    operation: input.operation,
    keyLabel: input.key.label,
    keyId: input.key.id,
    keyVersion: input.key.version,
    payloadDigest: input.payloadDigest,
    parametersDigest: input.parametersDigest,
    createdAt: input.createdAt,
    nonce: input.nonce ?? randomBytes(NONCE_BYTES),
  };
  return encodeChallenge({ ...content, requestId: null, ruleDigest: null, timestampKeyName: null }, null);
}

export function decodeChallenge(bytes: Uint8Array): DecodedChallenge {
  try {
    return decodeChallengeItems(readTlvFrame(bytes, 'challenge'));
  } catch (err) {
    if (err instanceof TsbError) throw err;
    throw invalid(`challenge: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The TLV frame (shared with the TSB format)

/** `u32le length-of-rest`, then each item as `u16le tag, u16le length, value, zero padding to 4 bytes`. */
export function encodeTlvFrame(items: readonly TlvItem[]): Buffer {
  const body = Buffer.concat(items.map(encodeItem));
  return Buffer.concat([u32le(body.length), body]);
}

/**
 * Reads a TLV frame (a whole challenge, or the value of a 0x1054 item) into its items, checking the
 * length field, every item length and that padding bytes are zero. Does not interpret tags, so it
 * also reads the TSB's own challenges.
 */
export function readTlvFrame(bytes: Uint8Array, what = 'TLV frame'): TlvItem[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4)
    throw invalid(`${what}: truncated, ${buf.length} bytes is shorter than the length field`);
  const declared = buf.readUInt32LE(0);
  const actual = buf.length - 4;
  if (declared > actual) throw invalid(`${what}: truncated, declares ${declared} bytes but ${actual} follow`);
  if (declared < actual) throw invalid(`${what}: ${actual - declared} trailing bytes after the frame`);
  const items: TlvItem[] = [];
  for (let offset = 4; offset < buf.length; ) {
    const { item, next } = readItem(buf, offset, what);
    items.push(item);
    offset = next;
  }
  return items;
}

function encodeItem({ tag, value }: TlvItem): Buffer {
  if (value.length > MAX_ITEM_BYTES) {
    throw invalid(`challenge: ${tagName(tag)} is ${value.length} bytes, at most ${MAX_ITEM_BYTES} fit`);
  }
  const header = Buffer.alloc(4);
  header.writeUInt16LE(tag, 0);
  header.writeUInt16LE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc(paddedLength(value.length) - value.length)]);
}

function readItem(buf: Buffer, offset: number, what: string): { item: TlvItem; next: number } {
  if (offset + 4 > buf.length) throw invalid(`${what}: truncated item header at offset ${offset}`);
  const tag = buf.readUInt16LE(offset);
  const length = buf.readUInt16LE(offset + 2);
  const valueStart = offset + 4;
  const valueEnd = valueStart + length;
  const next = valueStart + paddedLength(length);
  if (valueEnd > buf.length) {
    throw invalid(
      `${what}: ${tagName(tag)} at offset ${offset} declares ${length} bytes, only ${buf.length - valueStart} left`,
    );
  }
  if (next > buf.length) throw invalid(`${what}: ${tagName(tag)} at offset ${offset} lacks its padding`);
  if (buf.subarray(valueEnd, next).some((byte) => byte !== 0)) {
    throw invalid(`${what}: non-zero padding after ${tagName(tag)} at offset ${offset}`);
  }
  return { item: { tag, value: Buffer.from(buf.subarray(valueStart, valueEnd)) }, next };
}

const paddedLength = (length: number): number => (length + 3) & ~3;

// ---------------------------------------------------------------------------------------------
// Decoding

function decodeChallengeItems(items: TlvItem[]): DecodedChallenge {
  const outer = new ItemCursor(items, 'challenge');
  const operation = readOperation(outer.take(CHALLENGE_TAG.OPERATION));
  const keyLabel = readUtf8(outer.take(CHALLENGE_TAG.KEY_LABEL), 'challenge key label');
  const block = outer.take(CHALLENGE_TAG.TIMESTAMP).value;
  const signatureItem = outer.optional(CHALLENGE_TAG.TIMESTAMP_SIGNATURE);
  const trailingDigest = readFixed(outer.take(CHALLENGE_TAG.PAYLOAD_DIGEST), DIGEST_BYTES, 'challenge');
  outer.end();

  const inner = decodeTimestampBlock(block);
  if (!trailingDigest.equals(inner.payloadDigest)) {
    throw invalid('challenge: the trailing payload digest differs from the one in the timestamp container');
  }
  return {
    content: { operation, keyLabel, ...inner },
    timestampBlock: block,
    timestampSignature: signatureItem ? unwrapTimestampSignature(signatureItem.value) : null,
  };
}

function decodeTimestampBlock(block: Buffer): Omit<ChallengeContent, 'operation' | 'keyLabel'> {
  const what = 'challenge timestamp container';
  const cursor = new ItemCursor(readTlvFrame(block, what), what);
  const payloadDigest = readFixed(cursor.take(CHALLENGE_TAG.PAYLOAD_DIGEST), DIGEST_BYTES, what);
  const keyId = uuidText(readFixed(cursor.take(CHALLENGE_TAG.KEY_ID), UUID_BYTES, what));
  const keyVersion = readFixed(cursor.take(CHALLENGE_TAG.KEY_VERSION), 4, what).readUInt32LE(0);
  const parametersItem = cursor.optional(CHALLENGE_TAG.PARAMETERS_DIGEST);
  if (!parametersItem) {
    throw invalid(
      `${what}: no operation parameters digest (tag 0x7F06) after the key version: a challenge of the ` +
        'earlier form (without parameters digest and nonce) is no longer accepted; build it as ' +
        'docs/approval-challenge.md describes',
    );
  }
  const parametersDigest = readFixed(parametersItem, DIGEST_BYTES, what);
  const requestIdItem = cursor.optional(CHALLENGE_TAG.REQUEST_ID);
  const nonceItem = cursor.optional(CHALLENGE_TAG.NONCE);
  if ((requestIdItem === undefined) === (nonceItem === undefined)) {
    throw invalid(
      `${what}: needs exactly one of request id (tag 0x7F02, workflow) and nonce (tag 0x7F07, pre-signed approval)`,
    );
  }
  const ruleDigestItem = cursor.optional(CHALLENGE_TAG.RULE_DIGEST);
  const createdAt = readCreationTime(cursor.take(CHALLENGE_TAG.CREATION_TIME));
  const keyNameItem = cursor.optional(CHALLENGE_TAG.TIMESTAMP_KEY_NAME);
  cursor.end();
  return {
    payloadDigest,
    keyId,
    keyVersion,
    parametersDigest,
    createdAt,
    requestId: requestIdItem ? uuidText(readFixed(requestIdItem, UUID_BYTES, what)) : null,
    nonce: nonceItem ? readFixed(nonceItem, NONCE_BYTES, what) : null,
    ruleDigest: ruleDigestItem ? readFixed(ruleDigestItem, DIGEST_BYTES, what) : null,
    timestampKeyName: keyNameItem ? readUtf8(keyNameItem, `${what} timestamp key name`) : null,
  };
}

/** Walks items in the one order the layout allows; anything else is unknown, duplicated or misplaced. */
class ItemCursor {
  private index = 0;

  constructor(
    private readonly items: TlvItem[],
    private readonly what: string,
  ) {}

  take(tag: number): TlvItem {
    const item = this.optional(tag);
    if (item) return item;
    const found = this.items[this.index];
    throw invalid(
      `${this.what}: expected ${tagName(tag)}, ${found ? `found ${tagName(found.tag)}` : 'but the items end'}`,
    );
  }

  optional(tag: number): TlvItem | undefined {
    const item = this.items[this.index];
    if (item?.tag !== tag) return undefined;
    this.index++;
    return item;
  }

  end(): void {
    const extra = this.items[this.index];
    if (extra) throw invalid(`${this.what}: unexpected ${tagName(extra.tag)} (item ${this.index + 1})`);
  }
}

function readOperation(item: TlvItem): SkaOperation {
  const code = readFixed(item, 4, 'challenge').readUInt32LE(0);
  const operation = (Object.keys(SKA_OPERATION_CODES) as SkaOperation[]).find(
    (name) => SKA_OPERATION_CODES[name] === code,
  );
  if (!operation) throw invalid(`challenge: unknown operation code ${code}`);
  return operation;
}

function readCreationTime(item: TlvItem): Date {
  const seconds = readFixed(item, 8, 'challenge timestamp container').readBigUInt64LE(0);
  if (seconds > BigInt(MAX_UNIX_SECONDS)) {
    throw invalid(`challenge: creation time ${seconds} is out of range`);
  }
  return new Date(Number(seconds) * 1000);
}

function readFixed(item: TlvItem, length: number, what: string): Buffer {
  if (item.value.length !== length) {
    throw invalid(`${what}: ${tagName(item.tag)} must be ${length} bytes, got ${item.value.length}`);
  }
  return item.value;
}

function readUtf8(item: TlvItem, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(item.value);
  } catch {
    throw invalid(`${what} is not valid UTF-8`);
  }
}

// ---------------------------------------------------------------------------------------------
// The 0x1056 timestamp signature: DER SEQUENCE { AlgorithmIdentifier, BIT STRING (ECDSA-Sig-Value) }

/** Also the task field `timestampSignatureWithAlgorithm` (level4): the 0x1056 item's value. */
export function wrapTimestampSignature(ecdsaSignature: Buffer): Buffer {
  checkEcdsaSigValue(ecdsaSignature, 'timestamp signature');
  return sequence(ECDSA_WITH_SHA256_ALGORITHM, bitString(ecdsaSignature));
}

function unwrapTimestampSignature(value: Buffer): Buffer {
  const what = 'challenge timestamp signature';
  try {
    const parts = children(expectTag(decode(value), TAG.SEQUENCE, 'SEQUENCE'));
    const [algorithm, bits] = parts;
    if (parts.length !== 2 || algorithm?.tag !== TAG.SEQUENCE || bits?.tag !== TAG.BIT_STRING) {
      throw new Asn1Error('expected SEQUENCE { AlgorithmIdentifier, BIT STRING }');
    }
    checkEcdsaWithSha256(children(algorithm));
    const signature = Buffer.from(readBitString(bits));
    checkEcdsaSigValue(signature, what);
    return signature;
  } catch (err) {
    if (err instanceof Asn1Error) throw invalid(`${what}: ${err.message}`);
    throw err;
  }
}

function checkEcdsaWithSha256(algorithm: Asn1Node[]): void {
  const [oid, parameters] = algorithm;
  if (algorithm.length !== 2 || !oid || parameters?.tag !== TAG.NULL || parameters.content.length !== 0) {
    throw new Asn1Error('AlgorithmIdentifier must be { ecdsa-with-SHA256, NULL }');
  }
  const dotted = readObjectIdentifier(oid);
  if (dotted !== OID_ECDSA_WITH_SHA256) throw new Asn1Error(`algorithm ${dotted} is not ecdsa-with-SHA256`);
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, both positive and minimally encoded. */
function checkEcdsaSigValue(signature: Buffer, what: string): void {
  try {
    const parts = children(expectTag(decode(signature), TAG.SEQUENCE, 'SEQUENCE'));
    const positiveIntegers = parts.every(
      (part) => part.tag === TAG.INTEGER && isMinimalPositive(part.content),
    );
    if (parts.length !== 2 || !positiveIntegers) throw new Asn1Error('not an ECDSA-Sig-Value');
  } catch (err) {
    if (err instanceof Asn1Error) throw invalid(`${what}: ${err.message}`);
    throw err;
  }
}

function isMinimalPositive(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) return false;
  if (bytes[0] === 0 && (bytes.length === 1 || (bytes[1]! & 0x80) === 0)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function checkContent(content: ChallengeContent): void {
  if (!Object.hasOwn(SKA_OPERATION_CODES, content.operation)) {
    throw invalid(`challenge: unknown operation ${String(content.operation)}`);
  }
  checkDigest(content.payloadDigest, 'payload digest');
  checkDigest(content.parametersDigest, 'operation parameters digest');
  if (content.ruleDigest !== null) checkDigest(content.ruleDigest, 'rule digest');
  if ((content.requestId === null) === (content.nonce === null)) {
    throw invalid('challenge: needs exactly one of request id (workflow) and nonce (pre-signed approval)');
  }
  if (content.nonce !== null && (!Buffer.isBuffer(content.nonce) || content.nonce.length !== NONCE_BYTES)) {
    throw invalid(`challenge: the nonce must be ${NONCE_BYTES} bytes`);
  }
  if (!UUID_PATTERN.test(content.keyId)) {
    throw new TsbError('INVALID_UUID', `challenge: key id "${content.keyId}" is not a UUID`);
  }
  if (!Number.isInteger(content.keyVersion) || content.keyVersion < 0 || content.keyVersion > 0xffffffff) {
    throw invalid('challenge: key version must be an integer from 0 to 4294967295');
  }
  if (content.requestId !== null && !UUID_PATTERN.test(content.requestId)) {
    throw new TsbError('INVALID_UUID', `challenge: request id "${content.requestId}" is not a UUID`);
  }
  unixSeconds(content.createdAt);
}

function checkDigest(digest: Buffer, what: string): void {
  if (!Buffer.isBuffer(digest) || digest.length !== DIGEST_BYTES) {
    throw invalid(`challenge: ${what} must be ${DIGEST_BYTES} bytes (SHA-256)`);
  }
}

function unixSeconds(date: Date): number {
  const seconds = Math.floor(date.getTime() / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw invalid('challenge: creation time must be a valid date after 1970-01-01');
  }
  return seconds;
}

function u32le(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(value, 0);
  return buf;
}

function u64le(value: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt(value), 0);
  return buf;
}

const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function tagName(tag: number): string {
  const hex = `0x${tag.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = TAG_NAMES[tag];
  return name ? `${name} (tag ${hex})` : `unknown tag ${hex}`;
}

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
