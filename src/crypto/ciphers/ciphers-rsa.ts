/**
 * RSA encryption schemes of the encrypt/decrypt and wrap/unwrap operations, on node:crypto (OpenSSL):
 * - PKCS#1 v1.5 (RFC 8017 §7.2), decrypted with OpenSSL's implicit rejection (3.2 and later; Node 24 has
 *   3.5): a ciphertext whose padding is invalid decrypts to a message derived from it and the key, never to
 *   an error, so the answer does not tell a valid from an invalid padding. With such an oracle (Bleichenbacher),
 *   a caller allowed to decrypt or unwrap with a key could make it compute any raw RSA private operation,
 *   signatures included, which raw decryption needs `sign` for (refuseRawRsaWithoutSign).
 * - OAEP (RFC 8017 §7.1) with MGF1 over the same hash as the label hash, empty label.
 * - no padding: the plaintext is a big-endian integer, left-padded with zeros to the modulus length.
 */

import { constants, type KeyObject, publicEncrypt } from 'node:crypto';
import { TsbError } from '../../errors.js';
import { bufferView } from '../../lib/encoding.js';
import { runInWorker } from '../signatures/signatures-pool.js';
import { type RsaScheme, rsaDecryptBlock } from './rsa-block-decryption.js';

export type { RsaScheme } from './rsa-block-decryption.js';

const HASH_BYTES = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 } as const;

/** The modulus length in bytes. */
export function rsaModulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new TsbError('HSM_INTEGRITY', 'the RSA key has no modulus length');
  return Math.ceil(bits / 8);
}

/** The longest plaintext the scheme can encrypt under a modulus of `k` bytes. */
export function rsaMaxPlaintext(scheme: RsaScheme, k: number): number {
  switch (scheme.padding) {
    case 'pkcs1':
      return k - 11;
    case 'oaep':
      return k - 2 * HASH_BYTES[scheme.hash] - 2;
    case 'none':
      return k;
  }
}

const describe = (scheme: RsaScheme): string =>
  scheme.padding === 'oaep'
    ? `RSA-OAEP with ${scheme.hash.toUpperCase()}`
    : scheme.padding === 'pkcs1'
      ? 'RSA PKCS#1 v1.5'
      : 'raw RSA';

/** Encrypts with the public key; a too long plaintext (or, unpadded, one not below the modulus) is INVALID_PAYLOAD. */
export function rsaEncrypt(publicKey: KeyObject, scheme: RsaScheme, plaintext: Buffer): Buffer {
  const k = rsaModulusBytes(publicKey);
  const max = rsaMaxPlaintext(scheme, k);
  if (plaintext.length > max) {
    throw new TsbError(
      'INVALID_PAYLOAD',
      `the payload is ${plaintext.length} bytes; ${describe(scheme)} under a ${k * 8}-bit key takes at most ${max} bytes`,
    );
  }
  if (scheme.padding === 'none') {
    const block = Buffer.alloc(k);
    plaintext.copy(block, k - plaintext.length);
    try {
      return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, block);
    } catch {
      throw new TsbError('INVALID_PAYLOAD', 'the payload, as a number, is not smaller than the RSA modulus');
    }
  }
  if (scheme.padding === 'pkcs1') {
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, plaintext);
  }
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: scheme.hash },
    plaintext,
  );
}

const decryptFailed = () => new TsbError('DECRYPT_FAILED', 'decryption failed');

/** The ciphertext as a modulus-length block: a longer one is INVALID_PAYLOAD, a shorter one is left-padded. */
function ciphertextBlock(privateKey: KeyObject, ciphertext: Buffer): Buffer {
  const k = rsaModulusBytes(privateKey);
  if (ciphertext.length === 0 || ciphertext.length > k) {
    throw new TsbError(
      'INVALID_PAYLOAD',
      `the encrypted payload is ${ciphertext.length} bytes; a ${k * 8}-bit RSA key takes ${k} bytes`,
    );
  }
  const block = Buffer.alloc(k);
  ciphertext.copy(block, k - ciphertext.length);
  return block;
}

/**
 * Decrypts with the private key. A ciphertext longer than the modulus is INVALID_PAYLOAD; a shorter
 * one is read as a big-endian number (left-padded). An OAEP or range failure is DECRYPT_FAILED; a bad
 * PKCS#1 v1.5 padding is not a failure (implicit rejection, above).
 * Unpadded decryption returns the full modulus-length block.
 */
export function rsaDecrypt(privateKey: KeyObject, scheme: RsaScheme, ciphertext: Buffer): Buffer {
  const block = ciphertextBlock(privateKey, ciphertext);
  try {
    return rsaDecryptBlock(privateKey, scheme, block);
  } catch {
    throw decryptFailed();
  }
}

/**
 * `rsaDecrypt` with the private-key operation in a worker thread of the signature pool, which serves the
 * partitions in turn: on the event loop an RSA-8192 decryption (34 ms here, 5 ms for RSA-4096) held every
 * request of every partition, and a caller decrypting in a loop held them all the time.
 */
export async function rsaDecryptOffThread(
  privateKey: KeyObject,
  scheme: RsaScheme,
  ciphertext: Buffer,
): Promise<Buffer> {
  const block = ciphertextBlock(privateKey, ciphertext);
  let plaintext: Uint8Array;
  try {
    plaintext = (await runInWorker({
      op: 'rsa-decrypt',
      key: privateKey,
      scheme,
      data: block,
    })) as Uint8Array;
  } catch {
    throw decryptFailed();
  }
  return bufferView(plaintext);
}
