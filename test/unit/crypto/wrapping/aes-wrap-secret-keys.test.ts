/**
 * AES_WRAP (RFC 3394) of a secret key gives back exactly that key. The non-PAD methods zero-fill a private key's
 * PKCS#8 DER to a multiple of 8 bytes and unwrapping drops up to 7 zero bytes after a leading DER SEQUENCE; that
 * stripping was applied to secret keys too, so a secret key whose bytes looked like such a SEQUENCE (0x30, a
 * length, then fewer than 8 zero bytes up to its end) came back shorter: an HMAC key as another key, an AES key
 * not at all.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SymmetricAlgorithm } from '../../../../src/crypto/algorithms.js';
import { generateKey, importKey, loadPrivate } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { unwrapKey, wrapKey } from '../../../../src/crypto/wrapping/key-wrapping.js';

/** `length` bytes: 0x30, the length of a SEQUENCE ending `zeros` bytes before the end, random content, zeros. */
function derLooking(length: number, zeros: number): Buffer {
  const bytes = randomBytes(length);
  bytes[0] = 0x30;
  bytes[1] = length - 2 - zeros;
  bytes.fill(0, length - zeros);
  return bytes;
}

describe('AES_WRAP of secret keys whose bytes look like zero-filled DER', () => {
  const cases: [SymmetricAlgorithm, number, number][] = [
    ['HMACSHA256', 40, 3],
    ['HMACSHA256', 24, 7],
    ['AES', 32, 1],
    ['AES', 24, 5],
    ['ChaCha20', 32, 2],
  ];

  it.each(cases)(
    '%s key of %d bytes ending in %d zero bytes: unwrapped unchanged',
    async (algorithm, length, zeros) => {
      const kek = loadPrivate(await generateKey({ algorithm: 'AES', keySize: 256 }));
      const secretKey = derLooking(length, zeros);
      const material = importKey({ algorithm, secretKey });
      const wrapped = wrapKey(kek, 'AES_WRAP', material);
      const unwrapped = unwrapKey(kek, 'AES_WRAP', wrapped, { algorithm });
      expect(unwrapped.algorithm).toBe(algorithm);
      expect(unwrapped.secret!.equals(secretKey)).toBe(true);
    },
  );

  it('without a target algorithm, an AES key of that form comes back as the AES key it is', async () => {
    const kek = loadPrivate(await generateKey({ algorithm: 'AES', keySize: 256 }));
    const secretKey = derLooking(32, 1);
    const wrapped = wrapKey(kek, 'AES_WRAP', importKey({ algorithm: 'AES', secretKey }));
    const unwrapped = unwrapKey(kek, 'AES_WRAP', wrapped);
    expect(unwrapped.algorithm).toBe('AES');
    expect(unwrapped.secret!.equals(secretKey)).toBe(true);
  });

  it('a private key wrapped with a non-PAD method still loses its zero fill', async () => {
    const kek = loadPrivate(await generateKey({ algorithm: 'AES', keySize: 256 }));
    const ec = await generateKey({ algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' });
    for (const method of ['AES_WRAP', 'AES_WRAP_EC']) {
      const unwrapped = unwrapKey(kek, method, wrapKey(kek, method, ec));
      expect(unwrapped.algorithm, method).toBe('EC');
      expect(unwrapped.secret!.equals(ec.secret!), method).toBe(true);
    }
  });
});
