/**
 * A key name's derivation path is at most MAX_PATH_LEVELS (32) levels. Each level is computed on the event loop
 * (an HMAC-SHA-512 and a point multiplication in JavaScript, about 0.8 ms here), and every sign, verify or
 * address request names its path anew: with the 255 levels BIP32's depth byte allows, one keyOperation request
 * held the event loop, and so every tenant's requests, for ~0.2 s; a few a second stalled the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PATH_LEVELS } from '../../src/crypto/derivation/path.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const P = 'deep';

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  const created = await t.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'hd',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: { sign: true, decrypt: false, unwrap: false, derive: true, bip32: true },
    },
  });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(() => t.close());

const sign = (path: string) =>
  t.call(P, ['keyOperation'], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: {
      signRequest: {
        payload: Buffer.from('x').toString('base64'),
        signKeyName: `hd/${path}`,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    },
  });

/** The longest time the event loop did not get to a timer while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

describe('derivation paths in key names', () => {
  it('signs along a path of the most levels allowed', async () => {
    const response = await sign(Array.from({ length: MAX_PATH_LEVELS }, (_, i) => `${i}`).join('/'));
    expect(response.statusCode, response.body).toBe(200);
  });

  it('refuses a longer path before deriving anything, without holding the event loop', async () => {
    const deep = Array.from({ length: 255 }, (_, i) => `${i % 10}`).join('/');
    let answers: Awaited<ReturnType<typeof sign>>[] = [];
    const stall = await longestStall(async () => {
      answers = await Promise.all(Array.from({ length: 5 }, () => sign(deep)));
    });
    for (const answer of answers) {
      expect(answer.statusCode, answer.body).toBe(400);
      expect(answer.json().errorCode).toBe(600);
      expect(answer.json().message).toMatch(/255 levels; at most 32/);
    }
    expect(stall).toBeLessThan(100);
  });
});
