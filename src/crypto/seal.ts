import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope sealing: AES-256-GCM, a fresh 96-bit IV per seal, and AAD that binds the blob to
 * where it belongs (partition, key id), so a sealed value copied to another row never opens.
 * Layout: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
const VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + IV_LENGTH + TAG_LENGTH;

export class UnsealError extends Error {
  constructor() {
    super('sealed value could not be opened (wrong key, wrong binding or corrupted data)');
    this.name = 'UnsealError';
  }
}

export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  assertKey(key);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext]);
}

export function unseal(key: Buffer, sealed: Uint8Array, aad: string): Buffer {
  assertKey(key);
  if (sealed.length < HEADER_LENGTH || sealed[0] !== VERSION) throw new UnsealError();
  const blob = Buffer.from(sealed);
  const iv = blob.subarray(1, 1 + IV_LENGTH);
  const tag = blob.subarray(1 + IV_LENGTH, HEADER_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(HEADER_LENGTH)), decipher.final()]);
  } catch {
    throw new UnsealError();
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new Error('sealing key must be 32 bytes');
}

/** AAD of a partition key sealed under the master key. */
export const partitionKeyBinding = (partitionId: string): string => `opentsb:partition-key:${partitionId}`;
/** AAD of a key's private or secret material sealed under its partition key. */
export const keyMaterialBinding = (partitionId: string, keyId: string): string =>
  `opentsb:key:${partitionId}:${keyId}`;
/**
 * AAD of one column of a key row sealed under its partition key where the row is written out (the password
 * verifier in a partition backup): binds partition, key id and column name, so the sealed value neither opens
 * for another key nor passes for another column, nor for key material (whose AAD has another prefix).
 */
export const keyColumnBinding = (partitionId: string, keyId: string, column: string): string =>
  `opentsb:key-column:${partitionId}:${keyId}:${column}`;
/** AAD of the partition attestation key sealed under its partition key. */
export const attestationKeyBinding = (partitionId: string): string =>
  `opentsb:attestation-key:${partitionId}`;
/** AAD of the partition timestamp key (signs approval challenges) sealed under its partition key. */
export const timestampKeyBinding = (partitionId: string): string => `opentsb:timestamp-key:${partitionId}`;
/** What a sealed secret of an SKA request is: the key password it runs with, or a decryption result. */
export type RequestSecretPurpose = 'password' | 'result';

/** AAD of a secret kept with an SKA request; the purpose is bound so one can never pass for the other. */
export const requestSecretBinding = (
  partitionId: string,
  requestId: string,
  purpose: RequestSecretPurpose,
): string => `opentsb:request-${purpose}:${partitionId}:${requestId}`;
/** AAD of the service root CA key (PKCS#8) sealed under the master key. */
export const rootCaKeyBinding = (name: string): string => `opentsb:ca-root-key:${name}`;
/** AAD of the service device (intermediate CA) key (PKCS#8) sealed under the master key. */
export const deviceCaKeyBinding = (name: string): string => `opentsb:ca-device-key:${name}`;
