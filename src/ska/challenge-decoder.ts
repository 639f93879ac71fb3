/**
 * Reads challenges. Decoding is strict: any malformed, truncated, reordered, duplicated, unknown or
 * trailing input is a TsbError INPUT_VALIDATION_FAILED (600), never another exception.
 */
import { TsbError } from '../errors.js';
import {
  CHALLENGE_TAG,
  type ChallengeContent,
  type DecodedChallenge,
  DIGEST_BYTES,
  NONCE_BYTES,
  SKA_OPERATION_CODES,
  type SkaOperation,
  UUID_BYTES,
} from './challenge.js';
import { readTlvFrame, type TlvItem, tagName } from './challenge-frame.js';
import { unwrapTimestampSignature } from './challenge-timestamp-signature.js';

/** The largest Unix time a JS Date can hold (±8.64e15 ms). */
const MAX_UNIX_SECONDS = 8_640_000_000_000;

export function decodeChallenge(bytes: Uint8Array): DecodedChallenge {
  try {
    return decodeChallengeItems(readTlvFrame(bytes, 'challenge'));
  } catch (err) {
    if (err instanceof TsbError) throw err;
    throw invalid(`challenge: ${(err as Error).message}`);
  }
}

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

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
