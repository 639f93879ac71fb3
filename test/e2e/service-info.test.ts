import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('info');
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
});
