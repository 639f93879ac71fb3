/**
 * The partition security policy (reference §6.1) through HTTP, for what operations.enforcement,
 * keys.import-export and operations.wrap do not test already: read-only refuses every create, import,
 * modify and delete; object destruction off refuses both deletes; object usage off refuses every use of a
 * secret or private key but not the public-key uses. Every refusal is 403 / 400 and changes no key.
 */
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;
const P256 = '1.2.840.10045.3.1.7';
const DATA = Buffer.from('policy payload');
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const signKey = { sign: true, decrypt: false, unwrap: false, destroyable: true };
const noPolicyRules = { ruleUse: null, ruleBlock: null, ruleUnblock: null, ruleModify: null };
let ecSignature: Buffer;
let ecPublicKey: Buffer;

const manage = (partition: string, method: 'POST' | 'DELETE', url: string, body?: object) =>
  t.call(partition, [...KM], { method, url, body });
const operate = (partition: string, url: string, body: object) =>
  t.call(partition, [...KO], { method: 'POST', url, body });

async function created(partition: string, url: string, body: object) {
  const response = await manage(partition, 'POST', url, body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

/** The same keys in every partition: an EC signer with an empty SKA policy, RSA, AES, HMAC and a BIP32 root. */
async function keysFor(partition: string) {
  const ec = await created(partition, '/v1/key', {
    label: 'ec',
    algorithm: 'EC',
    curveOid: P256,
    attributes: signKey,
    policy: { ...noPolicyRules, keyStatus: { blocked: false } },
  });
  const rsa = await created(partition, '/v1/key', {
    label: 'rsa',
    algorithm: 'RSA',
    keySize: 2048,
    attributes: { sign: false, decrypt: true, unwrap: false, destroyable: true },
  });
  await created(partition, '/v1/key', {
    label: 'aes',
    algorithm: 'AES',
    keySize: 256,
    attributes: {
      sign: false,
      decrypt: true,
      unwrap: true,
      destroyable: true,
      extractable: true,
      sensitive: false,
    },
  });
  await created(partition, '/v1/key/import/plain', {
    label: 'mac',
    algorithm: 'HMACSHA256',
    secretKey: b64(randomBytes(32)),
    attributes: { sign: true, decrypt: false, unwrap: false },
  });
  await created(partition, '/v1/key', {
    label: 'hd',
    algorithm: 'EC',
    curveOid: '1.3.132.0.10',
    attributes: { ...signKey, derive: true, bip32: true },
  });
  return { ec: Buffer.from(ec.json.publicKey, 'base64'), rsa: Buffer.from(rsa.json.publicKey, 'base64') };
}

async function setFlags(partition: string, flags: object) {
  const { id } = await t.hsm.partitions.requireByName(partition);
  await t.hsm.partitions.updateFlags(id, flags);
}

beforeAll(async () => {
  t = await createTestContext();
  for (const name of ['read-only', 'no-destruction', 'no-usage']) await t.partition(name);
  await keysFor('read-only');
  await keysFor('no-destruction');
  ({ ec: ecPublicKey } = await keysFor('no-usage'));
  const signed = await operate('no-usage', '/v1/synchronousSign', {
    signRequest: { payload: b64(DATA), signKeyName: 'ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
  });
  ecSignature = Buffer.from(signed.json().signature, 'base64');
  await setFlags('read-only', { readOnly: true });
  await setFlags('no-destruction', { allowObjectDestruction: false });
  await setFlags('no-usage', { allowObjectUsage: false });
});
afterAll(() => t.close());

function expectPolicyRefusal(response: { statusCode: number; body: string; json(): { errorCode: number } }) {
  expect(response.statusCode, response.body).toBe(403);
  expect(response.json().errorCode).toBe(400);
}

describe('read-only: no create, import, modify or delete', () => {
  const newPolicy = { ...noPolicyRules, keyStatus: { blocked: false } };
  const cases: Array<
    [string, () => Promise<{ statusCode: number; body: string; json(): { errorCode: number } }>]
  > = [
    [
      'POST /v1/key/import/plain',
      () =>
        manage('read-only', 'POST', '/v1/key/import/plain', {
          label: 'imported',
          algorithm: 'AES',
          secretKey: b64(randomBytes(16)),
          attributes: { decrypt: true, sign: false, unwrap: false },
        }),
    ],
    [
      'POST /v1/derivedKey',
      () => manage('read-only', 'POST', '/v1/derivedKey', { label: "hd/0'", newLabel: 'child' }),
    ],
    [
      'POST /v1/synchronousUnwrap',
      () =>
        operate('read-only', '/v1/synchronousUnwrap', {
          unwrapKeyRequest: {
            wrappedKey: b64(randomBytes(40)),
            label: 'unwrapped',
            unwrapKeyName: 'aes',
            wrapMethod: 'AES_WRAP',
            attributes: { decrypt: true, sign: false, unwrap: false },
          },
        }),
    ],
    [
      'POST /v1/key/changePassword',
      () =>
        manage('read-only', 'POST', '/v1/key/changePassword', { label: 'rsa', newPassword: 'new-password' }),
    ],
    [
      'POST /v1/synchronousModify',
      () =>
        manage('read-only', 'POST', '/v1/synchronousModify', {
          modifyRequest: { modifyKeyName: 'ec', policy: newPolicy },
        }),
    ],
    [
      'POST /v1/modify',
      () =>
        manage('read-only', 'POST', '/v1/modify', {
          modifyRequest: { modifyKeyName: 'ec', policy: newPolicy },
        }),
    ],
    [
      'POST /v1/synchronousBlock',
      () => operate('read-only', '/v1/synchronousBlock', { blockRequest: { blockKeyName: 'ec' } }),
    ],
    [
      'POST /v1/synchronousUnblock',
      () => operate('read-only', '/v1/synchronousUnblock', { unblockRequest: { unblockKeyName: 'ec' } }),
    ],
    ['DELETE /v1/key/{label}', () => manage('read-only', 'DELETE', '/v1/key/rsa')],
    ['POST /v1/key/deleteKey', () => manage('read-only', 'POST', '/v1/key/deleteKey', { label: 'rsa' })],
  ];

  it.each(cases)('refuses %s with 403 / 400 and changes no key', async (_name, call) => {
    const before = await t.keySnapshot();
    const requests = await t.prisma.skaRequest.count();
    expectPolicyRefusal(await call());
    expect(await t.keySnapshot()).toBe(before);
    expect(await t.prisma.skaRequest.count()).toBe(requests);
  });

  it('still uses keys: sign and decrypt work', async () => {
    const signed = await operate('read-only', '/v1/synchronousSign', {
      signRequest: { payload: b64(DATA), signKeyName: 'ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    });
    expect(signed.statusCode, signed.body).toBe(200);
  });
});

describe('object destruction off: every delete fails', () => {
  it.each([
    ['DELETE /v1/key/{label}', () => manage('no-destruction', 'DELETE', '/v1/key/rsa')],
    ['POST /v1/key/deleteKey', () => manage('no-destruction', 'POST', '/v1/key/deleteKey', { label: 'rsa' })],
  ] as const)('refuses %s with 403 / 400; the key stays', async (_name, call) => {
    const before = await t.keySnapshot();
    expectPolicyRefusal(await call());
    expect(await t.keySnapshot()).toBe(before);
    const keys = await t.call('no-destruction', [...KM], { method: 'GET', url: '/v1/key' });
    expect(keys.json()).toContain('rsa');
  });

  it('creating keys is still allowed', async () => {
    await created('no-destruction', '/v1/key', {
      label: 'new',
      algorithm: 'EC',
      curveOid: P256,
      attributes: signKey,
    });
  });
});

describe('object usage off: no use of secret or private keys, public-key uses go on', () => {
  const P = 'no-usage';
  const refused: Array<[string, string, object]> = [
    [
      'asynchronous sign',
      '/v1/sign',
      { signRequest: { payload: b64(DATA), signKeyName: 'ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' } },
    ],
    [
      'RSA decrypt',
      '/v1/synchronousDecrypt',
      {
        decryptRequest: {
          encryptedPayload: b64(randomBytes(256)),
          decryptKeyName: 'rsa',
          cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
        },
      },
    ],
    [
      'AES encrypt (a secret key)',
      '/v1/encrypt',
      { encryptRequest: { payload: b64(DATA), encryptKeyName: 'aes', cipherAlgorithm: 'AES_GCM' } },
    ],
    [
      'AES decrypt',
      '/v1/synchronousDecrypt',
      {
        decryptRequest: {
          encryptedPayload: b64(randomBytes(32)),
          decryptKeyName: 'aes',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(randomBytes(12)),
        },
      },
    ],
    ['HMAC', '/v1/synchronousHmac', { hmacRequest: { keyName: 'mac', payload: b64(DATA) } }],
    [
      'HMAC verification (a secret key)',
      '/v1/verify',
      { verifyHmacRequest: { keyName: 'mac', payload: b64(DATA), signature: b64(randomBytes(32)) } },
    ],
    [
      'unwrap',
      '/v1/synchronousUnwrap',
      {
        unwrapKeyRequest: {
          wrappedKey: b64(randomBytes(40)),
          label: 'unwrapped',
          unwrapKeyName: 'aes',
          wrapMethod: 'AES_WRAP',
          attributes: { decrypt: true, sign: false, unwrap: false },
        },
      },
    ],
    [
      'signing with a derived child',
      '/v1/synchronousSign',
      { signRequest: { payload: b64(DATA), signKeyName: "hd/0'", signatureAlgorithm: 'SHA256_WITH_ECDSA' } },
    ],
  ];

  it.each(refused)('refuses %s with 403 / 400', async (_name, url, body) => {
    const before = await t.keySnapshot();
    expectPolicyRefusal(await operate(P, url, body));
    expect(await t.keySnapshot()).toBe(before);
  });

  it('refuses storing a derived key (POST /v1/derivedKey) with 403 / 400', async () => {
    expectPolicyRefusal(await manage(P, 'POST', '/v1/derivedKey', { label: "hd/0'", newLabel: 'child' }));
  });

  it('verifies with the public half of a private key', async () => {
    expect(nodeVerify('sha256', DATA, { key: ecPublicKey, format: 'der', type: 'spki' }, ecSignature)).toBe(
      true,
    );
    const verified = await operate(P, '/v1/verify', {
      verifySignatureRequest: {
        signKeyName: 'ec',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        payload: b64(DATA),
        signature: b64(ecSignature),
      },
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json().signatureValid).toBe(true);
    const forged = nodeSign('sha256', Buffer.from('other'), {
      key: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    });
    const invalid = await operate(P, '/v1/verify', {
      verifySignatureRequest: {
        signKeyName: 'ec',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        payload: b64(DATA),
        signature: b64(forged),
      },
    });
    expect(invalid.json().signatureValid).toBe(false);
  });

  it('encrypts with an RSA public key; the ciphertext decrypts once usage is allowed again', async () => {
    const encrypted = await operate(P, '/v1/encrypt', {
      encryptRequest: {
        payload: b64(DATA),
        encryptKeyName: 'rsa',
        cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
      },
    });
    expect(encrypted.statusCode, encrypted.body).toBe(200);
    const ciphertext = Buffer.from(encrypted.json().encryptedPayload, 'base64');
    expect(ciphertext.length).toBe(256);
    // the partition may not decrypt it now; with usage back on it does, and gets the payload
    await setFlags(P, { allowObjectUsage: true });
    const decrypted = await operate(P, '/v1/synchronousDecrypt', {
      decryptRequest: {
        encryptedPayload: b64(ciphertext),
        decryptKeyName: 'rsa',
        cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
      },
    });
    await setFlags(P, { allowObjectUsage: false });
    expect(decrypted.statusCode, decrypted.body).toBe(200);
    expect(Buffer.from(decrypted.json().payload, 'base64')).toEqual(DATA);
  });
});
