import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { opensslEnc, opensslVerifies } from '../helpers/openssl.js';

let t: TestContext;
const P = 'wrapper';
const kekBytes = randomBytes(32);
const targetBytes = randomBytes(32);
let ecSpki: Buffer;
let rsaSpki: Buffer;

const b64 = (bytes: Buffer) => bytes.toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64');
const P256 = '1.2.840.10045.3.1.7';
const signKey = { decrypt: false, sign: true, unwrap: false };
const aesUse = { decrypt: true, sign: false, unwrap: false };
const exportableAes = { ...aesUse, extractable: true, sensitive: false };

const manage = (partition: string, url: string, body: object) =>
  t.call(partition, ['keyManagement'], { method: 'POST', url, body });
const operate = (partition: string, url: string, body: object) =>
  t.call(partition, ['keyOperation'], { method: 'POST', url, body });

const wrap = (wrapKeyRequest: Record<string, unknown>, partition = P) =>
  operate(partition, '/v1/wrap', { wrapKeyRequest });
const unwrap = (unwrapKeyRequest: Record<string, unknown>, partition = P) =>
  operate(partition, '/v1/synchronousUnwrap', { unwrapKeyRequest });

async function created(partition: string, url: string, body: object) {
  const response = await manage(partition, url, body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function publicKeyOf(label: string): Promise<string> {
  const response = await manage(P, '/v1/key/attributes', { label });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().json.publicKey;
}

async function exportedSecret(label: string): Promise<Buffer> {
  const response = await manage(P, '/v1/key/export/plain', { label });
  expect(response.statusCode, response.body).toBe(200);
  return unb64(response.json().secretKey);
}

const snapshot = () => t.keySnapshot();

/** `openssl enc` with an AES key-wrap cipher (deterministic, so outputs compare byte for byte). */
const opensslKeyWrap = (cipher: string, iv: string, kek: Buffer, data: Buffer, decrypt = false) =>
  opensslEnc(cipher, kek, iv, data, { decrypt });

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P, { allowKeyExport: true });
  await t.partition('no-export', { allowKeyExport: false });
  // wrap follows unwrap on a secret key, so this KEK wraps as well as unwraps
  await created(P, '/v1/key/import/plain', {
    label: 'kek',
    algorithm: 'AES',
    secretKey: b64(kekBytes),
    attributes: { decrypt: true, sign: false, unwrap: true },
  });
  await created(P, '/v1/key/import/plain', {
    label: 'target',
    algorithm: 'AES',
    secretKey: b64(targetBytes),
    attributes: { ...aesUse, extractable: true },
  });
  ecSpki = unb64(
    (
      await created(P, '/v1/key', {
        label: 'ec',
        algorithm: 'EC',
        curveOid: P256,
        attributes: { ...signKey, extractable: true },
      })
    ).json.publicKey,
  );
  await created(P, '/v1/key', { label: 'ec-fixed', algorithm: 'EC', curveOid: P256, attributes: signKey });
  rsaSpki = unb64(
    (
      await created(P, '/v1/key', {
        label: 'rsa-kek',
        algorithm: 'RSA',
        keySize: 2048,
        attributes: { decrypt: false, sign: false, unwrap: true },
      })
    ).json.publicKey,
  );
  await created(P, '/v1/key', {
    label: 'kem',
    algorithm: 'ML-KEM-768',
    attributes: { decrypt: false, sign: false, unwrap: true },
  });
});
afterAll(() => t.close());

describe('wrapping an EC private key with an AES key', () => {
  it.each(['AES_WRAP_PAD_EC', 'AES_WRAP_EC'])(
    '%s: the unwrapped key has the same public key and signs what openssl verifies with the original',
    async (method) => {
      const wrapped = await wrap({ keyToBeWrapped: 'ec', wrapKeyName: 'kek', wrapMethod: method });
      expect(wrapped.statusCode, wrapped.body).toBe(200);
      const wrappedKey = unb64(wrapped.json().wrappedKey);
      expect(wrappedKey.length % 8).toBe(0);

      const label = `ec-from-${method}`;
      const unwrapped = await unwrap({
        wrappedKey: wrapped.json().wrappedKey,
        label,
        unwrapKeyName: 'kek',
        wrapMethod: method,
        attributes: signKey,
      });
      expect(unwrapped.statusCode, unwrapped.body).toBe(201);
      expect(unwrapped.body).toBe('');
      expect(await publicKeyOf(label)).toBe(b64(ecSpki));

      const payload = randomBytes(64);
      const signed = await operate(P, '/v1/synchronousSign', {
        signRequest: { payload: b64(payload), signKeyName: label, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
      });
      expect(signed.statusCode, signed.body).toBe(200);
      expect(await opensslVerifies(ecSpki, payload, unb64(signed.json().signature))).toBe(true);
    },
  );
});

describe('reference sample 17', () => {
  it('unwraps an EC key with the attribute set of sample 17 (every flag true) and signs with it', async () => {
    const sample = JSON.parse(
      await readFile(new URL('../fixtures/tsb-examples/17-unwrap-request.json', import.meta.url), 'utf8'),
    );
    const wrapped = await wrap({ keyToBeWrapped: 'ec', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP_EC' });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const unwrapped = await unwrap({
      ...sample.unwrapKeyRequest,
      wrappedKey: wrapped.json().wrappedKey,
      label: 'sample-17',
      unwrapKeyName: 'kek',
      wrapMethod: 'AES_WRAP_EC',
    });
    expect(unwrapped.statusCode, unwrapped.body).toBe(201);
    const attributes = (await manage(P, '/v1/key/attributes', { label: 'sample-17' })).json().json.attributes;
    expect(attributes).toMatchObject({ sign: true, decrypt: true, unwrap: true, extractable: false });
    const payload = randomBytes(32);
    const signed = await operate(P, '/v1/synchronousSign', {
      signRequest: {
        payload: b64(payload),
        signKeyName: 'sample-17',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    });
    expect(await opensslVerifies(ecSpki, payload, unb64(signed.json().signature))).toBe(true);
  });
});

describe('AES key wrap of a secret key against the openssl CLI', () => {
  it('AES_WRAP equals openssl enc -id-aes256-wrap (RFC 3394) under the known KEK', async () => {
    const wrapped = await wrap({ keyToBeWrapped: 'target', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP' });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const expected = await opensslKeyWrap('id-aes256-wrap', 'A6A6A6A6A6A6A6A6', kekBytes, targetBytes);
    expect(wrapped.json().wrappedKey).toBe(b64(expected));
    expect(unb64(wrapped.json().wrappedKey).length).toBe(40);
  });

  it('AES_WRAP_PAD equals openssl enc -id-aes256-wrap-pad (RFC 5649)', async () => {
    const wrapped = await wrap({ keyToBeWrapped: 'target', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP_PAD' });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const expected = await opensslKeyWrap('id-aes256-wrap-pad', 'A65959A6', kekBytes, targetBytes);
    expect(wrapped.json().wrappedKey).toBe(b64(expected));
  });

  it('unwraps an openssl-wrapped AES key into a key holding exactly those bytes', async () => {
    const secret = randomBytes(16);
    const wrapped = await opensslKeyWrap('id-aes256-wrap', 'A6A6A6A6A6A6A6A6', kekBytes, secret);
    const response = await unwrap({
      wrappedKey: b64(wrapped),
      label: 'from-openssl',
      unwrapKeyName: 'kek',
      wrapMethod: 'AES_WRAP',
      attributes: exportableAes,
    });
    expect(response.statusCode, response.body).toBe(201);
    expect((await exportedSecret('from-openssl')).equals(secret)).toBe(true);
  });
});

describe('RSA_WRAP_OAEP', () => {
  it('wraps an AES key under an RSA key; the unwrapped key decrypts what the original encrypted', async () => {
    const wrapped = await wrap({
      keyToBeWrapped: 'target',
      wrapKeyName: 'rsa-kek',
      wrapMethod: 'RSA_WRAP_OAEP',
    });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    expect(unb64(wrapped.json().wrappedKey).length).toBe(256);
    const response = await unwrap({
      wrappedKey: wrapped.json().wrappedKey,
      label: 'aes-from-rsa',
      unwrapKeyName: 'rsa-kek',
      wrapMethod: 'RSA_WRAP_OAEP',
      attributes: aesUse,
    });
    expect(response.statusCode, response.body).toBe(201);

    const plaintext = randomBytes(30);
    const sealed = await operate(P, '/v1/encrypt', {
      encryptRequest: { payload: b64(plaintext), encryptKeyName: 'target', cipherAlgorithm: 'AES_GCM' },
    });
    expect(sealed.statusCode, sealed.body).toBe(200);
    const opened = await operate(P, '/v1/synchronousDecrypt', {
      decryptRequest: {
        encryptedPayload: sealed.json().encryptedPayload,
        decryptKeyName: 'aes-from-rsa',
        cipherAlgorithm: 'AES_GCM',
        initializationVector: sealed.json().initializationVector,
      },
    });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().payload).toBe(b64(plaintext));
  });

  it('unwraps an RSA-OAEP (SHA-256, MGF1-SHA-256) encryption made by node:crypto with the public key', async () => {
    const secret = randomBytes(32);
    const wrapped = publicEncrypt(
      {
        key: createPublicKey({ key: rsaSpki, format: 'der', type: 'spki' }),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
      },
      secret,
    );
    const response = await unwrap({
      wrappedKey: b64(wrapped),
      label: 'aes-from-node-oaep',
      unwrapKeyName: 'rsa-kek',
      wrapMethod: 'RSA_WRAP_OAEP',
      attributes: exportableAes,
    });
    expect(response.statusCode, response.body).toBe(201);
    expect((await exportedSecret('aes-from-node-oaep')).equals(secret)).toBe(true);
  });
});

describe('ML-KEM-768 wrapping', () => {
  it('round-trips an AES key and an EC private key', async () => {
    const wrapped = await wrap({ keyToBeWrapped: 'target', wrapKeyName: 'kem', wrapMethod: 'ML-KEM-768' });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    // KEM ciphertext (1088 bytes) ‖ RFC 5649 of 32 bytes (40 bytes)
    expect(unb64(wrapped.json().wrappedKey).length).toBe(1088 + 40);
    const response = await unwrap({
      wrappedKey: wrapped.json().wrappedKey,
      label: 'aes-from-kem',
      unwrapKeyName: 'kem',
      wrapMethod: 'ML-KEM-768',
      attributes: exportableAes,
    });
    expect(response.statusCode, response.body).toBe(201);
    expect((await exportedSecret('aes-from-kem')).equals(targetBytes)).toBe(true);

    const wrappedEc = await wrap({ keyToBeWrapped: 'ec', wrapKeyName: 'kem', wrapMethod: 'ML-KEM-768' });
    expect(wrappedEc.statusCode, wrappedEc.body).toBe(200);
    const ecResponse = await unwrap({
      wrappedKey: wrappedEc.json().wrappedKey,
      label: 'ec-from-kem',
      unwrapKeyName: 'kem',
      wrapMethod: 'ML-KEM-768',
      attributes: signKey,
    });
    expect(ecResponse.statusCode, ecResponse.body).toBe(201);
    expect(await publicKeyOf('ec-from-kem')).toBe(b64(ecSpki));
  });
});

describe('refusals change nothing in the database', () => {
  it('a non-extractable key is not wrapped: 403 / 614', async () => {
    const before = await snapshot();
    const response = await wrap({
      keyToBeWrapped: 'ec-fixed',
      wrapKeyName: 'kek',
      wrapMethod: 'AES_WRAP_PAD_EC',
    });
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().errorCode).toBe(614);
    expect(await snapshot()).toBe(before);
  });

  it('a partition without key export does not wrap: 403 / 400', async () => {
    await created('no-export', '/v1/key', {
      label: 'kek',
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: true },
    });
    await created('no-export', '/v1/key', {
      label: 'target',
      algorithm: 'AES',
      keySize: 256,
      attributes: { ...aesUse, extractable: true },
    });
    const before = await snapshot();
    const response = await wrap(
      { keyToBeWrapped: 'target', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP' },
      'no-export',
    );
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().errorCode).toBe(400);
    expect(await snapshot()).toBe(before);
  });

  it('a partition without key import does not unwrap: 403 / 400, and stores nothing', async () => {
    await t.partition('no-import', { allowKeyImport: false });
    await created('no-import', '/v1/key', {
      label: 'kek',
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: true },
    });
    const before = await snapshot();
    const response = await unwrap(
      {
        wrappedKey: b64(randomBytes(40)),
        label: 'never',
        unwrapKeyName: 'kek',
        wrapMethod: 'AES_WRAP',
        attributes: aesUse,
      },
      'no-import',
    );
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().errorCode).toBe(400);
    expect(await snapshot()).toBe(before);
  });

  it("an EC private key whose embedded public point is another key's is not unwrapped: 400 / 407", async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = attacker.privateKey.export({ type: 'sec1', format: 'der' });
    const ownPoint = attacker.publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
    const forged = Buffer.from(sec1);
    ecSpki.subarray(-65).copy(forged, sec1.indexOf(ownPoint));
    const pkcs8 = createPrivateKey({ key: forged, format: 'der', type: 'sec1' }).export({
      type: 'pkcs8',
      format: 'der',
    });
    const wrapped = await opensslKeyWrap('id-aes256-wrap-pad', 'A65959A6', kekBytes, pkcs8);
    const before = await snapshot();
    const response = await unwrap({
      wrappedKey: b64(wrapped),
      label: 'imposter',
      unwrapKeyName: 'kek',
      wrapMethod: 'AES_WRAP_PAD_EC',
      attributes: signKey,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errorCode).toBe(407);
    expect(await snapshot()).toBe(before);
  });

  it('AES_WRAP_RSA of an EC key: 400 / 607', async () => {
    const before = await snapshot();
    const response = await wrap({ keyToBeWrapped: 'ec', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP_RSA' });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errorCode).toBe(607);
    expect(await snapshot()).toBe(before);
  });

  it('RSA_WRAP_OAEP with an AES wrapping key: 400 / 607', async () => {
    const before = await snapshot();
    const response = await wrap({
      keyToBeWrapped: 'target',
      wrapKeyName: 'kek',
      wrapMethod: 'RSA_WRAP_OAEP',
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errorCode).toBe(607);
    expect(await snapshot()).toBe(before);
  });

  it.each([
    ['AES_WRAP_PAD_EC', 'kek'],
    ['AES_WRAP', 'kek'],
    ['ML-KEM-768', 'kem'],
  ])('a tampered %s wrapped key is refused with 400 / 410 and no key is stored', async (method, kek) => {
    const keyToBeWrapped = method === 'AES_WRAP_PAD_EC' ? 'ec' : 'target';
    const wrapped = await wrap({ keyToBeWrapped, wrapKeyName: kek, wrapMethod: method });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const tampered = unb64(wrapped.json().wrappedKey);
    tampered[tampered.length - 3]! ^= 0x40;
    const before = await snapshot();
    const response = await unwrap({
      wrappedKey: b64(tampered),
      label: `tampered-${method}`,
      unwrapKeyName: kek,
      wrapMethod: method,
      attributes: method === 'AES_WRAP_PAD_EC' ? signKey : aesUse,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errorCode).toBe(410);
    expect(await t.prisma.key.count({ where: { label: `tampered-${method}` } })).toBe(0);
    expect(await snapshot()).toBe(before);
  });

  it('unwrapping to an existing label: 409 / 608, and the existing key is kept', async () => {
    const wrapped = await wrap({ keyToBeWrapped: 'target', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP' });
    const existing = await t.prisma.key.findFirstOrThrow({ where: { label: 'ec-fixed' } });
    const before = await snapshot();
    const response = await unwrap({
      wrappedKey: wrapped.json().wrappedKey,
      label: 'ec-fixed',
      unwrapKeyName: 'kek',
      wrapMethod: 'AES_WRAP',
      attributes: aesUse,
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().errorCode).toBe(608);
    const after = await t.prisma.key.findFirstOrThrow({ where: { label: 'ec-fixed' } });
    expect(after.algorithm).toBe('EC');
    expect(after.version).toBe(existing.version);
    expect(Buffer.from(after.materialSealed!).equals(Buffer.from(existing.materialSealed!))).toBe(true);
    expect(await t.prisma.key.count({ where: { label: 'ec-fixed' } })).toBe(1);
    // not even the use count of the unwrapping key moves: the refused unwrap stored nothing
    expect(await snapshot()).toBe(before);
  });
});
