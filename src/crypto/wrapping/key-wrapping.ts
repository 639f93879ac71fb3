/**
 * Key wrapping and unwrapping (reference §2.3 wrap/unwrap, method names §7.4) on node:crypto and,
 * for ML-KEM, noble.
 *
 * What is wrapped: a secret key as its raw bytes; a private key as its PKCS#8 DER (the form the key
 * store keeps). A key holding only a public key cannot be wrapped.
 *
 * Methods:
 * - `AES_WRAP`: RFC 3394 AES key wrap (default IV A6A6A6A6A6A6A6A6) with an AES key. The input must
 *   be a multiple of 8 bytes and at least 16 bytes: secret keys that are not (some HMAC keys) are
 *   INVALID_PAYLOAD — use `AES_WRAP_PAD`.
 * - `AES_WRAP_PAD`: RFC 5649 AES key wrap with padding (AIV A65959A6‖MLI) with an AES key.
 * - `AES_WRAP_{DSA,EC,ED,RSA,BLS}` / `AES_WRAP_PAD_{…}`: as above, for a private key of that family
 *   (any other key is ALGORITHM_NOT_SUPPORTED_BY_KEY). RFC 3394 needs whole 8-byte blocks; PKCS#8 DER
 *   rarely is, so the non-PAD variants append zero bytes up to the next multiple of 8: DER is
 *   self-delimiting, and unwrapping a private key drops the (< 8, all-zero) bytes after the outer SEQUENCE
 *   (a secret key comes back with all its bytes, even when they look like such DER). (Sample
 *   16 of the reference wraps an EC key with `AES_WRAP_EC`, so refusing such lengths is not an option.)
 *   `AES_WRAP` / `AES_WRAP_PAD` without suffix also take private keys (e.g. ML-DSA, which has no
 *   family variant); `AES_WRAP` pads their DER the same way.
 * - `RSA_WRAP_PAD`: RSA PKCS#1 v1.5 encryption of a secret key's bytes.
 * - `RSA_WRAP_OAEP`: RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label, of a secret key's bytes
 *   (the OAEP variant of key-import schemes such as PKCS#11 CKM_RSA_PKCS_OAEP with SHA-256 as used by
 *   the cloud KMS import flows). RSA wraps secret keys only: a private key is
 *   ALGORITHM_NOT_SUPPORTED_BY_KEY (wrap it with an AES method instead).
 * - `ML-KEM-512|768|1024` (OpenTSB extension; the TSB lists the names but does not accept them):
 *   with an ML-KEM key of that parameter set, encapsulate to its public key, derive a 256-bit KEK as
 *   HKDF-SHA-256(IKM = shared secret, salt = empty, info = "OpenTSB ML-KEM key wrap v1", L = 32),
 *   and wrap the key with RFC 5649 under that KEK. Output = KEM ciphertext ‖ RFC 5649 output. Takes
 *   secret and private keys.
 *
 * Unwrapping: the target algorithm is `target.algorithm` when given; for the family methods it is the
 * family (a different `target.algorithm` is ALGORITHM_NOT_SUPPORTED_BY_KEY); otherwise it is read from
 * the PKCS#8 algorithm OID when the bytes are a PKCS#8 structure of a known algorithm, else AES. The
 * bytes are then checked by `importKey` (sizes, structure, curve). Unwrapping fails with
 * DECRYPT_FAILED (410) when the integrity check fails (or RSA padding is bad), with one message.
 *
 * Wrong wrapping-key type for the method: ALGORITHM_NOT_SUPPORTED_BY_KEY (607); unknown method:
 * UNSUPPORTED_CIPHER (629).
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  createSecretKey,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { TsbError } from '../../errors.js';
import {
  CURVES,
  isMlKem,
  isSymmetric,
  type KeyAlgorithm,
  ML_KEM_ALGORITHMS,
  type MlKemAlgorithm,
  OIDS,
  PQ_PARAMS,
} from '../algorithms.js';
import { type RsaPublicKey, rsaPrivateKeyOf, rsaPublicKeyOf } from '../ciphers/ciphers.js';
import { type RsaScheme, rsaDecrypt, rsaDecryptOffThread, rsaEncrypt } from '../ciphers/ciphers-rsa.js';
import {
  type ImportInput,
  type KeyMaterial,
  peekAlgorithmOid,
  type ReadyKey,
} from '../mechanisms/key-material.js';
import { importKey, importKeyOffThread } from '../mechanisms/key-mechanisms.js';
import { ML_KEM } from '../mechanisms/ml-kem.js';
import { mlKemDecapsulate, mlKemEncapsulate } from '../mechanisms/ml-kem-encapsulation.js';
import { decodeSpki } from '../spki-pkcs8.js';

const FAMILIES = ['DSA', 'EC', 'ED', 'RSA', 'BLS'] as const;
type Family = (typeof FAMILIES)[number];

export const WRAP_METHODS = [
  'AES_WRAP',
  ...FAMILIES.map((family) => `AES_WRAP_${family}` as const),
  'AES_WRAP_PAD',
  ...FAMILIES.map((family) => `AES_WRAP_PAD_${family}` as const),
  'RSA_WRAP_PAD',
  'RSA_WRAP_OAEP',
  ...ML_KEM_ALGORITHMS,
] as const;

export type WrapMethod = (typeof WRAP_METHODS)[number];

/** An ML-KEM public key (a public-only key of the store). */
export interface MlKemPublicKey {
  kind: 'ml-kem-public';
  algorithm: MlKemAlgorithm;
  publicKey: Uint8Array;
}

/** A public key given for wrapping (RSA or ML-KEM public-only keys). */
export type PublicKeyInput = RsaPublicKey | MlKemPublicKey;

/** What `wrapKey` takes: a loaded key (asymmetric: its public half is used) or a public key. */
export type WrappingKey = ReadyKey | PublicKeyInput;

type MethodSpec =
  | { kind: 'aes'; pad: boolean; family: Family | null }
  | { kind: 'rsa'; scheme: RsaScheme }
  | { kind: 'ml-kem'; algorithm: MlKemAlgorithm };

function methodSpec(method: WrapMethod): MethodSpec {
  if (method === 'RSA_WRAP_PAD') return { kind: 'rsa', scheme: { padding: 'pkcs1' } };
  if (method === 'RSA_WRAP_OAEP') return { kind: 'rsa', scheme: { padding: 'oaep', hash: 'sha256' } };
  if (isMlKem(method as KeyAlgorithm)) return { kind: 'ml-kem', algorithm: method as MlKemAlgorithm };
  const match = /^AES_WRAP(_PAD)?(?:_(DSA|EC|ED|RSA|BLS))?$/.exec(method)!;
  return { kind: 'aes', pad: match[1] !== undefined, family: (match[2] as Family | undefined) ?? null };
}

/** The canonical wrap method (trimmed, upper case); UNSUPPORTED_CIPHER otherwise. */
export function wrapMethodOf(name: unknown): WrapMethod {
  const upper = typeof name === 'string' ? name.trim().toUpperCase() : '';
  if ((WRAP_METHODS as readonly string[]).includes(upper)) return upper as WrapMethod;
  const shown = typeof name === 'string' ? name.slice(0, 40) : String(name);
  throw new TsbError(
    'UNSUPPORTED_CIPHER',
    `unsupported wrapMethod "${shown}"; supported: ${WRAP_METHODS.join(', ')}`,
  );
}

/** The wrapping input of a public-only key of the store (RSA or ML-KEM SPKI); 607 for other algorithms. */
export function publicKeyInput(material: KeyMaterial): PublicKeyInput {
  if (!material.publicKey) {
    throw new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', `a ${material.algorithm} key has no public key`);
  }
  if (material.algorithm === 'RSA') {
    return {
      kind: 'rsa-public',
      key: createPublicKey({ key: material.publicKey, format: 'der', type: 'spki' }),
    };
  }
  if (isMlKem(material.algorithm)) {
    return {
      kind: 'ml-kem-public',
      algorithm: material.algorithm,
      publicKey: decodeSpki(material.publicKey).publicKey,
    };
  }
  throw new TsbError(
    'ALGORITHM_NOT_SUPPORTED_BY_KEY',
    `a ${material.algorithm} public key cannot be used to wrap keys`,
  );
}

// ---------------------------------------------------------------------------------------------
// AES key wrap (RFC 3394 / RFC 5649) on OpenSSL

const RFC3394_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const RFC5649_AIV = Buffer.from('A65959A6', 'hex');

function aesKwName(kek: KeyObject, pad: boolean): string {
  const bits = kek.symmetricKeySize! * 8;
  return `id-aes${bits}-wrap${pad ? '-pad' : ''}`;
}

/** RFC 3394 (pad = false; input a multiple of 8, ≥ 16 bytes) or RFC 5649 (pad = true; 1 byte or more). */
export function aesKeyWrap(kek: KeyObject, pad: boolean, data: Buffer): Buffer {
  if (pad ? data.length === 0 : data.length < 16 || data.length % 8 !== 0) {
    throw new TsbError(
      'INVALID_PAYLOAD',
      pad
        ? 'there is nothing to wrap'
        : `RFC 3394 key wrap takes a multiple of 8 bytes (at least 16), not ${data.length} bytes; use AES_WRAP_PAD`,
    );
  }
  const cipher = createCipheriv(aesKwName(kek, pad), kek, pad ? RFC5649_AIV : RFC3394_IV);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

const unwrapFailed = () => new TsbError('DECRYPT_FAILED', 'the wrapped key could not be unwrapped');

/** The inverse of `aesKeyWrap`; a failed integrity check is DECRYPT_FAILED. */
export function aesKeyUnwrap(kek: KeyObject, pad: boolean, wrapped: Buffer): Buffer {
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) {
    throw new TsbError(
      'INVALID_PAYLOAD',
      `a wrapped key is a multiple of 8 bytes (at least 16), not ${wrapped.length} bytes`,
    );
  }
  try {
    const decipher = createDecipheriv(aesKwName(kek, pad), kek, pad ? RFC5649_AIV : RFC3394_IV);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    throw unwrapFailed();
  }
}

/** Zero bytes up to the next multiple of 8 (DER is self-delimiting). */
function padDer(der: Buffer): Buffer {
  const extra = (8 - (der.length % 8)) % 8;
  return extra === 0 ? der : Buffer.concat([der, Buffer.alloc(extra)]);
}

/** The DER element at the start, when the bytes after it are fewer than 8 zero bytes; else the input. */
function stripDerPadding(data: Buffer): Buffer {
  if (data.length < 2 || data[0] !== 0x30) return data;
  let length = data[1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || data.length < 2 + count) return data;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + data[2 + i]!;
    header += count;
  }
  const end = header + length;
  if (end > data.length || data.length - end >= 8) return data;
  if (!data.subarray(end).every((byte) => byte === 0)) return data;
  return data.subarray(0, end);
}

// ---------------------------------------------------------------------------------------------
// ML-KEM key wrap

const ML_KEM_KDF_INFO = Buffer.from('OpenTSB ML-KEM key wrap v1', 'ascii');

function mlKemKek(sharedSecret: Uint8Array): KeyObject {
  const kek = Buffer.from(hkdfSync('sha256', sharedSecret, Buffer.alloc(0), ML_KEM_KDF_INFO, 32));
  return createSecretKey(kek);
}

// ---------------------------------------------------------------------------------------------
// Helpers

const notSupported = (message: string) => new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', message);

const describeKey = (key: WrappingKey): string =>
  key.kind === 'rsa-public'
    ? 'an RSA public key'
    : key.kind === 'ml-kem-public'
      ? `an ${key.algorithm} public key`
      : `a ${key.algorithm} key`;

function aesKek(key: WrappingKey, method: WrapMethod): KeyObject {
  if (key.kind === 'secret' && key.algorithm === 'AES') return key.key;
  throw notSupported(`${method} needs an AES wrapping key, not ${describeKey(key)}`);
}

function mlKemPublicOf(
  key: WrappingKey,
  algorithm: MlKemAlgorithm,
): { publicKey: Uint8Array; node: KeyObject | null } {
  if (key.kind === 'ml-kem-public' && key.algorithm === algorithm)
    return { publicKey: key.publicKey, node: null };
  if (key.kind === 'noble' && key.algorithm === algorithm)
    return { publicKey: key.publicKey, node: key.node?.publicKey ?? null };
  throw notSupported(`${algorithm} wrapping needs an ${algorithm} key, not ${describeKey(key)}`);
}

function mlKemSecretOf(
  key: ReadyKey,
  algorithm: MlKemAlgorithm,
): { secretKey: Uint8Array; node: KeyObject | null } {
  if (key.kind === 'noble' && key.algorithm === algorithm)
    return { secretKey: key.secretKey, node: key.node?.key ?? null };
  throw notSupported(`${algorithm} unwrapping needs an ${algorithm} key, not ${describeKey(key)}`);
}

/** The bytes that are wrapped: raw secret key or PKCS#8 DER. */
function keyBytes(key: KeyMaterial): Buffer {
  if (!key.secret) {
    throw notSupported(`the ${key.algorithm} key to be wrapped holds only a public key`);
  }
  return key.secret;
}

/** The algorithm of a PKCS#8 structure of a known algorithm, or null. */
function pkcs8Algorithm(data: Buffer): KeyAlgorithm | null {
  const oid = peekAlgorithmOid(data, 'private');
  if (oid === null) return null;
  if (oid === OIDS.rsaEncryption) return 'RSA';
  if (oid === OIDS.ecPublicKey) return 'EC';
  if (oid === OIDS.dsa) return 'DSA';
  if (oid === OIDS.bls12381G1) return 'BLS';
  if (CURVES.some((curve) => curve.algorithm === 'ED' && curve.oid === oid)) return 'ED';
  for (const [name, params] of Object.entries(PQ_PARAMS)) if (params.oid === oid) return name as KeyAlgorithm;
  return null;
}

const importInput = (algorithm: KeyAlgorithm, data: Buffer): ImportInput =>
  isSymmetric(algorithm) ? { algorithm, secretKey: data } : { algorithm, privateKey: data };

const toMaterial = (algorithm: KeyAlgorithm, data: Buffer): KeyMaterial =>
  importKey(importInput(algorithm, data));

// ---------------------------------------------------------------------------------------------
// Operations

/** Wraps a key (raw bytes of a secret key, PKCS#8 of a private key) under the wrapping key. */
export function wrapKey(wrappingKey: WrappingKey, wrapMethod: string, keyToBeWrapped: KeyMaterial): Buffer {
  const method = wrapMethodOf(wrapMethod);
  const spec = methodSpec(method);
  const symmetric = isSymmetric(keyToBeWrapped.algorithm);

  switch (spec.kind) {
    case 'aes': {
      const kek = aesKek(wrappingKey, method);
      if (spec.family && keyToBeWrapped.algorithm !== spec.family) {
        throw notSupported(
          `${method} wraps ${spec.family} private keys, not ${keyToBeWrapped.algorithm} keys`,
        );
      }
      const data = keyBytes(keyToBeWrapped);
      return aesKeyWrap(kek, spec.pad, spec.pad || symmetric ? data : padDer(data));
    }
    case 'rsa': {
      const publicKey = rsaPublicKeyOfWrapping(wrappingKey, method);
      if (!symmetric) {
        throw notSupported(
          `${method} wraps secret keys only, not ${keyToBeWrapped.algorithm} private keys; use an AES wrap method`,
        );
      }
      return rsaEncrypt(publicKey, spec.scheme, keyBytes(keyToBeWrapped));
    }
    case 'ml-kem': {
      const { publicKey, node } = mlKemPublicOf(wrappingKey, spec.algorithm);
      const data = keyBytes(keyToBeWrapped);
      const { cipherText, sharedSecret } = mlKemEncapsulate(spec.algorithm, publicKey, node);
      return Buffer.concat([cipherText, aesKeyWrap(mlKemKek(sharedSecret), true, data)]);
    }
  }
}

function rsaPublicKeyOfWrapping(key: WrappingKey, method: WrapMethod): KeyObject {
  if (key.kind === 'ml-kem-public') throw notSupported(`${method} needs an RSA key, not ${describeKey(key)}`);
  try {
    return rsaPublicKeyOf(key, 'RSA');
  } catch {
    throw notSupported(`${method} needs an RSA key, not ${describeKey(key)}`);
  }
}

/** Unwraps a key and returns it as key material (validated by `importKey`). */
export function unwrapKey(
  unwrappingKey: ReadyKey,
  wrapMethod: string,
  wrapped: Buffer,
  target: { algorithm?: KeyAlgorithm | null } = {},
): KeyMaterial {
  const method = wrapMethodOf(wrapMethod);
  const spec = methodSpec(method);
  if (spec.kind === 'rsa') {
    return rsaUnwrapped(target, () =>
      rsaDecrypt(rsaUnwrappingKey(unwrappingKey, method, target), spec.scheme, wrapped),
    );
  }
  const { algorithm, data } = unwrapBytes(unwrappingKey, method, spec, wrapped, target);
  return toMaterial(algorithm, data);
}

/**
 * `unwrapKey`, with an RSA key's private operation in a worker thread (rsaDecryptOffThread: 34 ms for
 * RSA-8192 here), and the slow checks of an unwrapped private key too (importKeyOffThread: a DSA key's domain).
 */
export async function unwrapKeyOffThread(
  unwrappingKey: ReadyKey,
  wrapMethod: string,
  wrapped: Buffer,
  target: { algorithm?: KeyAlgorithm | null } = {},
): Promise<KeyMaterial> {
  const method = wrapMethodOf(wrapMethod);
  const spec = methodSpec(method);
  if (spec.kind !== 'rsa') {
    const { algorithm, data } = unwrapBytes(unwrappingKey, method, spec, wrapped, target);
    return importKeyOffThread(importInput(algorithm, data));
  }
  const privateKey = rsaUnwrappingKey(unwrappingKey, method, target);
  const data = await rsaDecryptOffThread(privateKey, spec.scheme, wrapped).catch((error: unknown) => {
    throw unwrapError(error);
  });
  return rsaUnwrapped(target, () => data);
}

/** The key bytes an AES or ML-KEM method unwraps, and the algorithm they are imported as. */
function unwrapBytes(
  unwrappingKey: ReadyKey,
  method: WrapMethod,
  spec: Exclude<MethodSpec, { kind: 'rsa' }>,
  wrapped: Buffer,
  target: { algorithm?: KeyAlgorithm | null },
): { algorithm: KeyAlgorithm; data: Buffer } {
  const family = spec.kind === 'aes' ? spec.family : null;
  if (family && target.algorithm && target.algorithm !== family) {
    throw notSupported(`${method} unwraps ${family} private keys, not ${target.algorithm} keys`);
  }

  let data: Buffer;
  if (spec.kind === 'aes') {
    data = aesKeyUnwrap(aesKek(unwrappingKey, method), spec.pad, wrapped);
    if (!spec.pad) {
      // only a private key's DER was zero-filled; a secret key is wrapped as it is, whatever its bytes
      const der = stripDerPadding(data);
      const algorithm = target.algorithm ?? family ?? pkcs8Algorithm(der) ?? 'AES';
      if (!isSymmetric(algorithm)) data = der;
    }
  } else {
    const { secretKey, node } = mlKemSecretOf(unwrappingKey, spec.algorithm);
    const kemLength = ML_KEM[spec.algorithm].lengths.cipherText!;
    if (wrapped.length < kemLength + 16) {
      throw new TsbError(
        'INVALID_PAYLOAD',
        `an ${spec.algorithm} wrapped key is at least ${kemLength + 16} bytes, not ${wrapped.length} bytes`,
      );
    }
    const cipherText = wrapped.subarray(0, kemLength);
    const sharedSecret = mlKemDecapsulate(spec.algorithm, cipherText, secretKey, node);
    data = aesKeyUnwrap(mlKemKek(sharedSecret), true, wrapped.subarray(kemLength));
  }
  const algorithm: KeyAlgorithm = target.algorithm ?? family ?? pkcs8Algorithm(data) ?? 'AES';
  return { algorithm, data: Buffer.from(data) };
}

/** The RSA private key of an RSA unwrap method, which unwraps secret keys only. */
function rsaUnwrappingKey(
  unwrappingKey: ReadyKey,
  method: WrapMethod,
  target: { algorithm?: KeyAlgorithm | null },
): KeyObject {
  if (target.algorithm && !isSymmetric(target.algorithm)) {
    throw notSupported(`${method} unwraps secret keys only, not ${target.algorithm} keys`);
  }
  try {
    return rsaPrivateKeyOf(unwrappingKey, 'RSA');
  } catch {
    throw notSupported(`${method} needs an RSA key, not ${describeKey(unwrappingKey)}`);
  }
}

/** A failed decryption is a failed unwrap; other errors stay what they are. */
function unwrapError(error: unknown): unknown {
  return error instanceof TsbError && error.kind === 'DECRYPT_FAILED' ? unwrapFailed() : error;
}

/** The secret key an RSA unwrap method decrypted (AES unless the caller names its algorithm). */
function rsaUnwrapped(target: { algorithm?: KeyAlgorithm | null }, decrypted: () => Buffer): KeyMaterial {
  let data: Buffer;
  try {
    data = decrypted();
  } catch (error) {
    throw unwrapError(error);
  }
  return toMaterial(target.algorithm ?? 'AES', Buffer.from(data));
}
