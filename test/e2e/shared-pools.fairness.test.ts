/**
 * The worker pools every partition shares (signatures, key generation, LMS, XMSS, audit verification) serve the
 * partitions in turn: a tenant that queues much slow work (an SLH-DSA "s" sign takes seconds, up to ~25 s in
 * noble here; an LMS key of height 20 is a thousand subtree tasks and hours) delays another tenant's task by at
 * most the two tasks each worker holds, not by its whole queue. Before, a pool posted each task to a worker at once, first come,
 * first served, so the other tenant waited for all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIME_SEARCH_THREADS } from '../../src/crypto/mechanisms/node-keys.js';
import { SIGNATURE_POOL_SIZE } from '../../src/crypto/signatures/signatures-pool.js';
import { LMS_POOL_SIZE } from '../../src/crypto/stateful/lms-pool.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;
const signOnly = { decrypt: false, sign: true, unwrap: false, destroyable: true };

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('noisy');
  await t.partition('quiet');
});
afterAll(() => t.close());

async function createKey(partition: string, label: string, algorithm: string): Promise<void> {
  const response = await t.call(partition, [...KM], {
    method: 'POST',
    url: '/v1/key',
    body: { label, algorithm, attributes: signOnly },
  });
  expect(response.statusCode, response.body).toBe(201);
}

const sign = (partition: string, signKeyName: string, signatureAlgorithm: string) =>
  t.call(partition, [...KO], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: { signRequest: { payload: Buffer.from('x').toString('base64'), signKeyName, signatureAlgorithm } },
  });

describe("one partition's queue of slow work does not hold up another partition", () => {
  it('signature pool: a sign of another partition waits for the signs running, not for all queued', async () => {
    await createKey('noisy', 'slow', 'SLH-DSA-SHA2-256S');
    await createKey('quiet', 'fast', 'SLH-DSA-SHA2-128F');
    expect((await sign('quiet', 'fast', 'SLH_DSA')).statusCode).toBe(200);

    let noisyDone = 0;
    const noisy = Array.from({ length: 6 * SIGNATURE_POOL_SIZE }, () =>
      sign('noisy', 'slow', 'SLH_DSA').then((response) => {
        noisyDone++;
        return response.statusCode;
      }),
    );
    // the noisy signs are queued first (each asks the pool once its key is ready)
    await new Promise((resolve) => setTimeout(resolve, 200));
    const doneBefore = noisyDone;
    const quiet = await sign('quiet', 'fast', 'SLH_DSA');
    const doneMeanwhile = noisyDone - doneBefore;
    expect(quiet.statusCode, quiet.body).toBe(200);
    expect(await Promise.all(noisy)).toEqual(noisy.map(() => 200));
    // fair: the quiet sign waits for the two tasks each worker holds; first come, first served it waited for all
    expect(doneMeanwhile).toBeLessThanOrEqual(2 * SIGNATURE_POOL_SIZE);
  }, 120_000);

  it('LMS pool: key generations of one partition do not hold up another partition’s LMS signs', async () => {
    await createKey('quiet', 'lms', 'LMS');
    expect((await sign('quiet', 'lms', 'LMS')).statusCode).toBe(200);

    // each a tree of height 10 (one subtree task, ~1 s); a height-20 key is 1,024 such tasks in one request
    let generated = 0;
    const noisy = Array.from({ length: 6 }, (_, i) =>
      t
        .call('noisy', [...KM], {
          method: 'POST',
          url: '/v1/key',
          body: { label: `tree-${i}`, algorithm: 'LMS-SHA256_M32_H10_W4', attributes: signOnly },
        })
        .then((response) => {
          generated++;
          return response.statusCode;
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const generatedBefore = generated;
    const quiet = await sign('quiet', 'lms', 'LMS');
    const generatedMeanwhile = generated - generatedBefore;
    expect(quiet.statusCode, quiet.body).toBe(200);
    expect(await Promise.all(noisy)).toEqual(noisy.map(() => 201));
    expect(generatedMeanwhile).toBeLessThanOrEqual(2 * LMS_POOL_SIZE);
  }, 120_000);

  it('libuv threads: RSA generations of one partition leave threads for another’s password checks', async () => {
    // 8 RSA-4096 generations (~1 s each) ask libuv's 4 threads first; before, they took all four, and the other
    // partition's scrypt and key generation waited behind every one of them (libuv serves in order)
    let generated = 0;
    const noisy = Array.from({ length: 4 * PRIME_SEARCH_THREADS + 4 }, (_, i) =>
      t
        .call('noisy', [...KM], {
          method: 'POST',
          url: '/v1/key',
          body: { label: `rsa-${i}`, algorithm: 'RSA', keySize: 4096, attributes: signOnly },
        })
        .then((response) => {
          generated++;
          return response.statusCode;
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const generatedBefore = generated;
    const quiet = await t.call('quiet', [...KM], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'with-password',
        algorithm: 'EC',
        curveOid: '1.2.840.10045.3.1.7',
        password: 'secret',
        attributes: signOnly,
      },
    });
    const generatedMeanwhile = generated - generatedBefore;
    expect(quiet.statusCode, quiet.body).toBe(201);
    expect(await Promise.all(noisy)).toEqual(noisy.map(() => 201));
    expect(generatedMeanwhile).toBeLessThanOrEqual(PRIME_SEARCH_THREADS);
  }, 180_000);
});
