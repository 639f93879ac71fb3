import type { SkaPolicy } from '../../ska/policy.schema.js';
import type { KeyAttributesInput, PublicKeyAttributes } from '../key-attributes.js';
import type { PasswordInput } from '../key-password.js';

export interface CreateKeyInput {
  label: string;
  id?: string | null;
  password?: PasswordInput;
  algorithm: string;
  algorithmOid?: string | null;
  curveOid?: string | null;
  keySize?: number | null;
  addressFormat?: { format: string } | null;
  attributes: KeyAttributesInput;
  policy?: unknown;
}

export interface ImportKeyInput {
  label: string;
  id?: string | null;
  password?: PasswordInput;
  algorithm: string;
  curveOid?: string | null;
  privateKey?: string | null;
  publicKey?: string | null;
  secretKey?: string | null;
  certificate?: string | null;
  addressFormat?: { format: string } | null;
  attributes?: KeyAttributesInput | null;
  policy?: unknown;
}

/** `POST /v1/importedKey` with a seed: the master key of a BIP32 / SLIP-10 seed on the curve. */
export interface SeedImportInput {
  label: string;
  id?: string | null;
  password?: PasswordInput;
  curveOid: string;
  /** base64, 16 to 64 bytes */
  seed: string;
  addressFormat?: { format: string } | null;
  attributes: KeyAttributesInput;
  policy?: unknown;
}

/** The TSB `SignedKeyAttributes` response of create, attributes and import. */
export interface SignedKeyAttributes {
  xml: string;
  json: KeyAttributesJson;
  xmlSignature: string;
  attestationKeyName: string;
}

export interface KeyAttributesJson {
  label: string;
  id: string | null;
  uuid: string;
  /** OpenTSB: changes with every change of the key (block, unblock, policy, password); pre-signed approvals name it */
  version: number;
  algorithm: string;
  algorithmOid: string;
  curveOid: string | null;
  derivedAttributes: null | { derivationType: string; derivationValue: string };
  keySize: number | null;
  keyUsageCount: number;
  createTime: string;
  attestTime: string;
  publicKey: string | null;
  addressTruncated: null | { address: string; format: string };
  attributes: PublicKeyAttributes;
  policy: SkaPolicy | null;
  /** OpenTSB, stateful hash-based keys only: the key type the key was created with (e.g. `LMS`) */
  parameterSet?: string;
  /** OpenTSB, stateful hash-based keys only: signatures the key can still make (indices never reserved) */
  remainingSignatures?: number;
}

export interface ExportedKey {
  label: string;
  algorithm: string;
  privateKey: string | null;
  publicKey: string | null;
  secretKey: string | null;
  certificate: string | null;
}

export interface KeystoreStatistics {
  partition: string;
  keyCount: number;
  invalidatedKeyCount: number;
  keysByAlgorithm: Record<string, number>;
  keyCache: KeyCacheStatistics;
}

/** The bounded cache of ready key objects: entries now, most entries, lookups served and missed so far. */
export interface KeyCacheStatistics {
  size: number;
  capacity: number;
  hits: number;
  misses: number;
}
