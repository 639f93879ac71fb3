import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('info');
  await t.partition('busy');
  await t.partition('quiet');
});
afterAll(() => t.close());

describe('service information', () => {
  it('answers the version with a capital V as the TSB does', async () => {
    const response = await t.call('info', ['service'], { method: 'GET', url: '/v1/versionInfo' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ Version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('lists the licence flags', async () => {
    const response = await t.call('info', ['service'], { method: 'GET', url: '/v1/licenseInfo' });
    expect(response.json().clientFlags).toEqual(
      expect.arrayContaining(['KEY_AUTH', 'REST_API', 'TSB_ENGINE']),
    );
  });

  it('generates the number of random bytes asked for, different each time', async () => {
    const first = await t.call('info', ['keyOperation'], { method: 'GET', url: '/v1/generateRandom/32' });
    const second = await t.call('info', ['keyOperation'], { method: 'GET', url: '/v1/generateRandom/32' });
    expect(first.statusCode).toBe(200);
    const a = Buffer.from(first.json().random, 'base64');
    expect(a).toHaveLength(32);
    expect(a.equals(Buffer.from(second.json().random, 'base64'))).toBe(false);
    const max = await t.call('info', ['service'], { method: 'GET', url: '/v1/generateRandom/65536' });
    expect(Buffer.from(max.json().random, 'base64')).toHaveLength(65536);
  });

  it('reports statistics that follow key creation and the key cache', async () => {
    const stats = async () =>
      (await t.call('info', ['service'], { method: 'GET', url: '/v1/keystore/statistics' })).json();
    expect((await stats()).keyCount).toBe(0);
    await t.call('info', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'k',
        algorithm: 'HMACSHA256',
        attributes: { decrypt: false, sign: true, unwrap: false },
      },
    });
    const after = await stats();
    expect(after).toMatchObject({
      partition: 'info',
      keyCount: 1,
      keysByAlgorithm: { HMACSHA256: 1 },
      keyCache: { capacity: 100 },
    });
  });

  it("shows a partition its own key cache figures only, never another partition's use of the cache", async () => {
    const stats = async (partition: string) =>
      (await t.call(partition, ['service'], { method: 'GET', url: '/v1/keystore/statistics' })).json();
    const created = await t.call('busy', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'ec',
        algorithm: 'EC',
        curveOid: '1.2.840.10045.3.1.7',
        attributes: { decrypt: false, sign: true, unwrap: false },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const quietBefore = await stats('quiet');
    expect(quietBefore.keyCache).toEqual({ size: 0, capacity: 100, hits: 0, misses: 0 });
    const busyBefore = (await stats('busy')).keyCache;
    const wholeBefore = t.hsm.keyCacheStatistics();
    for (let i = 0; i < 5; i++) {
      const signed = await t.call('busy', ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: {
          signRequest: { payload: 'AAEC', signKeyName: 'ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
        },
      });
      expect(signed.statusCode, signed.body).toBe(200);
    }
    // the other partition sees nothing move
    expect(await stats('quiet')).toEqual(quietBefore);
    // the partition that signed sees its own lookups: one key cached, five lookups
    const busyAfter = (await stats('busy')).keyCache;
    expect(busyAfter.size).toBe(1);
    expect(busyAfter.hits + busyAfter.misses - (busyBefore.hits + busyBefore.misses)).toBe(5);
    // the whole cache's figures (what /metrics exports to the operator) moved by the same five
    const wholeAfter = t.hsm.keyCacheStatistics();
    expect(wholeAfter.hits + wholeAfter.misses - (wholeBefore.hits + wholeBefore.misses)).toBe(5);
  });
});
