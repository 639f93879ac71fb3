import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  verify as nodeVerify,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, opensslEnc, withScratch } from '../helpers/openssl.js';

let t: TestContext;
const P = 'ciphers';
const aesKey = randomBytes(32);
const camelliaKey = randomBytes(32);
const tdeaKey = randomBytes(24);
const chachaKey = randomBytes(32);
let rsaSpki: Buffer;
let rsaSignerSpki: Buffer;

const b64 = (bytes: Buffer) => bytes.toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64');
const decryptOnly = { decrypt: true, sign: false, unwrap: false };

const manage = (url: string, body: object) => t.call(P, ['keyManagement'], { method: 'POST', url, body });
const operate = (url: string, body: object) => t.call(P, ['keyOperation'], { method: 'POST', url, body });

const encrypt = (request: Record<string, unknown>) => operate('/v1/encrypt', { encryptRequest: request });
const decrypt = (request: Record<string, unknown>) =>
  operate('/v1/synchronousDecrypt', { decryptRequest: request });

async function importSecret(label: string, algorithm: string, secret: Buffer, attributes = decryptOnly) {
  const response = await manage('/v1/key/import/plain', {
    label,
    algorithm,
    secretKey: b64(secret),
    attributes,
  });
  expect(response.statusCode, response.body).toBe(201);
}

const snapshot = () => t.keySnapshot();

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  await importSecret('aes', 'AES', aesKey);
  await importSecret('camellia', 'Camellia', camelliaKey);
  await importSecret('tdea', 'TDEA', tdeaKey);
  await importSecret('chacha', 'ChaCha20', chachaKey);
  await importSecret('aes-no-decrypt', 'AES', randomBytes(32), { decrypt: false, sign: false, unwrap: true });
  const rsa = await manage('/v1/key', {
    label: 'rsa',
    algorithm: 'RSA',
    keySize: 2048,
    attributes: decryptOnly,
  });
  expect(rsa.statusCode, rsa.body).toBe(201);
  rsaSpki = unb64(rsa.json().json.publicKey);
  const rsaSigner = await manage('/v1/key', {
    label: 'rsa-sign-decrypt',
    algorithm: 'RSA',
    keySize: 2048,
    attributes: { decrypt: true, sign: true, unwrap: false },
  });
  expect(rsaSigner.statusCode, rsaSigner.body).toBe(201);
  rsaSignerSpki = unb64(rsaSigner.json().json.publicKey);
});
afterAll(() => t.close());

describe('AES_GCM', () => {
  const payload = Buffer.from('EncryptDecryptDemo'); // sample 11

  it.each([128, 96])(
    'encrypts with tagLength %i and AAD in the sample-12 layout; node:crypto decrypts',
    async (bits) => {
      const aad = randomBytes(20);
      const response = await encrypt({
        payload: b64(payload),
        encryptKeyName: 'aes',
        cipherAlgorithm: 'AES_GCM',
        tagLength: bits,
        additionalAuthenticationData: b64(aad),
      });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      const full = unb64(body.encryptedPayload);
      const withoutMac = unb64(body.encryptedPayloadWithoutMessageAuthenticationCode);
      const mac = unb64(body.messageAuthenticationCode);
      const iv = unb64(body.initializationVector);
      expect(iv.length).toBe(12);
      expect(withoutMac.length).toBe(payload.length);
      expect(mac.length).toBe(bits / 8);
      expect(full.equals(Buffer.concat([withoutMac, mac]))).toBe(true);

      const decipher = createDecipheriv('aes-256-gcm', aesKey, iv, { authTagLength: bits / 8 });
      decipher.setAAD(aad);
      decipher.setAuthTag(mac);
      expect(Buffer.concat([decipher.update(withoutMac), decipher.final()]).equals(payload)).toBe(true);

      // and the service decrypts its own output (sample 13 layout: encryptedPayload = ciphertext ‖ tag)
      const back = await decrypt({
        encryptedPayload: body.encryptedPayload,
        decryptKeyName: 'aes',
        cipherAlgorithm: 'AES_GCM',
        initializationVector: body.initializationVector,
        tagLength: bits,
        additionalAuthenticationData: b64(aad),
      });
      expect(back.statusCode, back.body).toBe(200);
      expect(back.json().payload).toBe(b64(payload));
    },
  );

  it.each([128, 96])('decrypts a node:crypto ciphertext with tagLength %i and AAD', async (bits) => {
    const iv = randomBytes(12);
    const aad = randomBytes(7);
    const plaintext = randomBytes(45);
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv, { authTagLength: bits / 8 });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const response = await decrypt({
      encryptedPayload: b64(ciphertext),
      decryptKeyName: 'aes',
      cipherAlgorithm: 'AES_GCM',
      initializationVector: b64(iv),
      tagLength: bits,
      additionalAuthenticationData: b64(aad),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().payload).toBe(b64(plaintext));
  });
});

describe('block and stream ciphers against the openssl CLI', () => {
  const cases = [
    { cipher: 'AES_CBC_NO_PADDING', key: 'aes', openssl: 'aes-256-cbc', nopad: true, iv: 16, size: 64 },
    { cipher: 'AES_CTR', key: 'aes', openssl: 'aes-256-ctr', nopad: false, iv: 16, size: 37 },
    { cipher: 'AES_ECB', key: 'aes', openssl: 'aes-256-ecb', nopad: false, iv: 0, size: 37 },
    { cipher: 'AES', key: 'aes', openssl: 'aes-256-cbc', nopad: false, iv: 16, size: 37 },
    { cipher: 'CAMELLIA', key: 'camellia', openssl: 'camellia-256-cbc', nopad: false, iv: 16, size: 37 },
    { cipher: 'TDEA_CBC', key: 'tdea', openssl: 'des-ede3-cbc', nopad: false, iv: 8, size: 37 },
  ] as const;
  const keyBytes = { aes: aesKey, camellia: camelliaKey, tdea: tdeaKey };

  it.each(cases)('$cipher: service output decrypts with openssl enc -$openssl, and back', async (c) => {
    const key = keyBytes[c.key];
    const plaintext = randomBytes(c.size);
    const response = await encrypt({
      payload: b64(plaintext),
      encryptKeyName: c.key,
      cipherAlgorithm: c.cipher,
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.messageAuthenticationCode).toBeNull();
    expect(body.encryptedPayloadWithoutMessageAuthenticationCode).toBeNull();
    const iv = c.iv === 0 ? null : unb64(body.initializationVector);
    if (c.iv === 0) expect(body.initializationVector).toBeNull();
    else expect(iv!.length).toBe(c.iv);
    const ciphertext = unb64(body.encryptedPayload);
    const opened = await opensslEnc(c.openssl, key, iv, ciphertext, { decrypt: true, nopad: c.nopad });
    expect(opened.equals(plaintext)).toBe(true);

    const ownIv = c.iv === 0 ? null : randomBytes(c.iv);
    const other = randomBytes(c.size);
    const sealed = await opensslEnc(c.openssl, key, ownIv, other, { nopad: c.nopad });
    const back = await decrypt({
      encryptedPayload: b64(sealed),
      decryptKeyName: c.key,
      cipherAlgorithm: c.cipher,
      ...(ownIv ? { initializationVector: b64(ownIv) } : {}),
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().payload).toBe(b64(other));
  });

  it('CHACHA20: the 12-byte nonce with block counter 1 is what openssl -chacha20 reads as counter ‖ nonce', async () => {
    const plaintext = randomBytes(100);
    const response = await encrypt({
      payload: b64(plaintext),
      encryptKeyName: 'chacha',
      cipherAlgorithm: 'CHACHA20',
    });
    expect(response.statusCode, response.body).toBe(200);
    const nonce = unb64(response.json().initializationVector);
    expect(nonce.length).toBe(12);
    const opensslIv = Buffer.concat([Buffer.of(1, 0, 0, 0), nonce]);
    const opened = await opensslEnc(
      'chacha20',
      chachaKey,
      opensslIv,
      unb64(response.json().encryptedPayload),
      {
        decrypt: true,
      },
    );
    expect(opened.equals(plaintext)).toBe(true);
  });

  it('CHACHA20_AEAD: crosses both ways with node:crypto chacha20-poly1305', async () => {
    const plaintext = randomBytes(50);
    const aad = randomBytes(9);
    const response = await encrypt({
      payload: b64(plaintext),
      encryptKeyName: 'chacha',
      cipherAlgorithm: 'CHACHA20_AEAD',
      additionalAuthenticationData: b64(aad),
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    const iv = unb64(body.initializationVector);
    const mac = unb64(body.messageAuthenticationCode);
    expect(iv.length).toBe(12);
    expect(mac.length).toBe(16);
    expect(
      unb64(body.encryptedPayload).equals(
        Buffer.concat([unb64(body.encryptedPayloadWithoutMessageAuthenticationCode), mac]),
      ),
    ).toBe(true);
    const decipher = createDecipheriv('chacha20-poly1305', chachaKey, iv, { authTagLength: 16 });
    decipher.setAAD(aad, { plaintextLength: plaintext.length });
    decipher.setAuthTag(mac);
    const opened = Buffer.concat([
      decipher.update(unb64(body.encryptedPayloadWithoutMessageAuthenticationCode)),
      decipher.final(),
    ]);
    expect(opened.equals(plaintext)).toBe(true);

    const nonce = randomBytes(12);
    const other = randomBytes(33);
    const cipher = createCipheriv('chacha20-poly1305', chachaKey, nonce, { authTagLength: 16 });
    cipher.setAAD(aad, { plaintextLength: other.length });
    const sealed = Buffer.concat([cipher.update(other), cipher.final(), cipher.getAuthTag()]);
    const back = await decrypt({
      encryptedPayload: b64(sealed),
      decryptKeyName: 'chacha',
      cipherAlgorithm: 'CHACHA20_AEAD',
      initializationVector: b64(nonce),
      additionalAuthenticationData: b64(aad),
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().payload).toBe(b64(other));
  });
});

describe('RSA', () => {
  async function opensslRsaEncrypt(plaintext: Buffer, options: string[]): Promise<Buffer> {
    return withScratch(async (dir) => {
      const pem = createPublicKey({ key: rsaSpki, format: 'der', type: 'spki' }).export({
        type: 'spki',
        format: 'pem',
      });
      await writeFile(path.join(dir, 'pub.pem'), pem);
      await writeFile(path.join(dir, 'in'), plaintext);
      await openssl(
        ['pkeyutl', '-encrypt', '-pubin', '-inkey', 'pub.pem', ...options, '-in', 'in', '-out', 'out'],
        dir,
      );
      return readFile(path.join(dir, 'out'));
    });
  }

  it('decrypts an openssl pkeyutl RSA-OAEP-SHA256 ciphertext made with the public key', async () => {
    const plaintext = randomBytes(32);
    const ciphertext = await opensslRsaEncrypt(plaintext, [
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-pkeyopt',
      'rsa_oaep_md:sha256',
      '-pkeyopt',
      'rsa_mgf1_md:sha256',
    ]);
    const response = await decrypt({
      encryptedPayload: b64(ciphertext),
      decryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().payload).toBe(b64(plaintext));
  });

  it('encrypts RSA_PADDING_OAEP_WITH_SHA256 with the public key into a 256-byte block it decrypts', async () => {
    const plaintext = randomBytes(40);
    const response = await encrypt({
      payload: b64(plaintext),
      encryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(unb64(body.encryptedPayload).length).toBe(256);
    expect(body.initializationVector).toBeNull();
    expect(body.messageAuthenticationCode).toBeNull();
    const back = await decrypt({
      encryptedPayload: body.encryptedPayload,
      decryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().payload).toBe(b64(plaintext));
    // a second encryption of the same payload differs (OAEP is randomised)
    const again = await encrypt({
      payload: b64(plaintext),
      encryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
    });
    expect(again.json().encryptedPayload).not.toBe(body.encryptedPayload);
  });

  it('RSA_PADDING_PKCS: round trip through the service, and an openssl PKCS#1 v1.5 ciphertext decrypts', async () => {
    const plaintext = randomBytes(24);
    const response = await encrypt({
      payload: b64(plaintext),
      encryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_PKCS',
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(unb64(response.json().encryptedPayload).length).toBe(256);
    const back = await decrypt({
      encryptedPayload: response.json().encryptedPayload,
      decryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_PKCS',
    });
    expect(back.json().payload).toBe(b64(plaintext));

    const fromOpenssl = await opensslRsaEncrypt(plaintext, ['-pkeyopt', 'rsa_padding_mode:pkcs1']);
    const opened = await decrypt({
      encryptedPayload: b64(fromOpenssl),
      decryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_PKCS',
    });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().payload).toBe(b64(plaintext));
  });
});

describe('RSA_NO_PADDING is the raw private-key operation: only on a key that may sign', () => {
  const message = Buffer.from('I, the decryption-only key holder, approve transfer #42');
  /** EMSA-PKCS1-v1_5 encoding of SHA-256(message) for a 2048-bit modulus (RFC 8017 §9.2) */
  const encodedBlock = () => {
    const digestInfo = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update(message).digest(),
    ]);
    return Buffer.concat([
      Buffer.from([0x00, 0x01]),
      Buffer.alloc(256 - 3 - digestInfo.length, 0xff),
      Buffer.from([0x00]),
      digestInfo,
    ]);
  };
  const spkiKey = (spki: Buffer) => createPublicKey({ key: spki, format: 'der', type: 'spki' });

  it('a decrypt-only key (sign false) does not sign through RSA_NO_PADDING decryption: 403 / 614, nothing counted', async () => {
    const signed = await operate('/v1/synchronousSign', {
      signRequest: { payload: b64(message), signKeyName: 'rsa', signatureAlgorithm: 'SHA256_WITH_RSA' },
    });
    expect(signed.statusCode, signed.body).toBe(403);
    const before = await snapshot();
    // the cipher name as cipherAlgorithmOf reads it: trimmed, any case
    for (const cipherAlgorithm of ['RSA_NO_PADDING', ' rsa_no_padding ']) {
      const response = await decrypt({
        encryptedPayload: b64(encodedBlock()),
        decryptKeyName: 'rsa',
        cipherAlgorithm,
      });
      expect(response.statusCode, response.body).toBe(403);
      expect(response.json().errorCode).toBe(614);
      expect(response.json().reason).toBe('res.error.operation.forbidden.for.key');
      expect(response.json().message).toMatch(/RSA_NO_PADDING.*sign/);
      expect(response.json().payload).toBeUndefined();
    }
    expect(await snapshot()).toEqual(before);
    // the padded RSA ciphers still decrypt with it
    const encrypted = await encrypt({
      payload: b64(Buffer.from('still decrypts')),
      encryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
    });
    const back = await decrypt({
      encryptedPayload: encrypted.json().encryptedPayload,
      decryptKeyName: 'rsa',
      cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(unb64(back.json().payload).toString()).toBe('still decrypts');
  });

  it('a decrypt-only key does not tell whether a chosen block is PKCS#1 v1.5 padded (no Bleichenbacher oracle)', async () => {
    // what an attacker sends: blocks raised to e under the public key, well padded or not
    const raw = (block: Buffer) =>
      publicEncrypt({ key: spkiKey(rsaSpki), padding: constants.RSA_NO_PADDING }, block);
    const wellPadded = Buffer.concat([
      Buffer.from([0x00, 0x02]),
      Buffer.alloc(200, 0x5a),
      Buffer.from([0x00]),
      Buffer.alloc(53, 0x11),
    ]);
    const answers = [];
    for (const block of [wellPadded, encodedBlock(), Buffer.concat([Buffer.from([0]), randomBytes(255)])]) {
      const response = await decrypt({
        encryptedPayload: b64(raw(block)),
        decryptKeyName: 'rsa',
        cipherAlgorithm: 'RSA_PADDING_PKCS',
      });
      expect(response.statusCode, response.body).toBe(200);
      answers.push(unb64(response.json().payload));
    }
    expect(answers[0]).toEqual(Buffer.alloc(53, 0x11));
    // the badly padded blocks decrypt to messages derived from them, which show nothing of the block
    expect(answers[1]!.includes(createHash('sha256').update(message).digest())).toBe(false);
  });

  it('a key with sign and decrypt decrypts raw (what tsb-client-go does): the result is its own signature', async () => {
    const response = await decrypt({
      encryptedPayload: b64(encodedBlock()),
      decryptKeyName: 'rsa-sign-decrypt',
      cipherAlgorithm: 'RSA_NO_PADDING',
    });
    expect(response.statusCode, response.body).toBe(200);
    const raw = unb64(response.json().payload);
    expect(raw.length).toBe(256);
    expect(nodeVerify('sha256', message, spkiKey(rsaSignerSpki), raw)).toBe(true);
    // and no other key's: the check above is what kept the decrypt-only key from this
    expect(nodeVerify('sha256', message, spkiKey(rsaSpki), raw)).toBe(false);
    // a public-key encryption without padding comes back as the zero-padded block
    const encrypted = await encrypt({
      payload: b64(Buffer.from('raw')),
      encryptKeyName: 'rsa-sign-decrypt',
      cipherAlgorithm: 'RSA_NO_PADDING',
    });
    const back = await decrypt({
      encryptedPayload: encrypted.json().encryptedPayload,
      decryptKeyName: 'rsa-sign-decrypt',
      cipherAlgorithm: 'RSA_NO_PADDING',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(unb64(back.json().payload).subarray(-3).toString()).toBe('raw');
  });
});

describe('refusals change nothing in the database', () => {
  type Request = { url: string; body: object };
  const enc = (request: Record<string, unknown>): Request => ({
    url: '/v1/encrypt',
    body: { encryptRequest: request },
  });
  const dec = (request: Record<string, unknown>): Request => ({
    url: '/v1/synchronousDecrypt',
    body: { decryptRequest: request },
  });
  /** A fresh AES_GCM ciphertext of the service (made before the "before" snapshot). */
  const gcm = async () =>
    (
      await encrypt({ payload: b64(Buffer.from('hello')), encryptKeyName: 'aes', cipherAlgorithm: 'AES_GCM' })
    ).json();

  const cases: { name: string; status: number; code: number; request: () => Promise<Request> }[] = [
    {
      name: 'wrong IV length',
      status: 400,
      code: 600,
      request: async () =>
        dec({
          encryptedPayload: (await gcm()).encryptedPayload,
          decryptKeyName: 'aes',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(randomBytes(16)),
        }),
    },
    {
      name: 'tagLength 100',
      status: 400,
      code: 624,
      request: async () =>
        enc({
          payload: b64(Buffer.from('x')),
          encryptKeyName: 'aes',
          cipherAlgorithm: 'AES_GCM',
          tagLength: 100,
        }),
    },
    {
      name: 'tampered GCM tag',
      status: 400,
      code: 410,
      request: async () => {
        const body = await gcm();
        const tampered = unb64(body.encryptedPayload);
        tampered[tampered.length - 1]! ^= 0x01;
        return dec({
          encryptedPayload: b64(tampered),
          decryptKeyName: 'aes',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: body.initializationVector,
        });
      },
    },
    {
      name: 'unknown cipher',
      status: 400,
      code: 629,
      request: async () =>
        enc({ payload: b64(Buffer.from('x')), encryptKeyName: 'aes', cipherAlgorithm: 'AES_XTS' }),
    },
    {
      name: 'AES_GCM encryption with an RSA key',
      status: 400,
      code: 607,
      request: async () =>
        enc({ payload: b64(Buffer.from('x')), encryptKeyName: 'rsa', cipherAlgorithm: 'AES_GCM' }),
    },
    {
      name: 'AES_GCM decryption with an RSA key',
      status: 400,
      code: 607,
      request: async () =>
        dec({
          encryptedPayload: b64(randomBytes(32)),
          decryptKeyName: 'rsa',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(randomBytes(12)),
        }),
    },
    {
      name: 'undecodable base64 payload',
      status: 400,
      code: 612,
      request: async () => enc({ payload: 'not base64!', encryptKeyName: 'aes', cipherAlgorithm: 'AES_GCM' }),
    },
    {
      name: 'payload over 65,536 bytes',
      status: 400,
      code: 612,
      request: async () =>
        enc({ payload: b64(randomBytes(65_537)), encryptKeyName: 'aes', cipherAlgorithm: 'AES_GCM' }),
    },
    {
      name: 'decryption with a key without the decrypt attribute',
      status: 403,
      code: 614,
      request: async () =>
        dec({
          encryptedPayload: b64(randomBytes(32)),
          decryptKeyName: 'aes-no-decrypt',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(randomBytes(12)),
        }),
    },
    {
      name: 'encryption with a key without the decrypt (hence encrypt) attribute',
      status: 403,
      code: 614,
      request: async () =>
        enc({ payload: b64(Buffer.from('x')), encryptKeyName: 'aes-no-decrypt', cipherAlgorithm: 'AES_GCM' }),
    },
  ];

  it.each(cases)('$name → $status / $code', async ({ status, code, request }) => {
    const { url, body } = await request();
    const before = await snapshot();
    const response = await operate(url, body);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().errorCode).toBe(code);
    expect(typeof response.json().message).toBe('string');
    expect(await snapshot()).toBe(before);
  });

  it('a 65,536-byte payload is still accepted', async () => {
    const response = await encrypt({
      payload: b64(randomBytes(65_536)),
      encryptKeyName: 'aes',
      cipherAlgorithm: 'AES_GCM',
    });
    expect(response.statusCode, response.body).toBe(200);
  });
});
