import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/roles.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const P = 'enforced';
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;
const signOnly = { decrypt: false, sign: true, unwrap: false, destroyable: true };
const DATA = Buffer.from('enforcement payload');
const P256 = '1.2.840.10045.3.1.7';

const approverSpki = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .publicKey.export({ type: 'spki', format: 'der' })
  .toString('base64');
const oneApprover = {
  tokens: [
    {
      name: 'Token1',
      timelock: 0,
      timeout: 600,
      groups: [
        {
          name: 'Group1',
          quorum: 1,
          approvals: [{ type: 'public_key', name: 'alice', value: approverSpki }],
        },
      ],
    },
  ],
};

async function createKey(partition: string, body: object): Promise<void> {
  const response = await t.call(partition, [...KM], { method: 'POST', url: '/v1/key', body });
  expect(response.statusCode, response.body).toBe(201);
}

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  await t.partition('other');
  await t.partition('no-usage', { allowObjectUsage: false });
  await t.partition('read-only');
  await Promise.all([
    createKey(P, {
      label: 'no-sign',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: { decrypt: true, sign: false, unwrap: false },
    }),
    createKey(P, {
      label: 'needs-approval',
      algorithm: 'EC',
      curveOid: P256,
      attributes: signOnly,
      policy: {
        ruleUse: oneApprover,
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    }),
    createKey(P, {
      label: 'blocked',
      algorithm: 'EC',
      curveOid: P256,
      attributes: signOnly,
      policy: {
        ruleUse: null,
        ruleBlock: null,
        ruleUnblock: oneApprover,
        ruleModify: null,
        keyStatus: { blocked: true },
      },
    }),
    createKey(P, { label: 'counted', algorithm: 'EC', curveOid: P256, attributes: signOnly }),
    createKey(P, {
      label: 'locked-rsa',
      password: 'pw-2',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: { decrypt: true, sign: false, unwrap: false },
    }),
    createKey(P, {
      label: 'locked',
      password: 'pw-1',
      algorithm: 'EC',
      curveOid: P256,
      attributes: signOnly,
    }),
    createKey(P, { label: 'ec', algorithm: 'EC', curveOid: P256, attributes: signOnly }),
    createKey(P, { label: 'rsa', algorithm: 'RSA', keySize: 2048, attributes: signOnly }),
    createKey(P, {
      label: 'hd',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: { ...signOnly, derive: true, bip32: true },
    }),
    createKey('other', { label: 'theirs', algorithm: 'EC', curveOid: P256, attributes: signOnly }),
    createKey('no-usage', { label: 'idle', algorithm: 'EC', curveOid: P256, attributes: signOnly }),
    createKey('read-only', { label: 'frozen', algorithm: 'EC', curveOid: P256, attributes: signOnly }),
  ]);
  const readOnly = await t.hsm.partitions.requireByName('read-only');
  await t.hsm.partitions.updateFlags(readOnly.id, { readOnly: true });
});
afterAll(() => t.close());

const signBody = (signKeyName: string, signatureAlgorithm = 'SHA256_WITH_ECDSA', extra: object = {}) => ({
  signRequest: { payload: DATA.toString('base64'), signKeyName, signatureAlgorithm, ...extra },
});

const signAs = (partition: string, roles: readonly Role[], body: object) =>
  t.call(partition, [...roles], { method: 'POST', url: '/v1/synchronousSign', body });

const sign = (signKeyName: string, signatureAlgorithm?: string, extra?: object) =>
  signAs(P, KO, signBody(signKeyName, signatureAlgorithm, extra));

async function useCount(label: string, partition = P): Promise<number> {
  const response = await t.call(partition, [...KM], {
    method: 'POST',
    url: '/v1/key/attributes',
    body: { label },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().json.keyUsageCount;
}

async function storedUseCount(label: string): Promise<bigint> {
  const key = await t.prisma.key.findFirstOrThrow({ where: { label, partition: { name: P } } });
  return key.useCount;
}

function expectTsbError(
  response: { statusCode: number; json(): { errorCode: number } },
  status: number,
  code: number,
) {
  expect(response.statusCode, JSON.stringify(response.json())).toBe(status);
  expect(response.json().errorCode).toBe(code);
}

describe('key attributes, SKA policy and key status', () => {
  it('refuses a key without sign with 403 errorCode 614, counting nothing', async () => {
    const response = await sign('no-sign', 'SHA256_WITH_RSA');
    expectTsbError(response, 403, 614);
    expect(response.json().reason).toBe('res.error.operation.forbidden.for.key');
    expect(await useCount('no-sign')).toBe(0);
    expect(await storedUseCount('no-sign')).toBe(0n);
  });

  it('refuses a key whose ruleUse needs an approver with 403 errorCode 401 (missing approval)', async () => {
    const response = await sign('needs-approval');
    expectTsbError(response, 403, 401);
    expect(response.json().reason).toBe('res.error.missing.approval');
    expect(await useCount('needs-approval')).toBe(0);
  });

  it('refuses a key created blocked with 403 errorCode 614', async () => {
    const attributes = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'blocked' },
    });
    expect(attributes.json().json.policy.keyStatus).toEqual({ blocked: true });
    const response = await sign('blocked');
    expectTsbError(response, 403, 614);
    expect(await useCount('blocked')).toBe(0);
  });

  it('counts every successful use: 3 signs → keyUsageCount 3, and useCount 3 once flushed', async () => {
    for (let i = 0; i < 3; i++) expect((await sign('counted')).statusCode).toBe(200);
    expect(await useCount('counted')).toBe(3);
    expect(await storedUseCount('counted')).toBe(3n);
    expect(await useCount('counted')).toBe(3); // not counted twice once written
  });
});

describe('key passwords', () => {
  const verifyBody = (signature: string, keyPassword?: string) => ({
    verifySignatureRequest: {
      signKeyName: 'locked',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      payload: DATA.toString('base64'),
      signature,
      ...(keyPassword === undefined ? {} : { keyPassword }),
    },
  });
  const verify = (body: object) => t.call(P, [...KO], { method: 'POST', url: '/v1/verify', body });

  it('signs and verifies only with the right password (403 errorCode 620 otherwise), counting refusals never', async () => {
    expectTsbError(await sign('locked'), 403, 620);
    expectTsbError(await sign('locked', 'SHA256_WITH_ECDSA', { keyPassword: 'wrong' }), 403, 620);
    const signed = await sign('locked', 'SHA256_WITH_ECDSA', { keyPassword: 'pw-1' });
    expect(signed.statusCode, signed.body).toBe(200);
    const { signature } = signed.json();

    const verified = await verify(verifyBody(signature, 'pw-1'));
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json().signatureValid).toBe(true);
    expectTsbError(await verify(verifyBody(signature)), 403, 620);
    expectTsbError(await verify(verifyBody(signature, 'wrong')), 403, 620);
    const before = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'locked', password: 'pw-1' },
    });
    expect(before.json().json.keyUsageCount).toBe(2);
  });

  it('encrypts with the public half of an RSA key only with its password (403 errorCode 620 otherwise)', async () => {
    const encrypt = (keyPassword?: string) =>
      t.call(P, [...KO], {
        method: 'POST',
        url: '/v1/encrypt',
        body: {
          encryptRequest: {
            payload: DATA.toString('base64'),
            encryptKeyName: 'locked-rsa',
            cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256',
            ...(keyPassword === undefined ? {} : { keyPassword }),
          },
        },
      });
    expectTsbError(await encrypt(), 403, 620);
    expectTsbError(await encrypt('wrong'), 403, 620);
    const encrypted = await encrypt('pw-2');
    expect(encrypted.statusCode, encrypted.body).toBe(200);
  });
});

describe('partition security policy', () => {
  it('refuses signing when the partition does not allow object usage (403 errorCode 400)', async () => {
    const response = await signAs('no-usage', KO, signBody('idle'));
    expectTsbError(response, 403, 400);
    expect(response.json().reason).toBe('res.error.security.not.allowed');
    expect(await useCount('idle', 'no-usage')).toBe(0);
  });

  it('a read-only partition still uses keys but creates none (403 errorCode 400)', async () => {
    expect((await signAs('read-only', KO, signBody('frozen'))).statusCode).toBe(200);
    const created = await t.call('read-only', [...KM], {
      method: 'POST',
      url: '/v1/key',
      body: { label: 'new', algorithm: 'EC', curveOid: P256, attributes: signOnly },
    });
    expectTsbError(created, 403, 400);
    const keys = await t.call('read-only', [...KM], { method: 'GET', url: '/v1/key' });
    expect(keys.json()).toEqual(['frozen']);
  });
});

describe('roles and tenancy of the operation endpoints', () => {
  it('refuses /v1/synchronousSign and /v1/verify to a keyManagement-only caller (403)', async () => {
    expectTsbError(await signAs(P, KM, signBody('ec')), 403, 400);
    const verify = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/verify',
      body: {
        verifySignatureRequest: {
          signKeyName: 'ec',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          payload: DATA.toString('base64'),
          signature: 'AA==',
        },
      },
    });
    expectTsbError(verify, 403, 400);
  });

  it('refuses /v1/derivedKey and /v1/key/address to a keyOperation caller (403)', async () => {
    const derived = await t.call(P, [...KO], {
      method: 'POST',
      url: '/v1/derivedKey',
      body: { label: "hd/44'", newLabel: 'by-ko' },
    });
    expectTsbError(derived, 403, 400);
    const address = await t.call(P, [...KO], {
      method: 'POST',
      url: '/v1/key/address',
      body: { label: 'hd' },
    });
    expectTsbError(address, 403, 400);
    const allowed = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/derivedKey',
      body: { label: "hd/44'", newLabel: 'by-km' },
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
  });

  it("answers 404 errorCode 650 for another partition's key", async () => {
    expectTsbError(await sign('theirs'), 404, 650);
    const verify = await t.call(P, [...KO], {
      method: 'POST',
      url: '/v1/verify',
      body: {
        verifySignatureRequest: {
          signKeyName: 'theirs',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          payload: DATA.toString('base64'),
          signature: 'AA==',
        },
      },
    });
    expectTsbError(verify, 404, 650);
    // the owner still signs with it
    expect((await signAs('other', KO, signBody('theirs'))).statusCode).toBe(200);
  });
});

describe('bad input: the right 4xx errorCode, no key and no use counted', () => {
  const digest31 = createHash('sha256').update(DATA).digest().subarray(0, 31);
  const cases: Array<[string, string, object, number]> = [
    ['an RSA algorithm on an EC key', 'ec', signBody('ec', 'SHA256_WITH_RSA'), 607],
    ['an unknown signatureAlgorithm', 'ec', signBody('ec', 'SHA256_WITH_NOTHING'), 600],
    [
      'an undecodable base64 payload',
      'ec',
      { signRequest: { payload: 'not*base64!', signKeyName: 'ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' } },
      612,
    ],
    [
      'a payload over 65,536 bytes',
      'ec',
      {
        signRequest: {
          payload: Buffer.alloc(65_537, 1).toString('base64'),
          signKeyName: 'ec',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
      612,
    ],
    [
      'signatureType ETH on a P-256 key',
      'ec',
      signBody('ec', 'KECCAK256_WITH_ECDSA', { signatureType: 'ETH' }),
      607,
    ],
    [
      'NONESHA256_WITH_RSA with a 31-byte digest',
      'rsa',
      {
        signRequest: {
          payload: digest31.toString('base64'),
          signKeyName: 'rsa',
          signatureAlgorithm: 'NONESHA256_WITH_RSA',
        },
      },
      612,
    ],
  ];

  it.each(cases)('refuses %s with 400', async (_name, label, body, code) => {
    const keysBefore = await t.prisma.key.count();
    const response = await signAs(P, KO, body);
    expectTsbError(response, 400, code);
    expect(await t.prisma.key.count()).toBe(keysBefore);
    expect(await useCount(label)).toBe(0);
  });

  it('takes a payload of exactly 65,536 bytes, and counts that use', async () => {
    const response = await signAs(P, KO, {
      signRequest: {
        payload: Buffer.alloc(65_536, 1).toString('base64'),
        signKeyName: 'ec',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(await useCount('ec')).toBe(1);
    expect(await useCount('rsa')).toBe(0);
  });
});
