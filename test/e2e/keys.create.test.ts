import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { describePublicKey, opensslVerifies } from '../helpers/openssl.js';

let t: TestContext;
const KM = ['keyManagement'] as const;
const signOnly = { decrypt: false, sign: true, unwrap: false, destroyable: true };

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('alpha');
});
afterAll(() => t.close());

const createKey = (body: object) => t.call('alpha', [...KM], { method: 'POST', url: '/v1/key', body });

describe('POST /v1/key', () => {
  it('creates an RSA-2048 key and answers the signed attributes of the TSB', async () => {
    const response = await createKey({
      label: 'rsa-1',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: signOnly,
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.attestationKeyName).toBe('attestation-key');
    expect(body.json).toMatchObject({
      label: 'rsa-1',
      algorithm: 'RSA',
      algorithmOid: '1.2.840.113549.1.1.1',
      curveOid: null,
      keySize: 2048,
      keyUsageCount: 0,
      policy: null,
      attributes: {
        sign: true,
        decrypt: false,
        unwrap: false,
        destroyable: true,
        sensitive: true,
        alwaysSensitive: true,
        extractable: false,
        neverExtractable: true,
        modifiable: true,
      },
    });
    expect(body.json.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const spki = Buffer.from(body.json.publicKey, 'base64');
    expect(await describePublicKey(spki)).toMatch(/Public-Key: \(2048 bit\)/);
    expect(body.xml).toContain('<private_key creation="generated">');
    expect(body.xml).toContain('<label>rsa-1</label>');
    expect(body.xml).toContain('<never_extractable>true</never_extractable>');
    expect(body.xml).toContain('<extractable>false</extractable>');
  });

  it('signs the XML statement with the partition attestation key (verified by openssl)', async () => {
    const response = await createKey({
      label: 'ed-1',
      algorithm: 'ED',
      curveOid: '1.3.101.112',
      attributes: signOnly,
    });
    expect(response.statusCode).toBe(201);
    const { xml, xmlSignature } = response.json();
    const partition = await t.hsm.partitions.requireByName('alpha');
    const attestationKey = Buffer.from(partition.attestationPublicKey);
    expect(await opensslVerifies(attestationKey, Buffer.from(xml), Buffer.from(xmlSignature, 'base64'))).toBe(
      true,
    );
    expect(
      await opensslVerifies(
        attestationKey,
        Buffer.from(xml.replace('ed-1', 'ed-2')),
        Buffer.from(xmlSignature, 'base64'),
      ),
    ).toBe(false);
  });

  it.each([
    ['1.2.840.10045.3.1.7', 'prime256v1'],
    ['1.3.132.0.34', 'secp384r1'],
    ['1.3.132.0.35', 'secp521r1'],
    ['1.3.132.0.10', 'secp256k1'],
    ['1.3.36.3.3.2.8.1.1.7', 'brainpoolP256r1'],
    ['1.3.36.3.3.2.8.1.1.11', 'brainpoolP384r1'],
    ['1.3.36.3.3.2.8.1.1.13', 'brainpoolP512r1'],
  ])('creates an EC key on curve %s (%s) that openssl reads', async (curveOid, opensslName) => {
    const response = await createKey({
      label: `ec-${curveOid}`,
      algorithm: 'EC',
      curveOid,
      attributes: signOnly,
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.json.curveOid).toBe(curveOid);
    expect(body.json.algorithmOid).toBe('1.2.840.10045.2.1');
    const spki = Buffer.from(body.json.publicKey, 'base64');
    expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe(
      opensslName,
    );
    expect(await describePublicKey(spki)).toContain(opensslName === 'prime256v1' ? 'P-256' : opensslName);
  });

  it.each([
    ['AES', 256, { decrypt: true, sign: false, unwrap: true }],
    ['ChaCha20', 256, { decrypt: true, sign: false, unwrap: false }],
    ['HMACSHA256', 256, { decrypt: false, sign: true, unwrap: false }],
    ['Camellia', 128, { decrypt: true, sign: false, unwrap: false }],
    ['TDEA', 192, { decrypt: true, sign: false, unwrap: false }],
  ])('creates a %s-%i secret key with no public key', async (algorithm, keySize, attributes) => {
    const response = await createKey({ label: `sym-${algorithm}`, algorithm, keySize, attributes });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.json).toMatchObject({ algorithm, keySize, publicKey: null });
    expect(body.xml).toContain('<secret_key creation="generated">');
  });

  it.each([
    ['BLS', '1.3.6.1.4.1.44668.5.3.1.1'],
    ['ML-DSA-65', '2.16.840.1.101.3.4.3.18'],
    ['SLH-DSA-SHA2-128F', '2.16.840.1.101.3.4.3.21'],
  ])('creates a %s key whose SPKI carries OID %s', async (algorithm, oid) => {
    const response = await createKey({ label: `pq-${algorithm}`, algorithm, attributes: signOnly });
    expect(response.statusCode).toBe(201);
    expect(response.json().json.algorithmOid).toBe(oid);
    expect(response.json().json.publicKey).toEqual(expect.any(String));
  });

  it('creates an ML-KEM-768 key for decryption', async () => {
    const response = await createKey({
      label: 'kem-1',
      algorithm: 'ML-KEM-768',
      attributes: { decrypt: true, sign: false, unwrap: true },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().json.algorithmOid).toBe('2.16.840.1.101.3.4.4.2');
  });

  it('stores an SKA policy and shows it back with the key status', async () => {
    const approver = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    const policy = {
      ruleUse: {
        tokens: [
          {
            name: 'Token1',
            timelock: 0,
            timeout: 3600,
            groups: [
              {
                name: 'Group1',
                quorum: 1,
                approvals: [{ type: 'public_key', name: 'alice', value: approver }],
              },
            ],
          },
        ],
      },
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    };
    const response = await createKey({
      label: 'ska-1',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      addressFormat: { format: 'ETH' },
      attributes: signOnly,
      policy,
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.json.policy.ruleUse.tokens[0].groups[0].approvals[0]).toMatchObject({
      type: 'public_key',
      value: approver,
    });
    expect(body.json.policy.keyStatus).toEqual({ blocked: false });
    expect(body.json.addressTruncated).toMatchObject({
      format: 'ETH',
      address: expect.stringMatching(/^[0-9A-F]{40}$/),
    });
    expect(body.xml).toContain('<rule_use>');
  });

  it('accepts the empty-but-present policy of sample 32 (an always-fulfillable SKA key)', async () => {
    const response = await createKey({
      label: 'ska-empty',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: signOnly,
      policy: {
        ruleUse: null,
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().json.policy).toMatchObject({ ruleUse: null, keyStatus: { blocked: false } });
  });
});

describe('GET /v1/key, attributes and delete', () => {
  it('lists labels, reads attributes by POST and the deprecated GET, and deletes a destroyable key', async () => {
    await createKey({
      label: 'lifecycle',
      algorithm: 'AES',
      keySize: 128,
      attributes: { decrypt: true, sign: false, unwrap: false, destroyable: true },
    });
    const list = await t.call('alpha', [...KM], { method: 'GET', url: '/v1/key' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toContain('lifecycle');

    const byPost = await t.call('alpha', [...KM], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'lifecycle' },
    });
    expect(byPost.statusCode).toBe(200);
    expect(byPost.json().json.label).toBe('lifecycle');
    const byGet = await t.call('alpha', [...KM], { method: 'GET', url: '/v1/key/lifecycle/attributes' });
    expect(byGet.statusCode).toBe(200);
    expect(byGet.json().json.uuid).toBe(byPost.json().json.uuid);

    const deleted = await t.call('alpha', [...KM], { method: 'DELETE', url: '/v1/key/lifecycle' });
    expect(deleted.statusCode).toBe(200);
    const gone = await t.call('alpha', [...KM], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'lifecycle' },
    });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ errorCode: 650, reason: 'res.error.key.not.existent' });
    expect(await t.prisma.key.count({ where: { label: 'lifecycle' } })).toBe(0);
  });

  it('refuses to delete a key that is not destroyable', async () => {
    await createKey({
      label: 'keeper',
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: false },
    });
    const response = await t.call('alpha', [...KM], { method: 'DELETE', url: '/v1/key/keeper' });
    expect(response.statusCode).toBe(403);
    expect(response.json().errorCode).toBe(614);
    expect(await t.prisma.key.count({ where: { label: 'keeper' } })).toBe(1);
  });

  it('deletes with POST /v1/key/deleteKey and the key password', async () => {
    await createKey({
      label: 'with-password',
      password: ['s', '3', 'c', 'r', 'e', 't'],
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: false, destroyable: true },
    });
    const wrong = await t.call('alpha', [...KM], {
      method: 'POST',
      url: '/v1/key/deleteKey',
      body: { label: 'with-password', password: 'nope' },
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().errorCode).toBe(620);
    const right = await t.call('alpha', [...KM], {
      method: 'POST',
      url: '/v1/key/deleteKey',
      body: { label: 'with-password', password: 's3cret' },
    });
    expect(right.statusCode).toBe(200);
  });
});

describe('key passwords', () => {
  it('needs the password for attributes, accepts string and char-array forms, and changes it', async () => {
    await createKey({
      label: 'pw',
      password: 'first',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: signOnly,
    });
    const attributes = (password?: unknown) =>
      t.call('alpha', [...KM], {
        method: 'POST',
        url: '/v1/key/attributes',
        body: { label: 'pw', ...(password === undefined ? {} : { password }) },
      });

    expect((await attributes()).json().errorCode).toBe(620);
    expect((await attributes('first')).statusCode).toBe(200);
    expect((await attributes(['f', 'i', 'r', 's', 't'])).statusCode).toBe(200);

    const change = await t.call('alpha', [...KM], {
      method: 'POST',
      url: '/v1/key/changePassword',
      body: { label: 'pw', password: ['f', 'i', 'r', 's', 't'], newPassword: 'second' },
    });
    expect(change.statusCode).toBe(200);
    expect((await attributes('first')).json().errorCode).toBe(620);
    expect((await attributes('second')).statusCode).toBe(200);
    const stored = await t.prisma.key.findFirstOrThrow({ where: { label: 'pw' } });
    expect(stored.passwordHash).not.toContain('second');
  });
});
