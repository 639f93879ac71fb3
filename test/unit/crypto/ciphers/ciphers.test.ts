import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SymmetricAlgorithm } from '../../../../src/crypto/algorithms.js';
import {
  CIPHER_ALGORITHMS,
  type CipherAlgorithm,
  decrypt,
  decryptOffThread,
  type EncryptionKey,
  encrypt,
} from '../../../../src/crypto/ciphers/ciphers.js';
import {
  generateKey,
  importKey,
  loadPrivate,
  type ReadyKey,
} from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { signaturePoolStats } from '../../../../src/crypto/signatures/signatures-pool.js';
import { countEventLoopTurns } from '../../../helpers/event-loop-turns.js';
import { opensslEnc, opensslPkeyutl } from '../../../helpers/openssl.js';
import { tsbErrorOf, tsbErrorOfAsync } from '../helpers.js';

const secretKey = (algorithm: SymmetricAlgorithm, bytes: Buffer): ReadyKey =>
  loadPrivate(importKey({ algorithm, secretKey: bytes }));

const PAYLOAD = Buffer.from('EncryptDecryptDemo, a payload of more than one block.');

// ---------------------------------------------------------------------------------------------
// Symmetric ciphers crossed with `openssl enc`

interface EncCase {
  cipher: CipherAlgorithm;
  algorithm: SymmetricAlgorithm;
  keyBytes: number;
  /** openssl enc cipher name */
  name: string;
  padding: boolean;
  /** the IV openssl takes, from the IV the client sees */
  iv: (iv: Buffer | null) => Buffer | null;
  payload?: Buffer;
}

const same = (iv: Buffer | null) => iv;
const BLOCKS = Buffer.alloc(48, 0x5a);

const ENC_CASES: EncCase[] = [
  { cipher: 'AES', algorithm: 'AES', keyBytes: 16, name: 'aes-128-cbc', padding: true, iv: same },
  { cipher: 'AES', algorithm: 'AES', keyBytes: 24, name: 'aes-192-cbc', padding: true, iv: same },
  { cipher: 'AES', algorithm: 'AES', keyBytes: 32, name: 'aes-256-cbc', padding: true, iv: same },
  { cipher: 'AES_ECB', algorithm: 'AES', keyBytes: 32, name: 'aes-256-ecb', padding: true, iv: same },
  { cipher: 'AES_CTR', algorithm: 'AES', keyBytes: 32, name: 'aes-256-ctr', padding: true, iv: same },
  {
    cipher: 'AES_CBC_NO_PADDING',
    algorithm: 'AES',
    keyBytes: 16,
    name: 'aes-128-cbc',
    padding: false,
    iv: same,
    payload: BLOCKS,
  },
  {
    cipher: 'CHACHA20',
    algorithm: 'ChaCha20',
    keyBytes: 32,
    name: 'chacha20',
    padding: true,
    // OpenSSL: 32-bit little-endian counter (1) ‖ 12-byte nonce
    iv: (iv) => Buffer.concat([Buffer.of(1, 0, 0, 0), iv!]),
  },
  {
    cipher: 'CAMELLIA',
    algorithm: 'Camellia',
    keyBytes: 32,
    name: 'camellia-256-cbc',
    padding: true,
    iv: same,
  },
  {
    cipher: 'CAMELLIA',
    algorithm: 'Camellia',
    keyBytes: 16,
    name: 'camellia-128-cbc',
    padding: true,
    iv: same,
  },
  {
    cipher: 'CAMELLIA_CBC_NO_PADDING',
    algorithm: 'Camellia',
    keyBytes: 24,
    name: 'camellia-192-cbc',
    padding: false,
    iv: same,
    payload: BLOCKS,
  },
  {
    cipher: 'CAMELLIA_ECB',
    algorithm: 'Camellia',
    keyBytes: 32,
    name: 'camellia-256-ecb',
    padding: true,
    iv: same,
  },
  { cipher: 'TDEA_CBC', algorithm: 'TDEA', keyBytes: 24, name: 'des-ede3-cbc', padding: true, iv: same },
  { cipher: 'TDEA_CBC', algorithm: 'TDEA', keyBytes: 16, name: 'des-ede-cbc', padding: true, iv: same },
  { cipher: 'TDEA_ECB', algorithm: 'TDEA', keyBytes: 24, name: 'des-ede3-ecb', padding: true, iv: same },
  {
    cipher: 'TDEA_CBC_NO_PADDING',
    algorithm: 'TDEA',
    keyBytes: 24,
    name: 'des-ede3-cbc',
    padding: false,
    iv: same,
    payload: BLOCKS.subarray(0, 40),
  },
];

/** A TDEA key with distinct subkeys (random bytes are; parity bits do not matter to openssl). */
const keyFor = (c: EncCase) => randomBytes(c.keyBytes);

const opensslEncCase = (c: EncCase, key: Buffer, iv: Buffer | null, input: Buffer, decrypt: boolean) =>
  opensslEnc(c.name, key, iv, input, { decrypt, nopad: !c.padding });

describe('symmetric ciphers against openssl enc', () => {
  it.each(ENC_CASES.map((c) => [`${c.cipher} (${c.name})`, c] as const))('%s', async (_, c) => {
    const raw = keyFor(c);
    const key = secretKey(c.algorithm, raw);
    const payload = c.payload ?? PAYLOAD;

    // ours → ours
    const encrypted = encrypt(key, { cipherAlgorithm: c.cipher, payload });
    expect(encrypted.encryptedPayloadWithoutMessageAuthenticationCode).toBeNull();
    expect(encrypted.messageAuthenticationCode).toBeNull();
    const iv = encrypted.initializationVector;
    expect(
      decrypt(key, {
        cipherAlgorithm: c.cipher,
        encryptedPayload: encrypted.encryptedPayload,
        initializationVector: iv,
      }),
    ).toEqual(payload);

    // ours → openssl
    expect(await opensslEncCase(c, raw, c.iv(iv), encrypted.encryptedPayload, true)).toEqual(payload);

    // openssl → ours (with a fresh IV of the same length)
    const freshIv = iv ? randomBytes(iv.length) : null;
    const theirs = await opensslEncCase(c, raw, c.iv(freshIv), payload, false);
    expect(
      decrypt(key, { cipherAlgorithm: c.cipher, encryptedPayload: theirs, initializationVector: freshIv }),
    ).toEqual(payload);
  });

  it('uses fresh IVs of the documented lengths, and none for ECB', () => {
    const aes = secretKey('AES', randomBytes(32));
    const lengths = (cipher: CipherAlgorithm) =>
      encrypt(aes, { cipherAlgorithm: cipher, payload: PAYLOAD }).initializationVector?.length ?? 0;
    expect(lengths('AES')).toBe(16);
    expect(lengths('AES_CTR')).toBe(16);
    expect(lengths('AES_GCM')).toBe(12);
    expect(lengths('AES_ECB')).toBe(0);
    const a = encrypt(aes, { cipherAlgorithm: 'AES', payload: PAYLOAD });
    const b = encrypt(aes, { cipherAlgorithm: 'AES', payload: PAYLOAD });
    expect(a.initializationVector).not.toEqual(b.initializationVector);
    const tdea = secretKey('TDEA', randomBytes(24));
    expect(
      encrypt(tdea, { cipherAlgorithm: 'TDEA_CBC', payload: PAYLOAD }).initializationVector,
    ).toHaveLength(8);
  });

  it('CHACHA20 follows RFC 8439 §2.4.2 (counter 1, 12-byte nonce)', () => {
    const key = secretKey('ChaCha20', Buffer.from([...Array(32).keys()]));
    const plaintext = Buffer.from(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    // a stream cipher: decrypting the plaintext yields the ciphertext
    const ciphertext = decrypt(key, {
      cipherAlgorithm: 'CHACHA20',
      encryptedPayload: plaintext,
      initializationVector: Buffer.from('000000000000004a00000000', 'hex'),
    });
    expect(ciphertext.subarray(0, 16).toString('hex')).toBe('6e2e359a2568f98041ba0728dd0d6981');
    expect(ciphertext.subarray(-2).toString('hex')).toBe('874d');
  });
});

// ---------------------------------------------------------------------------------------------
// AEAD ciphers crossed with node:crypto directly

describe('AEAD ciphers', () => {
  const aes = secretKey('AES', randomBytes(32));
  const aesRaw = (aes as { key: KeyObject }).key;
  const chacha = secretKey('ChaCha20', randomBytes(32));
  const chachaRaw = (chacha as { key: KeyObject }).key;
  const aad = Buffer.from('header');

  it.each([64, 96, 104, 112, 120, 128])('AES_GCM with a %i-bit tag, both ways with node:crypto', (bits) => {
    const out = encrypt(aes, {
      cipherAlgorithm: 'AES_GCM',
      payload: PAYLOAD,
      tagLength: bits,
      additionalAuthenticationData: aad,
    });
    const tag = out.messageAuthenticationCode!;
    expect(tag).toHaveLength(bits / 8);
    expect(out.initializationVector).toHaveLength(12);
    expect(out.encryptedPayload).toEqual(
      Buffer.concat([out.encryptedPayloadWithoutMessageAuthenticationCode!, tag]),
    );
    const d = createDecipheriv('aes-256-gcm', aesRaw, out.initializationVector!, { authTagLength: bits / 8 });
    d.setAuthTag(tag);
    d.setAAD(aad);
    expect(
      Buffer.concat([d.update(out.encryptedPayloadWithoutMessageAuthenticationCode!), d.final()]),
    ).toEqual(PAYLOAD);

    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', aesRaw, iv, { authTagLength: bits / 8 });
    c.setAAD(aad);
    const theirs = Buffer.concat([c.update(PAYLOAD), c.final(), c.getAuthTag()]);
    expect(
      decrypt(aes, {
        cipherAlgorithm: 'AES_GCM',
        encryptedPayload: theirs,
        initializationVector: iv,
        tagLength: bits,
        additionalAuthenticationData: aad,
      }),
    ).toEqual(PAYLOAD);
  });

  it('AES_GCM decrypts the GCM specification test case 4 (AES-128, AAD, 96-bit IV)', () => {
    const key = secretKey('AES', Buffer.from('feffe9928665731c6d6a8f9467308308', 'hex'));
    const payload = decrypt(key, {
      cipherAlgorithm: 'AES_GCM',
      encryptedPayload: Buffer.from(
        '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' +
          '5bc94fbc3221a5db94fae95ae7121a47',
        'hex',
      ),
      initializationVector: Buffer.from('cafebabefacedbaddecaf888', 'hex'),
      additionalAuthenticationData: Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex'),
    });
    expect(payload.toString('hex')).toBe(
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    );
  });

  it('AES_GCM has the layout of reference sample 12 (18-byte payload, tag 128)', () => {
    const sample = {
      encryptedPayload: 'ZK/UOxbOPW9rYWe8vZqCmDzfP5r6kv2zpdsE8hnbqg2MCA==',
      encryptedPayloadWithoutMessageAuthenticationCode: 'ZK/UOxbOPW9rYWe8vZqCmDzf',
      initializationVector: 'C73HyZuY5nnKyChF',
      messageAuthenticationCode: 'P5r6kv2zpdsE8hnbqg2MCA==',
    };
    const b = (s: string) => Buffer.from(s, 'base64');
    expect(b(sample.encryptedPayload)).toEqual(
      Buffer.concat([
        b(sample.encryptedPayloadWithoutMessageAuthenticationCode),
        b(sample.messageAuthenticationCode),
      ]),
    );
    const payload = Buffer.from('RW5jcnlwdERlY3J5cHREZW1v', 'base64');
    const ours = encrypt(aes, { cipherAlgorithm: 'AES_GCM', payload, tagLength: 128 });
    for (const field of Object.keys(sample) as (keyof typeof sample)[]) {
      expect(ours[field]!.length, field).toBe(b(sample[field]).length);
    }
  });

  it('tagLength 0 or absent means 128 bits', () => {
    expect(
      encrypt(aes, { cipherAlgorithm: 'AES_GCM', payload: PAYLOAD, tagLength: 0 }).messageAuthenticationCode,
    ).toHaveLength(16);
    const out = encrypt(aes, { cipherAlgorithm: 'AES_GCM', payload: PAYLOAD });
    expect(out.messageAuthenticationCode).toHaveLength(16);
    expect(
      decrypt(aes, {
        cipherAlgorithm: 'AES_GCM',
        encryptedPayload: out.encryptedPayload,
        initializationVector: out.initializationVector,
        tagLength: 0,
      }),
    ).toEqual(PAYLOAD);
  });

  it('CHACHA20_AEAD, both ways with node:crypto', () => {
    const out = encrypt(chacha, {
      cipherAlgorithm: 'CHACHA20_AEAD',
      payload: PAYLOAD,
      additionalAuthenticationData: aad,
    });
    expect(out.messageAuthenticationCode).toHaveLength(16);
    expect(out.initializationVector).toHaveLength(12);
    const d = createDecipheriv('chacha20-poly1305', chachaRaw, out.initializationVector!, {
      authTagLength: 16,
    });
    d.setAuthTag(out.messageAuthenticationCode!);
    d.setAAD(aad, { plaintextLength: PAYLOAD.length });
    expect(
      Buffer.concat([d.update(out.encryptedPayloadWithoutMessageAuthenticationCode!), d.final()]),
    ).toEqual(PAYLOAD);

    const iv = randomBytes(12);
    const c = createCipheriv('chacha20-poly1305', chachaRaw, iv, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: PAYLOAD.length });
    const theirs = Buffer.concat([c.update(PAYLOAD), c.final(), c.getAuthTag()]);
    expect(
      decrypt(chacha, {
        cipherAlgorithm: 'CHACHA20_AEAD',
        encryptedPayload: theirs,
        initializationVector: iv,
        additionalAuthenticationData: aad,
      }),
    ).toEqual(PAYLOAD);
  });

  it('a tampered tag, ciphertext or AAD is DECRYPT_FAILED (410) with one message', () => {
    for (const [cipher, key] of [
      ['AES_GCM', aes],
      ['CHACHA20_AEAD', chacha],
    ] as const) {
      const out = encrypt(key, {
        cipherAlgorithm: cipher,
        payload: PAYLOAD,
        additionalAuthenticationData: aad,
      });
      const request = {
        cipherAlgorithm: cipher,
        initializationVector: out.initializationVector,
        additionalAuthenticationData: aad,
      };
      const messages = new Set<string>();
      for (const index of [0, out.encryptedPayload.length - 1]) {
        const tampered = Buffer.from(out.encryptedPayload);
        tampered[index]! ^= 1;
        const error = tsbErrorOf(() => decrypt(key, { ...request, encryptedPayload: tampered }));
        expect(error.errorCode).toBe(410);
        messages.add(error.message);
      }
      const error = tsbErrorOf(() =>
        decrypt(key, {
          ...request,
          encryptedPayload: out.encryptedPayload,
          additionalAuthenticationData: Buffer.from('x'),
        }),
      );
      expect(error.errorCode).toBe(410);
      messages.add(error.message);
      expect(messages.size).toBe(1);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// RSA crossed with `openssl pkeyutl`

const RSA_CASES: { cipher: CipherAlgorithm; opts: string[] }[] = [
  { cipher: 'RSA', opts: ['rsa_padding_mode:pkcs1'] },
  { cipher: 'RSA_PADDING_PKCS', opts: ['rsa_padding_mode:pkcs1'] },
  { cipher: 'RSA_PADDING_OAEP', opts: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha1', 'rsa_mgf1_md:sha1'] },
  ...(['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'] as const).map((hash) => ({
    cipher: `RSA_PADDING_OAEP_WITH_${hash}` as CipherAlgorithm,
    opts: ['rsa_padding_mode:oaep', `rsa_oaep_md:${hash.toLowerCase()}`, `rsa_mgf1_md:${hash.toLowerCase()}`],
  })),
  { cipher: 'RSA_NO_PADDING', opts: ['rsa_padding_mode:none'] },
];

describe('RSA ciphers against openssl pkeyutl', () => {
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

  it.each(RSA_CASES.map((c) => [c.cipher, c] as const))('%s', async (_, c) => {
    const none = c.cipher === 'RSA_NO_PADDING';
    const payload = Buffer.from('a secret to keep');
    const block = Buffer.concat([Buffer.alloc(256 - payload.length), payload]);
    const expected = none ? block : payload;

    const ours = encrypt(rsa, { cipherAlgorithm: c.cipher, payload });
    expect(ours.encryptedPayload).toHaveLength(256);
    expect(ours.initializationVector).toBeNull();
    expect(decrypt(rsa, { cipherAlgorithm: c.cipher, encryptedPayload: ours.encryptedPayload })).toEqual(
      expected,
    );
    expect(await pkeyutl('decrypt', c.opts, ours.encryptedPayload)).toEqual(expected);

    const theirs = await pkeyutl('encrypt', c.opts, none ? block : payload);
    expect(decrypt(rsa, { cipherAlgorithm: c.cipher, encryptedPayload: theirs })).toEqual(expected);
    // as the HSM decrypts: the private operation in the signature pool's worker
    expect(await decryptOffThread(rsa, { cipherAlgorithm: c.cipher, encryptedPayload: theirs })).toEqual(
      expected,
    );
  });

  it('decrypts in a worker thread while the event loop runs on, with the answers of the calling thread', async () => {
    const oaep = encrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256', payload: PAYLOAD });
    const pkcs = encrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_PKCS', payload: PAYLOAD });
    const before = signaturePoolStats();
    const turns = countEventLoopTurns();
    const plaintexts = await Promise.all(
      Array.from({ length: 16 }, () =>
        decryptOffThread(rsa, {
          cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
          encryptedPayload: oaep.encryptedPayload,
        }),
      ),
    );
    expect(turns.stop(), 'event-loop turns while the worker decrypted').toBeGreaterThan(0);
    expect(signaturePoolStats().worker - before.worker).toBe(16);
    for (const plaintext of plaintexts) expect(plaintext).toEqual(PAYLOAD);

    // a wrong OAEP padding fails alike; a wrong PKCS#1 v1.5 one decrypts to the same derived message
    const wrongOaep = {
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA1',
      encryptedPayload: oaep.encryptedPayload,
    };
    const failure = await tsbErrorOfAsync(() => decryptOffThread(rsa, wrongOaep));
    const inlineFailure = tsbErrorOf(() => decrypt(rsa, wrongOaep));
    expect([failure.errorCode, failure.message]).toEqual([410, inlineFailure.message]);
    const wrongPkcs = { cipherAlgorithm: 'RSA_PADDING_PKCS', encryptedPayload: oaep.encryptedPayload };
    expect(await decryptOffThread(rsa, wrongPkcs)).toEqual(decrypt(rsa, wrongPkcs));
    expect(
      await decryptOffThread(rsa, {
        cipherAlgorithm: 'RSA_PADDING_PKCS',
        encryptedPayload: pkcs.encryptedPayload,
      }),
    ).toEqual(PAYLOAD);
    const tooLong = { cipherAlgorithm: 'RSA', encryptedPayload: Buffer.alloc(257, 1) };
    expect((await tsbErrorOfAsync(() => decryptOffThread(rsa, tooLong))).errorCode).toBe(612);
  });

  it('encrypts with an RSA public key alone', () => {
    const publicOnly: EncryptionKey = {
      kind: 'rsa-public',
      key: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    };
    const out = encrypt(publicOnly, { cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256', payload: PAYLOAD });
    expect(
      decrypt(rsa, {
        cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
        encryptedPayload: out.encryptedPayload,
      }),
    ).toEqual(PAYLOAD);
    expect(
      tsbErrorOf(() =>
        decrypt(publicOnly, { cipherAlgorithm: 'RSA', encryptedPayload: out.encryptedPayload }),
      ).errorCode,
    ).toBe(614);
  });

  it('a wrong OAEP padding is DECRYPT_FAILED, a wrong PKCS#1 v1.5 one is not told; a too long payload is INVALID_PAYLOAD', () => {
    const oaep = encrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256', payload: PAYLOAD });
    const pkcs = encrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_PKCS', payload: PAYLOAD });
    const e1 = tsbErrorOf(() =>
      decrypt(rsa, {
        cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA1',
        encryptedPayload: pkcs.encryptedPayload,
      }),
    );
    const e2 = tsbErrorOf(() =>
      decrypt(rsa, {
        cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA1',
        encryptedPayload: oaep.encryptedPayload,
      }),
    );
    expect([e1.errorCode, e2.errorCode]).toEqual([410, 410]);
    expect(e1.message).toBe(e2.message);
    const implicit = decrypt(rsa, {
      cipherAlgorithm: 'RSA_PADDING_PKCS',
      encryptedPayload: oaep.encryptedPayload,
    });
    expect(implicit).not.toEqual(PAYLOAD);
    expect(
      tsbErrorOf(() =>
        encrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA512', payload: Buffer.alloc(200) }),
      ).errorCode,
    ).toBe(612);
    expect(
      tsbErrorOf(() => encrypt(rsa, { cipherAlgorithm: 'RSA_NO_PADDING', payload: Buffer.alloc(256, 0xff) }))
        .errorCode,
    ).toBe(612);
  });

  it('a cipher of another key family is ALGORITHM_NOT_SUPPORTED_BY_KEY (607)', () => {
    const aes = secretKey('AES', randomBytes(16));
    expect(tsbErrorOf(() => encrypt(rsa, { cipherAlgorithm: 'AES_GCM', payload: PAYLOAD })).errorCode).toBe(
      607,
    );
    expect(tsbErrorOf(() => encrypt(aes, { cipherAlgorithm: 'RSA', payload: PAYLOAD })).errorCode).toBe(607);
    expect(tsbErrorOf(() => encrypt(aes, { cipherAlgorithm: 'CAMELLIA', payload: PAYLOAD })).errorCode).toBe(
      607,
    );
    const hmacKey = secretKey('HMACSHA256', randomBytes(32));
    expect(tsbErrorOf(() => encrypt(hmacKey, { cipherAlgorithm: 'AES', payload: PAYLOAD })).errorCode).toBe(
      607,
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecKey: ReadyKey = {
      kind: 'node',
      algorithm: 'EC',
      curveOid: null,
      key: ec.privateKey,
      publicKey: ec.publicKey,
    };
    expect(tsbErrorOf(() => encrypt(ecKey, { cipherAlgorithm: 'RSA', payload: PAYLOAD })).errorCode).toBe(
      607,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Validation

describe('request validation', () => {
  const aes = secretKey('AES', randomBytes(32));

  it('every cipher algorithm is known', () => {
    expect(CIPHER_ALGORITHMS).toHaveLength(22);
  });

  it('an unknown cipher is UNSUPPORTED_CIPHER (629)', () => {
    const error = tsbErrorOf(() => encrypt(aes, { cipherAlgorithm: 'AES_XTS', payload: PAYLOAD }));
    expect(error.errorCode).toBe(629);
    expect(error.reason).toBe('res.error.unsupported.cipher');
  });

  it('a wrong or missing IV is INPUT_VALIDATION_FAILED naming initializationVector', () => {
    const out = encrypt(aes, { cipherAlgorithm: 'AES', payload: PAYLOAD });
    for (const iv of [Buffer.alloc(12), null]) {
      const error = tsbErrorOf(() =>
        decrypt(aes, {
          cipherAlgorithm: 'AES',
          encryptedPayload: out.encryptedPayload,
          initializationVector: iv,
        }),
      );
      expect(error.errorCode).toBe(600);
      expect(error.message).toContain('initializationVector');
    }
    const gcm = encrypt(aes, { cipherAlgorithm: 'AES_GCM', payload: PAYLOAD });
    const error = tsbErrorOf(() =>
      decrypt(aes, {
        cipherAlgorithm: 'AES_GCM',
        encryptedPayload: gcm.encryptedPayload,
        initializationVector: Buffer.alloc(16),
      }),
    );
    expect(error.errorCode).toBe(600);
  });

  it('a wrong tag length is INVALID_TAG_LENGTH (624)', () => {
    for (const tagLength of [32, 100, 256, -1]) {
      const error = tsbErrorOf(() =>
        encrypt(aes, { cipherAlgorithm: 'AES_GCM', payload: PAYLOAD, tagLength }),
      );
      expect(error.errorCode).toBe(624);
      expect(error.reason).toBe('res.error.key.invalid.tagLength');
    }
    const chacha = secretKey('ChaCha20', randomBytes(32));
    expect(
      tsbErrorOf(() => encrypt(chacha, { cipherAlgorithm: 'CHACHA20_AEAD', payload: PAYLOAD, tagLength: 96 }))
        .errorCode,
    ).toBe(624);
  });

  it('NO_PADDING with a payload not a multiple of the block is INVALID_PAYLOAD (612)', () => {
    expect(
      tsbErrorOf(() => encrypt(aes, { cipherAlgorithm: 'AES_CBC_NO_PADDING', payload: Buffer.alloc(17) }))
        .errorCode,
    ).toBe(612);
    const tdea = secretKey('TDEA', randomBytes(24));
    expect(
      tsbErrorOf(() => encrypt(tdea, { cipherAlgorithm: 'TDEA_CBC_NO_PADDING', payload: Buffer.alloc(12) }))
        .errorCode,
    ).toBe(612);
    expect(
      tsbErrorOf(() =>
        decrypt(aes, {
          cipherAlgorithm: 'AES_CBC_NO_PADDING',
          encryptedPayload: Buffer.alloc(20),
          initializationVector: Buffer.alloc(16),
        }),
      ).errorCode,
    ).toBe(612);
  });

  it('a bad CBC padding is DECRYPT_FAILED (410)', () => {
    // a block of zeros encrypted without padding decrypts to a last byte 0: never a valid padding
    for (const [padded, unpadded, key] of [
      ['AES', 'AES_CBC_NO_PADDING', aes],
      ['TDEA_CBC', 'TDEA_CBC_NO_PADDING', secretKey('TDEA', randomBytes(24))],
    ] as const) {
      const out = encrypt(key, { cipherAlgorithm: unpadded, payload: Buffer.alloc(16) });
      const error = tsbErrorOf(() =>
        decrypt(key, {
          cipherAlgorithm: padded,
          encryptedPayload: out.encryptedPayload,
          initializationVector: out.initializationVector,
        }),
      );
      expect(error.errorCode).toBe(410);
      expect(error.message).toBe('decryption failed');
    }
  });

  it('AAD with a non-AEAD cipher is INPUT_VALIDATION_FAILED', () => {
    const error = tsbErrorOf(() =>
      encrypt(aes, {
        cipherAlgorithm: 'AES',
        payload: PAYLOAD,
        additionalAuthenticationData: Buffer.from('x'),
      }),
    );
    expect(error.errorCode).toBe(600);
    expect(error.message).toContain('additionalAuthenticationData');
  });

  it('accepts lower-case cipher names', () => {
    const out = encrypt(aes, { cipherAlgorithm: 'aes_gcm', payload: PAYLOAD });
    expect(out.messageAuthenticationCode).toHaveLength(16);
  });
});

describe('PKCS#1 v1.5 decryption rejects implicitly (no padding oracle)', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsa = loadPrivate(
    importKey({ algorithm: 'RSA', privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'der' }) }),
  );
  // EM = header ‖ PS ‖ (0x00) ‖ "msg", encrypted by the bare public-key operation: the padding is ours
  const ciphertextOf = (header: number[], psLength: number, separator = true) =>
    publicEncrypt(
      { key: pair.publicKey, padding: constants.RSA_NO_PADDING },
      Buffer.concat([
        Buffer.from(header),
        Buffer.alloc(psLength, 0xab),
        Buffer.from(separator ? [0] : []),
        Buffer.alloc(256 - header.length - psLength - (separator ? 1 : 0) - 3, 0xcd),
        Buffer.from('msg'),
      ]),
    );
  const pkcs1 = (encryptedPayload: Buffer) =>
    decrypt(rsa, { cipherAlgorithm: 'RSA_PADDING_PKCS', encryptedPayload });

  it('finds the message after a well-formed padding', () => {
    expect(
      pkcs1(ciphertextOf([0, 2], 8))
        .subarray(-3)
        .toString(),
    ).toBe('msg');
    expect(pkcs1(ciphertextOf([0, 2], 200))).toHaveLength(256 - 2 - 200 - 1);
  });

  it('answers a bad padding with a message derived from the ciphertext, never with an error', () => {
    const bad = [
      ciphertextOf([0, 1], 8),
      ciphertextOf([1, 2], 8),
      ciphertextOf([0, 2], 7),
      ciphertextOf([0, 2], 251, false),
    ];
    const answers = bad.map(pkcs1);
    for (const [index, ciphertext] of bad.entries()) {
      expect(pkcs1(ciphertext)).toEqual(answers[index]); // the same each time
      expect(answers[index]!.includes('msg')).toBe(false);
    }
    expect(new Set(answers.map((answer) => answer.toString('hex'))).size).toBe(bad.length);
    // and random blocks, nearly all badly padded, decrypt too
    for (let i = 0; i < 64; i++) {
      const block = randomBytes(256);
      block[0] = 0;
      expect(() => pkcs1(block)).not.toThrow();
    }
  });
});
