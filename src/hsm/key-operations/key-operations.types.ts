/** What the key operations take and answer (the TSB request bodies of reference §2.3), and what they report. */
import type { KeyAttributesInput } from '../../keystore/key-attributes.js';
import type { PasswordInput } from '../../keystore/key-password.js';

export interface SignInput {
  payload: string;
  payloadType?: string | null;
  signKeyName: string;
  signKeyObject?: unknown;
  keyPassword?: PasswordInput;
  metaData?: string | null;
  metaDataSignature?: string | null;
  signatureAlgorithm: string;
  signatureType?: string | null;
  context?: string | null;
}

export interface VerifyInput {
  verifySignatureRequest?: {
    signKeyName: string;
    signKeyObject?: unknown;
    masterKeyPassword?: PasswordInput;
    keyPassword?: PasswordInput;
    signatureAlgorithm: string;
    payload: string;
    payloadType?: string | null;
    signature: string;
    signatureType?: string | null;
    context?: string | null;
  } | null;
  verifyHmacRequest?: {
    keyName: string;
    keyPassword?: PasswordInput;
    payload: string;
    signature: string;
  } | null;
}

export interface EncryptInput {
  payload: string;
  encryptKeyName: string;
  keyPassword?: PasswordInput;
  cipherAlgorithm: string;
  tagLength?: number | null;
  additionalAuthenticationData?: string | null;
}

export interface DecryptInput {
  encryptedPayload: string;
  decryptKeyName: string;
  keyPassword?: PasswordInput;
  cipherAlgorithm: string;
  initializationVector?: string | null;
  tagLength?: number | null;
  additionalAuthenticationData?: string | null;
}

export interface WrapInput {
  keyToBeWrapped: string;
  keyToBeWrappedPassword?: PasswordInput;
  wrapKeyName: string;
  wrapKeyPassword?: PasswordInput;
  wrapMethod: string;
}

export interface UnwrapInput {
  wrappedKey: string;
  label: string;
  unwrapKeyName: string;
  unwrapKeyPassword?: PasswordInput;
  wrapMethod: string;
  algorithm?: string | null;
  attributes: KeyAttributesInput;
  policy?: unknown;
}

export interface DeriveInput {
  label: string;
  newLabel: string;
  password?: PasswordInput;
  newPassword?: PasswordInput;
  attributes?: KeyAttributesInput | null;
}

export interface EncryptResponse {
  encryptedPayload: string;
  encryptedPayloadWithoutMessageAuthenticationCode: string | null;
  initializationVector: string | null;
  messageAuthenticationCode: string | null;
}

/** The operations `KeyOperations.observe` reports, one event per completed operation. */
export type KeyOperationName =
  | 'sign'
  | 'verify'
  | 'hmac'
  | 'encrypt'
  | 'decrypt'
  | 'wrap'
  | 'unwrap'
  | 'derive';

/** A completed operation: what ran and the algorithm of the key it used (never the key's name or id). */
export interface KeyOperationEvent {
  operation: KeyOperationName;
  algorithm: string;
  /** from the operation's start (key lookup included) to its use being counted */
  seconds: number;
  /** a signature of a stateful hash-based key: the index it used and what the key has left */
  stateful?: { keyId: string; label: string; index: number; remaining: number; limit: number };
}

/** `/v1/fileEncrypt`: the key the file is encrypted to. */
export interface FileEncryptInput {
  encryptKeyName: string;
  keyPassword?: PasswordInput;
}
