/**
 * The `approvalToBeSigned` challenge that SKA approvers sign (reference §4.4, layout and rationale in
 * docs/approval-challenge.md): what it holds, its operation codes and tags, and the digests it binds.
 * OpenTSB keeps the TSB frame (challenge-frame.ts) and the TSB tags it can, and adds private tags
 * (0x7Fxx) for what the challenge must bind: payload digest, key id and version, the operation
 * parameters digest, request id (workflow) or nonce (pre-signed), and the digest of the frozen rule.
 * Built by challenge-encoder.ts, read by challenge-decoder.ts.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.js';

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

export const DIGEST_BYTES = 32;
export const UUID_BYTES = 16;
export const NONCE_BYTES = 16;

export function payloadDigest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** SHA-256 of the canonical JSON (object keys sorted recursively, no whitespace) of a normalized rule. */
export function ruleDigest(rule: unknown): Buffer {
  return createHash('sha256').update(canonicalJson(rule), 'utf8').digest();
}
