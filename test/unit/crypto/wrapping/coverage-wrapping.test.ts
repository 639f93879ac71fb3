/**
 * Wrapping coverage not in wrapping.test.ts: the AES_WRAP_{family} and AES_WRAP_PAD_{family} methods
 * for DSA, ED, RSA and BLS keys (their bytes checked with `openssl enc -id-aes*-wrap[-pad]`), KEKs of
 * 128 and 192 bits, post-quantum private keys under the unsuffixed methods, RSA_WRAP_PAD with
 * openssl's default padding, wrapping to a public key imported on its own (SPKI and PKCS#1), and
 * ML-KEM-512 / ML-KEM-1024 (their output recomputed from noble, HKDF and openssl).
 */
import { createPublicKey, hkdfSync, randomBytes } from 'node:crypto';
import { ml_kem512, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm, SymmetricAlgorithm } from '../../../../src/crypto/algorithms.js';
import {
  exportPrivateKey,
  generateKey,
  importKey,
  type KeyMaterial,
  loadPrivate,
  type ReadyKey,
} from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { publicKeyInput, unwrapKey, wrapKey } from '../../../../src/crypto/wrapping/key-wrapping.js';
import { opensslEnc, opensslPkeyutl } from '../../../helpers/openssl.js';
import { opensslPrivateKey } from '../helpers.js';

const secret = (algorithm: SymmetricAlgorithm, bytes: Buffer): KeyMaterial =>
  importKey({ algorithm, secretKey: bytes });
const ready = (material: KeyMaterial): ReadyKey => loadPrivate(material);

/** `openssl enc` with an AES key-wrap cipher (RFC 3394 `id-aesN-wrap`, RFC 5649 `id-aesN-wrap-pad`). */
const opensslWrap = (kek: Buffer, pad: boolean, input: Buffer, decrypt: boolean): Promise<Buffer> =>
  opensslEnc(
    `id-aes${kek.length * 8}-wrap${pad ? '-pad' : ''}`,
    kek,
    pad ? 'A65959A6' : 'A6A6A6A6A6A6A6A6',
    input,
    {
      decrypt,
    },
  );

const pkeyutl = (keyDer: Buffer, mode: 'encrypt' | 'decrypt', opts: readonly string[], input: Buffer) =>
  opensslPkeyutl(mode, keyDer, [...opts], input);

/** The DER followed by zero bytes up to a multiple of 8: what the non-PAD family methods wrap. */
const zeroPadded = (der: Buffer) => Buffer.concat([der, Buffer.alloc((8 - (der.length % 8)) % 8)]);

const FAMILIES = ['DSA', 'ED', 'RSA', 'BLS'] as const;
type Family = (typeof FAMILIES)[number];

describe('wrap coverage', () => {
  const kekBytes = randomBytes(32);
  const kek = ready(secret('AES', kekBytes));
  const keys = {} as Record<Family | 'ML-DSA-44' | 'SLH-DSA-SHA2-128f', KeyMaterial>;
  let kem512: KeyMaterial;
  let kem1024: KeyMaterial;

  beforeAll(async () => {
    const [dsa, ed, rsa, bls, mlDsa, slhDsa, k512, k1024] = await Promise.all([
      generateKey({ algorithm: 'DSA', keySize: 2048 }),
      generateKey({ algorithm: 'ED', curveOid: '1.3.101.112' }),
      generateKey({ algorithm: 'RSA', keySize: 2048 }),
      generateKey({ algorithm: 'BLS' }),
      generateKey({ algorithm: 'ML-DSA-44' }),
      generateKey({ algorithm: 'SLH-DSA-SHA2-128f' }),
      generateKey({ algorithm: 'ML-KEM-512' }),
      generateKey({ algorithm: 'ML-KEM-1024' }),
    ]);
    Object.assign(keys, {
      DSA: dsa,
      ED: ed,
      RSA: rsa,
      BLS: bls,
      'ML-DSA-44': mlDsa,
      'SLH-DSA-SHA2-128f': slhDsa,
    });
    kem512 = k512;
    kem1024 = k1024;
  });

  /** The unwrapped key is the original one: same PKCS#8, same public key. */
  function expectSameKey(unwrapped: KeyMaterial, original: KeyMaterial, algorithm: KeyAlgorithm) {
    expect(unwrapped.algorithm).toBe(algorithm);
    expect(unwrapped.secret).toEqual(original.secret);
    expect(unwrapped.publicKey).toEqual(original.publicKey);
    expect(exportPrivateKey(unwrapped)).toEqual(exportPrivateKey(original));
  }

  describe.each(FAMILIES)('%s private keys', (family) => {
    it(`AES_WRAP_PAD_${family}: round trip, and openssl unwraps it to exactly the PKCS#8 DER`, async () => {
      const key = keys[family];
      const method = `AES_WRAP_PAD_${family}`;
      const wrapped = wrapKey(kek, method, key);
      expect(wrapped).toHaveLength(8 + Math.ceil(key.secret!.length / 8) * 8);
      expectSameKey(unwrapKey(kek, method, wrapped, {}), key, family);
      expectSameKey(unwrapKey(kek, method, wrapped, { algorithm: family }), key, family);

      expect(await opensslWrap(kekBytes, true, wrapped, true)).toEqual(key.secret);
      // RFC 5649 is deterministic: openssl wraps the DER to the same bytes
      expect(await opensslWrap(kekBytes, true, key.secret!, false)).toEqual(wrapped);
    });

    it(`AES_WRAP_${family}: round trip; openssl unwraps it to the DER and < 8 zero bytes`, async () => {
      const key = keys[family];
      const method = `AES_WRAP_${family}`;
      const wrapped = wrapKey(kek, method, key);
      expectSameKey(unwrapKey(kek, method, wrapped, {}), key, family);

      const plain = await opensslWrap(kekBytes, false, wrapped, true);
      expect(plain).toEqual(zeroPadded(key.secret!));
      expect(plain.length - key.secret!.length).toBeLessThan(8);
      // and what openssl wraps (the zero-padded DER) unwraps to the key
      const theirs = await opensslWrap(kekBytes, false, zeroPadded(key.secret!), false);
      expect(theirs).toEqual(wrapped);
      expectSameKey(unwrapKey(kek, method, theirs, {}), key, family);
    });
  });

  it('openssl reads the unwrapped DSA, Ed25519 and RSA keys and derives the original public keys', async () => {
    for (const family of ['DSA', 'ED', 'RSA'] as const) {
      const method = `AES_WRAP_PAD_${family}`;
      const unwrapped = unwrapKey(kek, method, wrapKey(kek, method, keys[family]), {});
      expect((await opensslPrivateKey(unwrapped.secret!)).spki, family).toEqual(keys[family].publicKey);
    }
  });

  it.each([16, 24])('a %i-byte KEK: AES_WRAP_PAD_ED and AES_WRAP_RSA cross with openssl', async (bytes) => {
    const raw = randomBytes(bytes);
    const smallKek = ready(secret('AES', raw));
    const ed = wrapKey(smallKek, 'AES_WRAP_PAD_ED', keys.ED);
    expect(await opensslWrap(raw, true, ed, true)).toEqual(keys.ED.secret);
    expectSameKey(unwrapKey(smallKek, 'AES_WRAP_PAD_ED', ed, {}), keys.ED, 'ED');
    const rsa = wrapKey(smallKek, 'AES_WRAP_RSA', keys.RSA);
    expect(await opensslWrap(raw, false, rsa, true)).toEqual(zeroPadded(keys.RSA.secret!));
    expectSameKey(unwrapKey(smallKek, 'AES_WRAP_RSA', rsa, {}), keys.RSA, 'RSA');
  });

  it.each(['ML-DSA-44', 'SLH-DSA-SHA2-128f'] as const)(
    '%s private key with the unsuffixed AES_WRAP_PAD and AES_WRAP (algorithm read from the PKCS#8)',
    async (algorithm) => {
      const key = keys[algorithm];
      const pad = wrapKey(kek, 'AES_WRAP_PAD', key);
      expectSameKey(unwrapKey(kek, 'AES_WRAP_PAD', pad, {}), key, algorithm);
      expectSameKey(unwrapKey(kek, 'AES_WRAP_PAD', pad, { algorithm }), key, algorithm);
      expect(await opensslWrap(kekBytes, true, pad, true)).toEqual(key.secret);

      const plain = wrapKey(kek, 'AES_WRAP', key);
      expectSameKey(unwrapKey(kek, 'AES_WRAP', plain, {}), key, algorithm);
      expect(await opensslWrap(kekBytes, false, plain, true)).toEqual(zeroPadded(key.secret!));
    },
  );

  describe('RSA_WRAP_PAD (PKCS#1 v1.5) with openssl pkeyutl default padding', () => {
    it.each([16, 24, 32])('a %i-byte AES key, both ways', async (bytes) => {
      const rsa = keys.RSA;
      const target = secret('AES', randomBytes(bytes));
      const wrapped = wrapKey(ready(rsa), 'RSA_WRAP_PAD', target);
      expect(wrapped).toHaveLength(256);
      expect(await pkeyutl(rsa.secret!, 'decrypt', [], wrapped)).toEqual(target.secret);

      const theirs = await pkeyutl(rsa.publicKey!, 'encrypt', [], target.secret!);
      const unwrapped = unwrapKey(ready(rsa), 'RSA_WRAP_PAD', theirs, {});
      expect(unwrapped.algorithm).toBe('AES'); // the default target of RSA methods
      expect(unwrapped.secret).toEqual(target.secret);
    });

    it('other secret keys with the target algorithm given', async () => {
      const rsa = keys.RSA;
      for (const target of [
        secret('HMACSHA256', randomBytes(21)),
        secret('TDEA', randomBytes(24)),
        secret('Camellia', randomBytes(24)),
      ]) {
        const theirs = await pkeyutl(rsa.publicKey!, 'encrypt', [], target.secret!);
        const unwrapped = unwrapKey(ready(rsa), 'RSA_WRAP_PAD', theirs, { algorithm: target.algorithm });
        expect(unwrapped.algorithm).toBe(target.algorithm);
        expect(unwrapped.secret).toEqual(target.secret);
      }
    });
  });

  describe('wrapping to a public-only RSA key imported on its own', () => {
    const spkiOf = () => keys.RSA.publicKey!;
    const pkcs1Of = () =>
      createPublicKey({ key: spkiOf(), format: 'der', type: 'spki' }).export({
        format: 'der',
        type: 'pkcs1',
      });

    it.each([
      ['SPKI', 'RSA_WRAP_PAD', ['rsa_padding_mode:pkcs1']],
      ['SPKI', 'RSA_WRAP_OAEP', ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256', 'rsa_mgf1_md:sha256']],
      ['PKCS#1', 'RSA_WRAP_PAD', ['rsa_padding_mode:pkcs1']],
      ['PKCS#1', 'RSA_WRAP_OAEP', ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256', 'rsa_mgf1_md:sha256']],
    ] as const)('%s public key, %s: the private key and openssl unwrap it', async (form, method, opts) => {
      const material = importKey({ algorithm: 'RSA', publicKey: form === 'SPKI' ? spkiOf() : pkcs1Of() });
      expect(material.secret).toBeNull();
      expect(material.publicKey).toEqual(spkiOf());
      const target = secret('AES', randomBytes(32));
      const wrapped = wrapKey(publicKeyInput(material), method, target);
      expect(unwrapKey(ready(keys.RSA), method, wrapped, { algorithm: 'AES' }).secret).toEqual(target.secret);
      expect(await pkeyutl(keys.RSA.secret!, 'decrypt', opts, wrapped)).toEqual(target.secret);
    });
  });

  describe('ML-KEM-512 and ML-KEM-1024', () => {
    const INFO = Buffer.from('OpenTSB ML-KEM key wrap v1', 'ascii');
    const cases = [
      ['ML-KEM-512', () => kem512, ml_kem512, 768],
      ['ML-KEM-1024', () => kem1024, ml_kem1024, 1568],
    ] as const;

    it.each(cases)('%s: round trips of secret and private keys', (algorithm, kem, _noble, ctLength) => {
      const material = kem();
      const publicOnly = importKey({ algorithm, publicKey: material.publicKey! });
      const target = secret('AES', randomBytes(32));
      const wrapped = wrapKey(publicKeyInput(publicOnly), algorithm, target);
      expect(wrapped).toHaveLength(ctLength + 40);
      const unwrapped = unwrapKey(ready(material), algorithm, wrapped, {});
      expect(unwrapped.algorithm).toBe('AES');
      expect(unwrapped.secret).toEqual(target.secret);

      for (const family of ['ED', 'RSA'] as const) {
        const wrappedKey = wrapKey(ready(material), algorithm, keys[family]);
        expectSameKey(unwrapKey(ready(material), algorithm, wrappedKey, {}), keys[family], family);
      }
      const mlDsa = wrapKey(ready(material), algorithm, keys['ML-DSA-44']);
      expectSameKey(unwrapKey(ready(material), algorithm, mlDsa, {}), keys['ML-DSA-44'], 'ML-DSA-44');
    });

    it.each(cases)(
      '%s: the output is the KEM ciphertext ‖ RFC 5649 under HKDF-SHA-256(shared secret) (noble + openssl)',
      async (algorithm, kem, noble, ctLength) => {
        const material = kem();
        const loaded = ready(material) as Extract<ReadyKey, { kind: 'noble' }>;
        const target = keys.ED;
        const wrapped = wrapKey(loaded, algorithm, target);
        const sharedSecret = noble.decapsulate(wrapped.subarray(0, ctLength), loaded.secretKey);
        const kekRaw = Buffer.from(hkdfSync('sha256', sharedSecret, Buffer.alloc(0), INFO, 32));
        expect(await opensslWrap(kekRaw, true, wrapped.subarray(ctLength), true)).toEqual(target.secret);

        // and a wrap made by hand (noble encapsulation + openssl) unwraps
        const { cipherText, sharedSecret: theirSecret } = noble.encapsulate(new Uint8Array(loaded.publicKey));
        const theirKek = Buffer.from(hkdfSync('sha256', theirSecret, Buffer.alloc(0), INFO, 32));
        const theirs = Buffer.concat([cipherText, await opensslWrap(theirKek, true, target.secret!, false)]);
        expectSameKey(unwrapKey(loaded, algorithm, theirs, {}), target, 'ED');
      },
    );
  });
});
