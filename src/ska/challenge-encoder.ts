/** Builds challenges: the service's (workflow) and the self-computed ones of approver tools (pre-signed). */
import { randomBytes } from 'node:crypto';
import { TsbError } from '../errors.js';
import { UUID_PATTERN } from '../lib/encoding.js';
import {
  CHALLENGE_TAG,
  type ChallengeContent,
  DIGEST_BYTES,
  NONCE_BYTES,
  SKA_OPERATION_CODES,
  type SkaOperation,
} from './challenge.js';
import { encodeTlvFrame, type TlvItem, u32le, u64le } from './challenge-frame.js';
import { wrapTimestampSignature } from './challenge-timestamp-signature.js';

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

const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
