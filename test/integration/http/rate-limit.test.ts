import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../../src/app.js';
import type { Config } from '../../../src/config.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { issueTestToken } from '../../helpers/tokens.js';

let t: TestContext;
/** a second API process's app: its own Redis connection and memory, the same database and Redis */
let second: App;
const WINDOW_SECONDS = 60;

async function appWith(config: Readonly<Config>): Promise<App> {
  const app = await buildApp({ config, prisma: t.prisma, hsm: t.hsm, logger: false });
  await app.ready();
  return app;
}

function versionInfo(app: App, token: string) {
  return app.inject({ method: 'GET', url: '/v1/versionInfo', headers: { authorization: `Bearer ${token}` } });
}

/** Starts a burst early in a fixed window, so that it cannot straddle two windows. */
async function atWindowStart(windowSeconds: number): Promise<void> {
  const into = Date.now() % (windowSeconds * 1000);
  if (into > windowSeconds * 1000 - 5_000) await sleep(windowSeconds * 1000 - into + 10);
}

beforeAll(async () => {
  t = await createTestContext({
    env: { TSB_RATE_LIMIT_MAX: '5', TSB_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) },
  });
  await t.partition('limited');
  second = await appWith(t.config);
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

describe('rate limit per caller, shared through Redis', () => {
  it('counts one caller across two app processes and answers 429 with Retry-After past the limit', async () => {
    const token = await issueTestToken(t.config, 'limited', ['service'], 'alice');
    await atWindowStart(WINDOW_SECONDS);
    const statuses = [];
    const remaining = [];
    for (const app of [t.app, second, t.app, second, t.app]) {
      const answer = await versionInfo(app, token);
      statuses.push(answer.statusCode);
      expect(answer.headers['ratelimit-policy']).toBe(`"caller";q=5;w=${WINDOW_SECONDS}`);
      const budget = /^"caller";r=(\d+);t=(\d+)$/.exec(String(answer.headers['ratelimit']));
      expect(budget, String(answer.headers['ratelimit'])).not.toBeNull();
      expect(Number(budget![2])).toBeGreaterThanOrEqual(1);
      expect(Number(budget![2])).toBeLessThanOrEqual(WINDOW_SECONDS);
      remaining.push(Number(budget![1]));
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(remaining).toEqual([4, 3, 2, 1, 0]);

    const refused = await versionInfo(second, token);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ errorCode: 900, reason: 'res.error.rate.limit.exceeded' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(refused.headers['ratelimit']).toBe(`"caller";r=0;t=${retryAfter}`);
    expect((await versionInfo(t.app, token)).statusCode).toBe(429);

    // a new token of the same subject is the same caller; another subject is not
    const renewed = await issueTestToken(t.config, 'limited', ['service'], 'alice');
    expect((await versionInfo(t.app, renewed)).statusCode).toBe(429);
    const bob = await issueTestToken(t.config, 'limited', ['service'], 'bob');
    expect((await versionInfo(second, bob)).statusCode).toBe(200);
  });

  it('lets the caller in again once the window has ended', async () => {
    const shortWindow = await appWith({
      ...t.config,
      rateLimit: { max: 2, windowSeconds: 1, unauthenticatedMax: 0 },
    });
    try {
      const token = await issueTestToken(t.config, 'limited', ['service'], 'carol');
      await atWindowStart(1);
      const burst = [];
      for (let i = 0; i < 3; i++) burst.push((await versionInfo(shortWindow, token)).statusCode);
      expect(burst).toEqual([200, 200, 429]);
      await sleep(1_100);
      expect((await versionInfo(shortWindow, token)).statusCode).toBe(200);
    } finally {
      await shortWindow.close();
    }
  });

  it('does not count public routes, and lets requests through when Redis does not answer', async () => {
    for (let i = 0; i < 8; i++) {
      const answer = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['ratelimit']).toBeUndefined();
    }
    const noRedis = await appWith({
      ...t.config,
      redisUrl: 'redis://127.0.0.1:1',
      rateLimit: { max: 1, windowSeconds: 60, unauthenticatedMax: 0 },
    });
    try {
      const token = await issueTestToken(t.config, 'limited', ['service'], 'dave');
      for (let i = 0; i < 3; i++) {
        const answer = await versionInfo(noRedis, token);
        expect(answer.statusCode).toBe(200);
        // uncounted: no budget is claimed
        expect(answer.headers['ratelimit']).toBeUndefined();
      }
    } finally {
      await noRedis.close();
    }
  });
});
