/**
 * Cipher coverage not in ciphers.test.ts: the key sizes and modes that file leaves out (each block
 * cipher mode with every key size it takes, two-key TDEA in ECB and unpadded CBC), padding edge cases
 * (empty and block-aligned payloads), AES_GCM with 128- and 192-bit keys, and RSA at the payload
 * limits of each scheme and with ciphertexts shorter than the modulus. Every case is crossed with an
 * independent implementation: the openssl CLI, or node:crypto where the CLI cannot (GCM).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SymmetricAlgorithm } from '../../../../src/crypto/algorithms.js';
import { type CipherAlgorithm, decrypt, encrypt } from '../../../../src/crypto/ciphers/ciphers.js';
import {
  generateKey,
  importKey,
  loadPrivate,
  type ReadyKey,
} from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { opensslEnc, opensslPkeyutl } from '../../../helpers/openssl.js';
import { tsbErrorOf } from '../helpers.js';

const secretKey = (algorithm: SymmetricAlgorithm, bytes: Buffer): ReadyKey =>
  loadPrivate(importKey({ algorithm, secretKey: bytes }));

const PAYLOAD = Buffer.from('Coverage payload: longer than two blocks of any cipher.');

// ---------------------------------------------------------------------------------------------
// Block ciphers crossed with `openssl enc`

interface EncCase {
  cipher: CipherAlgorithm;
  algorithm: SymmetricAlgorithm;
  keyBytes: number;
  /** openssl enc cipher name */
  name: string;
  padding: boolean;
  payload: Buffer;
  label?: string;
}

const blocks = (bytes: number) => Buffer.alloc(bytes, 0xa5);
const EMPTY = Buffer.alloc(0);

const ENC_CASES: EncCase[] = [
  // key sizes the other file does not pair with these modes
  { cipher: 'AES_ECB', algorithm: 'AES', keyBytes: 16, name: 'aes-128-ecb', padding: true, payload: PAYLOAD },
  { cipher: 'AES_ECB', algorithm: 'AES', keyBytes: 24, name: 'aes-192-ecb', padding: true, payload: PAYLOAD },
  { cipher: 'AES_CTR', algorithm: 'AES', keyBytes: 16, name: 'aes-128-ctr', padding: true, payload: PAYLOAD },
  { cipher: 'AES_CTR', algorithm: 'AES', keyBytes: 24, name: 'aes-192-ctr', padding: true, payload: PAYLOAD },
  {
    cipher: 'AES_CBC_NO_PADDING',
    algorithm: 'AES',
    keyBytes: 24,
    name: 'aes-192-cbc',
    padding: false,
    payload: blocks(32),
  },
  {
    cipher: 'AES_CBC_NO_PADDING',
    algorithm: 'AES',
    keyBytes: 32,
    name: 'aes-256-cbc',
    padding: false,
    payload: blocks(64),
  },
  {
    cipher: 'CAMELLIA',
    algorithm: 'Camellia',
    keyBytes: 24,
    name: 'camellia-192-cbc',
    padding: true,
    payload: PAYLOAD,
  },
  {
    cipher: 'CAMELLIA_ECB',
    algorithm: 'Camellia',
    keyBytes: 16,
    name: 'camellia-128-ecb',
    padding: true,
    payload: PAYLOAD,
  },
  {
    cipher: 'CAMELLIA_ECB',
    algorithm: 'Camellia',
    keyBytes: 24,
    name: 'camellia-192-ecb',
    padding: true,
    payload: PAYLOAD,
  },
  {
    cipher: 'CAMELLIA_CBC_NO_PADDING',
    algorithm: 'Camellia',
    keyBytes: 16,
    name: 'camellia-128-cbc',
    padding: false,
    payload: blocks(32),
  },
  {
    cipher: 'CAMELLIA_CBC_NO_PADDING',
    algorithm: 'Camellia',
    keyBytes: 32,
    name: 'camellia-256-cbc',
    padding: false,
    payload: blocks(16),
  },
  // two-key TDEA (16-byte keys) in the modes other than padded CBC
  {
    cipher: 'TDEA_ECB',
    algorithm: 'TDEA',
    keyBytes: 16,
    name: 'des-ede-ecb',
    padding: true,
    payload: PAYLOAD,
  },
  {
    cipher: 'TDEA_CBC_NO_PADDING',
    algorithm: 'TDEA',
    keyBytes: 16,
    name: 'des-ede-cbc',
    padding: false,
    payload: blocks(24),
  },
  // padding edge cases: an empty payload is one block of padding, an aligned one gains a full block
  {
    cipher: 'AES',
    algorithm: 'AES',
    keyBytes: 32,
    name: 'aes-256-cbc',
    padding: true,
    payload: EMPTY,
    label: 'empty',
  },
  {
    cipher: 'AES',
    algorithm: 'AES',
    keyBytes: 16,
    name: 'aes-128-cbc',
    padding: true,
    payload: blocks(32),
    label: 'aligned',
  },
  {
    cipher: 'AES_ECB',
    algorithm: 'AES',
    keyBytes: 32,
    name: 'aes-256-ecb',
    padding: true,
    payload: EMPTY,
    label: 'empty',
  },
  {
    cipher: 'CAMELLIA',
    algorithm: 'Camellia',
    keyBytes: 32,
    name: 'camellia-256-cbc',
    padding: true,
    payload: blocks(16),
    label: 'aligned',
  },
  {
    cipher: 'TDEA_CBC',
    algorithm: 'TDEA',
    keyBytes: 24,
    name: 'des-ede3-cbc',
    padding: true,
    payload: EMPTY,
    label: 'empty',
  },
  {
    cipher: 'TDEA_ECB',
    algorithm: 'TDEA',
    keyBytes: 24,
    name: 'des-ede3-ecb',
    padding: true,
    payload: blocks(16),
    label: 'aligned',
  },
  {
    cipher: 'AES_CTR',
    algorithm: 'AES',
    keyBytes: 32,
    name: 'aes-256-ctr',
    padding: true,
    payload: Buffer.from('x'),
    label: 'one byte',
  },
];

const BLOCK: Record<string, number> = { AES: 16, Camellia: 16, TDEA: 8 };

const opensslEncCase = (c: EncCase, key: Buffer, iv: Buffer | null, input: Buffer, decrypt: boolean) =>
  opensslEnc(c.name, key, iv, input, { decrypt, nopad: !c.padding });

describe('block ciphers against openssl enc (key sizes, modes and padding edges)', () => {
  it.each(
    ENC_CASES.map((c) => [`${c.cipher} ${c.name}${c.label ? ` (${c.label} payload)` : ''}`, c] as const),
  )('%s', async (_, c) => {
    const raw = randomBytes(c.keyBytes);
    const key = secretKey(c.algorithm, raw);
    const ecb = c.name.endsWith('-ecb');
    const stream = c.name.endsWith('-ctr');

    const ours = encrypt(key, { cipherAlgorithm: c.cipher, payload: c.payload });
    const iv = ours.initializationVector;
    expect(iv === null ? 0 : iv.length).toBe(ecb ? 0 : stream ? 16 : BLOCK[c.algorithm]);
    const block = BLOCK[c.algorithm]!;
    const expectedLength = stream
      ? c.payload.length
      : c.padding
        ? (Math.floor(c.payload.length / block) + 1) * block
        : c.payload.length;
    expect(ours.encryptedPayload).toHaveLength(expectedLength);

    // ours → openssl
    expect(await opensslEncCase(c, raw, iv, ours.encryptedPayload, true)).toEqual(c.payload);

    // openssl → ours: same bytes for the same IV (deterministic), and they decrypt
    const theirs = await opensslEncCase(c, raw, iv, c.payload, false);
    expect(theirs).toEqual(ours.encryptedPayload);
    const freshIv = iv ? randomBytes(iv.length) : null;
    const theirsFresh = await opensslEncCase(c, raw, freshIv, c.payload, false);
    expect(
      decrypt(key, {
        cipherAlgorithm: c.cipher,
        encryptedPayload: theirsFresh,
        initializationVector: freshIv,
      }),
    ).toEqual(c.payload);
  });

  it('an empty encrypted payload of a padded mode is INVALID_PAYLOAD; of an unpadded one, empty', () => {
    const aes = secretKey('AES', randomBytes(16));
    const iv = Buffer.alloc(16);
    expect(
      tsbErrorOf(() =>
        decrypt(aes, { cipherAlgorithm: 'AES', encryptedPayload: EMPTY, initializationVector: iv }),
      ).errorCode,
    ).toBe(612);
    expect(
      tsbErrorOf(() => decrypt(aes, { cipherAlgorithm: 'AES_ECB', encryptedPayload: EMPTY })).errorCode,
    ).toBe(612);
    expect(
      decrypt(aes, {
        cipherAlgorithm: 'AES_CBC_NO_PADDING',
        encryptedPayload: EMPTY,
        initializationVector: iv,
      }),
    ).toEqual(EMPTY);
  });
});

// ---------------------------------------------------------------------------------------------
// AES_GCM with 128- and 192-bit keys, crossed with node:crypto

describe('AES_GCM with AES-128 and AES-192 keys against node:crypto', () => {
  const aad = Buffer.from('associated data');
  it.each([
    [16, 'aes-128-gcm', 128],
    [16, 'aes-128-gcm', 96],
    [24, 'aes-192-gcm', 128],
    [24, 'aes-192-gcm', 64],
  ] as const)('%i-byte key (%s), %i-bit tag', (bytes, name, bits) => {
    const raw = randomBytes(bytes);
    const key = secretKey('AES', raw);
    for (const payload of [PAYLOAD, EMPTY]) {
      const ours = encrypt(key, {
        cipherAlgorithm: 'AES_GCM',
        payload,
        tagLength: bits,
        additionalAuthenticationData: aad,
      });
      expect(ours.messageAuthenticationCode).toHaveLength(bits / 8);
      expect(ours.encryptedPayload).toHaveLength(payload.length + bits / 8);
      const d = createDecipheriv(name, raw, ours.initializationVector!, { authTagLength: bits / 8 });
      d.setAuthTag(ours.messageAuthenticationCode!);
      d.setAAD(aad);
      expect(
        Buffer.concat([d.update(ours.encryptedPayloadWithoutMessageAuthenticationCode!), d.final()]),
      ).toEqual(payload);

      const iv = randomBytes(12);
      const c = createCipheriv(name, raw, iv, { authTagLength: bits / 8 });
      c.setAAD(aad);
      const theirs = Buffer.concat([c.update(payload), c.final(), c.getAuthTag()]);
      expect(
        decrypt(key, {
          cipherAlgorithm: 'AES_GCM',
          encryptedPayload: theirs,
          initializationVector: iv,
          tagLength: bits,
          additionalAuthenticationData: aad,
        }),
      ).toEqual(payload);
    }
  });

  it('an AES-128 key decrypts what an AES-256 key under the same name cannot (key size is the key’s)', () => {
    const raw = randomBytes(16);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-128-gcm', raw, iv);
    const theirs = Buffer.concat([c.update(PAYLOAD), c.final(), c.getAuthTag()]);
    const request = { cipherAlgorithm: 'AES_GCM', encryptedPayload: theirs, initializationVector: iv };
    expect(decrypt(secretKey('AES', raw), request)).toEqual(PAYLOAD);
    expect(tsbErrorOf(() => decrypt(secretKey('AES', Buffer.concat([raw, raw])), request)).errorCode).toBe(
      410,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// RSA at the limits, crossed with `openssl pkeyutl`

const HASHES = ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'] as const;
const HASH_BYTES = { SHA1: 20, SHA224: 28, SHA256: 32, SHA384: 48, SHA512: 64 } as const;
const oaepOpts = (hash: string) => [
  'rsa_padding_mode:oaep',
  `rsa_oaep_md:${hash.toLowerCase()}`,
  `rsa_mgf1_md:${hash.toLowerCase()}`,
];

describe('RSA ciphers at their limits against openssl pkeyutl (one RSA-2048 key)', () => {
  let rsa: ReadyKey;
  let pkcs8: Buffer;
  let spki: Buffer;
  beforeAll(async () => {
    const material = await generateKey({ algorithm: 'RSA', keySize: 2048 });
    rsa = loadPrivate(material);
    pkcs8 = material.secret!;
    spki = material.publicKey!;
  });

  const pkeyutl = (mode: 'encrypt' | 'decrypt', opts: string[], input: Buffer): Promise<Buffer> =>
    opensslPkeyutl(mode, mode === 'encrypt' ? spki : pkcs8, opts, input);

  const limits: { cipher: CipherAlgorithm; max: number; opts: string[] }[] = [
    { cipher: 'RSA', max: 256 - 11, opts: [] }, // openssl's default padding is PKCS#1 v1.5
    { cipher: 'RSA_PADDING_PKCS', max: 256 - 11, opts: ['rsa_padding_mode:pkcs1'] },
    { cipher: 'RSA_PADDING_OAEP', max: 256 - 2 * 20 - 2, opts: oaepOpts('SHA1') },
    ...HASHES.map((hash) => ({
      cipher: `RSA_PADDING_OAEP_WITH_${hash}` as CipherAlgorithm,
      max: 256 - 2 * HASH_BYTES[hash] - 2,
      opts: oaepOpts(hash),
    })),
  ];

  it.each(limits.map((l) => [l.cipher, l] as const))(
    '%s: the longest payload both ways; one byte more is INVALID_PAYLOAD',
    async (_, l) => {
      const payload = randomBytes(l.max);
      const ours = encrypt(rsa, { cipherAlgorithm: l.cipher, payload });
      expect(ours.encryptedPayload).toHaveLength(256);
      expect(await pkeyutl('decrypt', l.opts, ours.encryptedPayload)).toEqual(payload);
      const theirs = await pkeyutl('encrypt', l.opts, payload);
      expect(decrypt(rsa, { cipherAlgorithm: l.cipher, encryptedPayload: theirs })).toEqual(payload);
      const error = tsbErrorOf(() =>
        encrypt(rsa, { cipherAlgorithm: l.cipher, payload: randomBytes(l.max + 1) }),
      );
      expect(error.errorCode).toBe(612);
      expect(error.message).toContain(`at most ${l.max} bytes`);
    },
  );

  it('RSA_PADDING_OAEP and RSA_PADDING_OAEP_WITH_SHA1 are the same scheme', () => {
    const out = encrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_OAEP', payload: PAYLOAD });
    expect(
      decrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA1', encryptedPayload: out.encryptedPayload }),
    ).toEqual(PAYLOAD);
  });

  it('RSA_NO_PADDING: a full-length block both ways', async () => {
    const block = randomBytes(256);
    block[0] = 0x01 + (block[0]! & 0x3f); // non-zero, below the modulus (whose top bit is set)
    const ours = encrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', payload: block });
    expect(await pkeyutl('decrypt', ['rsa_padding_mode:none'], ours.encryptedPayload)).toEqual(block);
    const theirs = await pkeyutl('encrypt', ['rsa_padding_mode:none'], block);
    expect(theirs).toEqual(ours.encryptedPayload); // raw RSA is deterministic
    expect(decrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', encryptedPayload: theirs })).toEqual(block);
  });

  it('RSA_NO_PADDING: a ciphertext with leading zero bytes, given in full or shortened', async () => {
    // choose the ciphertext, let openssl find its plaintext
    const ciphertext = Buffer.concat([Buffer.alloc(2), randomBytes(254)]);
    const plaintext = await pkeyutl('decrypt', ['rsa_padding_mode:none'], ciphertext);
    expect(plaintext).toHaveLength(256);
    // our encryption of that plaintext is the chosen ciphertext, leading zeros included
    const ours = encrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', payload: plaintext });
    expect(ours.encryptedPayload).toEqual(ciphertext);
    for (const given of [ciphertext, ciphertext.subarray(1), ciphertext.subarray(2)]) {
      expect(decrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', encryptedPayload: given })).toEqual(plaintext);
    }
  });

  it('RSA_NO_PADDING: a short payload is right-aligned in a zero block (what openssl encrypts)', async () => {
    const payload = Buffer.from([0x00, 0x00, 0x7f, 0x01]);
    const block = Buffer.concat([Buffer.alloc(252), payload]);
    const ours = encrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', payload });
    expect(ours.encryptedPayload).toEqual(await pkeyutl('encrypt', ['rsa_padding_mode:none'], block));
  });

  it('a ciphertext longer than the modulus is INVALID_PAYLOAD; the modulus itself is DECRYPT_FAILED', () => {
    expect(
      tsbErrorOf(() =>
        decrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', encryptedPayload: randomBytes(257) }),
      ).errorCode,
    ).toBe(612);
    expect(
      tsbErrorOf(() =>
        decrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', encryptedPayload: Buffer.alloc(256, 0xff) }),
      ).errorCode,
    ).toBe(410);
  });
});
