/**
 * The encrypt and decrypt operations (reference §2.3, cipher names §7.3) on node:crypto (OpenSSL).
 *
 * Meaning of each `cipherAlgorithm` (the TSB publishes the names only; the choices follow the JCE
 * names the TSB maps them to, e.g. `RSA_PADDING_OAEP_WITH_SHA256` → `RSApaddingOAEPwithSHA256`):
 * - `RSA`, `RSA_PADDING_PKCS`: RSA PKCS#1 v1.5 (`RSA` is the JCE default transformation
 *   `RSA/ECB/PKCS1Padding`).
 * - `RSA_PADDING_OAEP`: OAEP with SHA-1 and MGF1-SHA-1 (JCE `RSA/ECB/OAEPPadding`).
 * - `RSA_PADDING_OAEP_WITH_SHAx`: OAEP with SHA-x and MGF1 over the same hash, empty label (what Go's
 *   `rsa.EncryptOAEP(sha256.New(), …)` produces, which Securosys' own clients pair with
 *   `RSA_PADDING_OAEP_WITH_SHA256`).
 * - `RSA_NO_PADDING`: raw RSA; the plaintext is left-padded with zeros to the modulus length and
 *   decryption returns the full block (plaintext right-aligned). Raw decryption is the signing operation,
 *   so the HSM core allows it only on a key that may sign (src/hsm/key-operations/encrypt-decrypt.ts).
 * - `AES`, `CAMELLIA`: CBC with PKCS#5/7 padding and a random 16-byte IV. (The block-cipher names
 *   otherwise list ECB, CBC without padding, CTR and GCM; CBC with padding is the one left, and TDEA
 *   names the same mode `TDEA_CBC`.)
 * - `AES_ECB`, `CAMELLIA_ECB`, `TDEA_ECB`: ECB with PKCS#5/7 padding, no IV.
 * - `*_CBC_NO_PADDING`: CBC without padding; the payload must be a multiple of the block size.
 * - `AES_CTR`: CTR with a random 16-byte initial counter block (JCE `AES/CTR/NoPadding`).
 * - `AES_GCM`: random 12-byte IV; `tagLength` in bits ∈ {64, 96, 104, 112, 120, 128}; 0 or absent
 *   means 128 (0 is what a Java client sends for an unset `int`); AAD from
 *   `additionalAuthenticationData`.
 * - `CHACHA20`: RFC 8439 ChaCha20 with a random 12-byte nonce (the `initializationVector`) and the
 *   block counter starting at 1 (as in RFC 8439 §2.4 and the JCE default). OpenSSL's 16-byte IV is
 *   the 32-bit little-endian counter followed by the nonce; clients only ever see the nonce.
 * - `CHACHA20_AEAD`: RFC 8439 ChaCha20-Poly1305, random 12-byte nonce, 16-byte tag (`tagLength`
 *   may only be 0, absent or 128).
 * - `TDEA_CBC`: CBC with PKCS#5 padding and a random 8-byte IV; 16-byte keys are two-key TDEA.
 *
 * Response layout (sample 12: 18-byte payload → 34-byte `encryptedPayload`, 18-byte payload without
 * MAC, 16-byte MAC, 12-byte IV): for the AEAD ciphers `encryptedPayload` = ciphertext ‖ tag, the
 * ciphertext and tag are also returned apart; other ciphers return the ciphertext and the IV (or
 * null) and null for both MAC fields. On decryption an AEAD `encryptedPayload` is ciphertext ‖ tag.
 *
 * Errors: an unknown cipher is UNSUPPORTED_CIPHER (629); a cipher the key cannot do is
 * ALGORITHM_NOT_SUPPORTED_BY_KEY (607); bad IV length or misplaced AAD is INPUT_VALIDATION_FAILED
 * (600, naming the field); a bad tag length is INVALID_TAG_LENGTH (624); a payload of the wrong size
 * is INVALID_PAYLOAD (612); failed authentication or padding is DECRYPT_FAILED (410) with the same
 * message whatever the cause.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { TsbError } from '../../errors.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import { type RsaScheme, rsaDecrypt, rsaDecryptOffThread, rsaEncrypt } from './ciphers-rsa.js';

export const CIPHER_ALGORITHMS = [
  'RSA',
  'RSA_PADDING_OAEP',
  'RSA_PADDING_OAEP_WITH_SHA1',
  'RSA_PADDING_OAEP_WITH_SHA224',
  'RSA_PADDING_OAEP_WITH_SHA256',
  'RSA_PADDING_OAEP_WITH_SHA384',
  'RSA_PADDING_OAEP_WITH_SHA512',
  'RSA_PADDING_PKCS',
  'RSA_NO_PADDING',
  'AES',
  'AES_GCM',
  'AES_CTR',
  'AES_ECB',
  'AES_CBC_NO_PADDING',
  'CHACHA20',
  'CHACHA20_AEAD',
  'CAMELLIA',
  'CAMELLIA_CBC_NO_PADDING',
  'CAMELLIA_ECB',
  'TDEA_CBC',
  'TDEA_ECB',
  'TDEA_CBC_NO_PADDING',
] as const;

export type CipherAlgorithm = (typeof CIPHER_ALGORITHMS)[number];

/** An RSA public key (a public-only key of the store, or the public half of a pair). */
export interface RsaPublicKey {
  kind: 'rsa-public';
  key: KeyObject;
}

/** What `encrypt` takes: a loaded key (RSA: its public half is used) or an RSA public key. */
export type EncryptionKey = ReadyKey | RsaPublicKey;

export interface EncryptRequest {
  cipherAlgorithm: string;
  payload: Buffer;
  /** bits; AES_GCM and CHACHA20_AEAD only */
  tagLength?: number | null;
  additionalAuthenticationData?: Buffer | null;
}

export interface DecryptRequest {
  cipherAlgorithm: string;
  /** AEAD ciphers: ciphertext ‖ tag */
  encryptedPayload: Buffer;
  initializationVector?: Buffer | null;
  tagLength?: number | null;
  additionalAuthenticationData?: Buffer | null;
}

export interface EncryptResult {
  encryptedPayload: Buffer;
  encryptedPayloadWithoutMessageAuthenticationCode: Buffer | null;
  initializationVector: Buffer | null;
  messageAuthenticationCode: Buffer | null;
}

type SecretFamily = 'AES' | 'ChaCha20' | 'Camellia' | 'TDEA';
type BlockMode = 'cbc' | 'ecb' | 'ctr';

type CipherSpec =
  | { family: 'RSA'; scheme: RsaScheme }
  | { family: 'AES' | 'Camellia' | 'TDEA'; mode: BlockMode; padding: boolean }
  | { family: 'AES'; mode: 'gcm' }
  | { family: 'ChaCha20'; mode: 'chacha20' | 'chacha20-poly1305' };

const oaep = (hash: 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512'): CipherSpec => ({
  family: 'RSA',
  scheme: { padding: 'oaep', hash },
});

const SPECS: Record<CipherAlgorithm, CipherSpec> = {
  RSA: { family: 'RSA', scheme: { padding: 'pkcs1' } },
  RSA_PADDING_PKCS: { family: 'RSA', scheme: { padding: 'pkcs1' } },
  RSA_PADDING_OAEP: oaep('sha1'),
  RSA_PADDING_OAEP_WITH_SHA1: oaep('sha1'),
  RSA_PADDING_OAEP_WITH_SHA224: oaep('sha224'),
  RSA_PADDING_OAEP_WITH_SHA256: oaep('sha256'),
  RSA_PADDING_OAEP_WITH_SHA384: oaep('sha384'),
  RSA_PADDING_OAEP_WITH_SHA512: oaep('sha512'),
  RSA_NO_PADDING: { family: 'RSA', scheme: { padding: 'none' } },
  AES: { family: 'AES', mode: 'cbc', padding: true },
  AES_GCM: { family: 'AES', mode: 'gcm' },
  AES_CTR: { family: 'AES', mode: 'ctr', padding: false },
  AES_ECB: { family: 'AES', mode: 'ecb', padding: true },
  AES_CBC_NO_PADDING: { family: 'AES', mode: 'cbc', padding: false },
  CHACHA20: { family: 'ChaCha20', mode: 'chacha20' },
  CHACHA20_AEAD: { family: 'ChaCha20', mode: 'chacha20-poly1305' },
  CAMELLIA: { family: 'Camellia', mode: 'cbc', padding: true },
  CAMELLIA_CBC_NO_PADDING: { family: 'Camellia', mode: 'cbc', padding: false },
  CAMELLIA_ECB: { family: 'Camellia', mode: 'ecb', padding: true },
  TDEA_CBC: { family: 'TDEA', mode: 'cbc', padding: true },
  TDEA_ECB: { family: 'TDEA', mode: 'ecb', padding: true },
  TDEA_CBC_NO_PADDING: { family: 'TDEA', mode: 'cbc', padding: false },
};

export const isCipherAlgorithm = (name: string): name is CipherAlgorithm =>
  (CIPHER_ALGORITHMS as readonly string[]).includes(name);

/** The canonical cipher name (trimmed, upper case); UNSUPPORTED_CIPHER otherwise. */
export function cipherAlgorithmOf(name: unknown): CipherAlgorithm {
  const upper = typeof name === 'string' ? name.trim().toUpperCase() : '';
  if (isCipherAlgorithm(upper)) return upper;
  const shown = typeof name === 'string' ? name.slice(0, 40) : String(name);
  throw new TsbError(
    'UNSUPPORTED_CIPHER',
    `unsupported cipherAlgorithm "${shown}"; supported: ${CIPHER_ALGORITHMS.join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Keys

const keyName = (key: EncryptionKey): string => (key.kind === 'rsa-public' ? 'RSA public' : key.algorithm);

const notSupported = (cipher: CipherAlgorithm, key: EncryptionKey) =>
  new TsbError(
    'ALGORITHM_NOT_SUPPORTED_BY_KEY',
    `cipher ${cipher} cannot be used with a ${keyName(key)} key`,
  );

function isRsaKeyObject(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa';
}

/** The RSA public key of an encryption key; 607 when it is not an RSA key. */
export function rsaPublicKeyOf(key: EncryptionKey, cipher: CipherAlgorithm): KeyObject {
  if (key.kind === 'rsa-public' && isRsaKeyObject(key.key)) return key.key;
  if (key.kind === 'node' && key.algorithm === 'RSA' && isRsaKeyObject(key.publicKey)) return key.publicKey;
  throw notSupported(cipher, key);
}

/** The RSA private key of a decryption key; 607 when not RSA, 614 for a public key only. */
export function rsaPrivateKeyOf(key: EncryptionKey, cipher: CipherAlgorithm): KeyObject {
  if (key.kind === 'node' && key.algorithm === 'RSA' && isRsaKeyObject(key.key)) return key.key;
  if (key.kind === 'rsa-public') {
    throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', 'the key holds only a public key');
  }
  throw notSupported(cipher, key);
}

function secretKeyOf(key: EncryptionKey, family: SecretFamily, cipher: CipherAlgorithm): KeyObject {
  if (key.kind === 'secret' && key.algorithm === family) return key.key;
  throw notSupported(cipher, key);
}

// ---------------------------------------------------------------------------------------------
// Parameters

const GCM_TAG_BITS = [64, 96, 104, 112, 120, 128] as const;

/** The tag length in bytes of an AEAD cipher; 0, null or absent means 128 bits. */
function tagBytes(spec: CipherSpec, tagLength: number | null | undefined): number {
  if (tagLength === null || tagLength === undefined || tagLength === 0) return 16;
  const allowed: readonly number[] =
    spec.family === 'AES' && 'mode' in spec && spec.mode === 'gcm' ? GCM_TAG_BITS : [128];
  if (typeof tagLength !== 'number' || !allowed.includes(tagLength)) {
    throw new TsbError(
      'INVALID_TAG_LENGTH',
      `tagLength ${String(tagLength).slice(0, 20)} is not supported; allowed: ${allowed.join(', ')} bits (0 = 128)`,
    );
  }
  return tagLength / 8;
}

const isAead = (spec: CipherSpec): boolean =>
  'mode' in spec && (spec.mode === 'gcm' || spec.mode === 'chacha20-poly1305');

function aadOf(spec: CipherSpec, cipher: CipherAlgorithm, aad: Buffer | null | undefined): Buffer | null {
  if (aad === null || aad === undefined || aad.length === 0) return null;
  if (!isAead(spec)) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `additionalAuthenticationData is only used by AES_GCM and CHACHA20_AEAD, not by ${cipher}`,
    );
  }
  return aad;
}

const BLOCK_BYTES: Record<'AES' | 'Camellia' | 'TDEA', number> = { AES: 16, Camellia: 16, TDEA: 8 };

/** The OpenSSL cipher name of a block cipher mode for a key of the given length. */
function blockCipherName(family: 'AES' | 'Camellia' | 'TDEA', mode: BlockMode, keyBytes: number): string {
  if (family === 'TDEA') return `${keyBytes === 16 ? 'des-ede' : 'des-ede3'}-${mode}`;
  return `${family === 'AES' ? 'aes' : 'camellia'}-${keyBytes * 8}-${mode}`;
}

/** The IV length the client sees (0 = no IV). */
function ivBytes(spec: CipherSpec): number {
  if (spec.family === 'RSA') return 0;
  switch (spec.mode) {
    case 'ecb':
      return 0;
    case 'cbc':
      return BLOCK_BYTES[spec.family];
    case 'ctr':
      return 16;
    case 'gcm':
    case 'chacha20':
    case 'chacha20-poly1305':
      return 12;
  }
}

function checkIv(cipher: CipherAlgorithm, expected: number, iv: Buffer | null | undefined): Buffer {
  if (iv === null || iv === undefined || iv.length === 0) {
    throw new TsbError('INPUT_VALIDATION_FAILED', `initializationVector is required for ${cipher}`);
  }
  if (iv.length !== expected) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `initializationVector must be ${expected} bytes for ${cipher}, not ${iv.length}`,
    );
  }
  return iv;
}

/** OpenSSL's chacha20 IV: the 32-bit little-endian block counter (1) followed by the 12-byte nonce. */
const chacha20Iv = (nonce: Buffer): Buffer => Buffer.concat([Buffer.of(1, 0, 0, 0), nonce]);

const decryptFailed = () => new TsbError('DECRYPT_FAILED', 'decryption failed');

function checkBlockMultiple(cipher: CipherAlgorithm, block: number, length: number, what: string): void {
  if (length % block !== 0) {
    throw new TsbError(
      'INVALID_PAYLOAD',
      `the ${what} must be a multiple of ${block} bytes for ${cipher}, not ${length} bytes`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Operations

export function encrypt(key: EncryptionKey, request: EncryptRequest): EncryptResult {
  const cipher = cipherAlgorithmOf(request.cipherAlgorithm);
  const spec = SPECS[cipher];
  const payload = request.payload;
  const result = (
    encryptedPayload: Buffer,
    initializationVector: Buffer | null = null,
    tag: Buffer | null = null,
  ): EncryptResult => ({
    encryptedPayload: tag ? Buffer.concat([encryptedPayload, tag]) : encryptedPayload,
    encryptedPayloadWithoutMessageAuthenticationCode: tag ? encryptedPayload : null,
    initializationVector,
    messageAuthenticationCode: tag,
  });

  if (spec.family === 'RSA') {
    const publicKey = rsaPublicKeyOf(key, cipher);
    aadOf(spec, cipher, request.additionalAuthenticationData);
    return result(rsaEncrypt(publicKey, spec.scheme, payload));
  }
  const secret = secretKeyOf(key, spec.family, cipher);
  const aad = aadOf(spec, cipher, request.additionalAuthenticationData);
  const iv = randomBytes(ivBytes(spec));

  switch (spec.mode) {
    case 'gcm':
    case 'chacha20-poly1305': {
      const tagLength = tagBytes(spec, request.tagLength);
      const name = spec.mode === 'gcm' ? `aes-${secret.symmetricKeySize! * 8}-gcm` : 'chacha20-poly1305';
      const c = createCipheriv(name as 'aes-256-gcm', secret, iv, { authTagLength: tagLength });
      if (aad) c.setAAD(aad);
      const ciphertext = Buffer.concat([c.update(payload), c.final()]);
      return result(ciphertext, iv, c.getAuthTag());
    }
    case 'chacha20': {
      const c = createCipheriv('chacha20', secret, chacha20Iv(iv));
      return result(Buffer.concat([c.update(payload), c.final()]), iv);
    }
    default: {
      const block = BLOCK_BYTES[spec.family];
      if (!spec.padding && spec.mode !== 'ctr') checkBlockMultiple(cipher, block, payload.length, 'payload');
      const name = blockCipherName(spec.family, spec.mode, secret.symmetricKeySize!);
      const c = createCipheriv(name, secret, spec.mode === 'ecb' ? null : iv);
      c.setAutoPadding(spec.padding);
      const ciphertext = Buffer.concat([c.update(payload), c.final()]);
      return result(ciphertext, spec.mode === 'ecb' ? null : iv);
    }
  }
}

/** The private key of an RSA decryption (an RSA cipher takes no additional authentication data). */
function rsaDecryptionKey(key: EncryptionKey, cipher: CipherAlgorithm, request: DecryptRequest): KeyObject {
  const privateKey = rsaPrivateKeyOf(key, cipher);
  aadOf(SPECS[cipher], cipher, request.additionalAuthenticationData);
  return privateKey;
}

/** `decrypt`, with an RSA key's private operation in a worker thread (rsaDecryptOffThread); the others are cheap. */
export async function decryptOffThread(key: EncryptionKey, request: DecryptRequest): Promise<Buffer> {
  const cipher = cipherAlgorithmOf(request.cipherAlgorithm);
  const spec = SPECS[cipher];
  if (spec.family !== 'RSA') return decrypt(key, request);
  return rsaDecryptOffThread(rsaDecryptionKey(key, cipher, request), spec.scheme, request.encryptedPayload);
}

/** Decrypts and returns the payload. */
export function decrypt(key: EncryptionKey, request: DecryptRequest): Buffer {
  const cipher = cipherAlgorithmOf(request.cipherAlgorithm);
  const spec = SPECS[cipher];
  const data = request.encryptedPayload;

  if (spec.family === 'RSA') return rsaDecrypt(rsaDecryptionKey(key, cipher, request), spec.scheme, data);
  const secret = secretKeyOf(key, spec.family, cipher);
  const aad = aadOf(spec, cipher, request.additionalAuthenticationData);
  const ivLength = ivBytes(spec);
  const iv = ivLength === 0 ? null : checkIv(cipher, ivLength, request.initializationVector);

  switch (spec.mode) {
    case 'gcm':
    case 'chacha20-poly1305': {
      const tagLength = tagBytes(spec, request.tagLength);
      if (data.length < tagLength) {
        throw new TsbError(
          'INVALID_PAYLOAD',
          `the encrypted payload (${data.length} bytes) is shorter than the ${tagLength * 8}-bit tag`,
        );
      }
      const name = spec.mode === 'gcm' ? `aes-${secret.symmetricKeySize! * 8}-gcm` : 'chacha20-poly1305';
      const d = createDecipheriv(name as 'aes-256-gcm', secret, iv!, { authTagLength: tagLength });
      d.setAuthTag(data.subarray(data.length - tagLength));
      if (aad) d.setAAD(aad);
      try {
        return Buffer.concat([d.update(data.subarray(0, data.length - tagLength)), d.final()]);
      } catch {
        throw decryptFailed();
      }
    }
    case 'chacha20': {
      const d = createDecipheriv('chacha20', secret, chacha20Iv(iv!));
      return Buffer.concat([d.update(data), d.final()]);
    }
    default: {
      const block = BLOCK_BYTES[spec.family];
      if (spec.mode !== 'ctr') {
        checkBlockMultiple(cipher, block, data.length, 'encrypted payload');
        if (spec.padding && data.length === 0) {
          throw new TsbError('INVALID_PAYLOAD', `the encrypted payload is empty`);
        }
      }
      const name = blockCipherName(spec.family, spec.mode, secret.symmetricKeySize!);
      const d = createDecipheriv(name, secret, iv);
      d.setAutoPadding(spec.padding);
      try {
        return Buffer.concat([d.update(data), d.final()]);
      } catch {
        throw decryptFailed();
      }
    }
  }
}
