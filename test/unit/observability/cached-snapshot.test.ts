import { describe, expect, it } from 'vitest';
import { CachedSnapshot } from '../../../src/observability/cached-snapshot.js';

describe('CachedSnapshot', () => {
  it('reads once per period, however many ask at once', async () => {
    let now = 0;
    let reads = 0;
    const snapshot = new CachedSnapshot(
      async () => {
        reads++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return reads;
      },
      { ttlMs: 1_000, timeoutMs: 500 },
      () => now,
    );
    expect(await Promise.all([snapshot.get(), snapshot.get(), snapshot.get()])).toEqual([1, 1, 1]);
    now = 999;
    expect(await snapshot.get()).toBe(1);
    now = 1_000;
    expect(await snapshot.get()).toBe(2);
    expect(reads).toBe(2);
  });

  it('gives null for a failed or slow read, and keeps null for the period', async () => {
    let now = 0;
    let mode: 'fail' | 'hang' | 'ok' = 'fail';
    let reads = 0;
    const snapshot = new CachedSnapshot(
      () => {
        reads++;
        if (mode === 'fail') return Promise.reject(new Error('Redis is away'));
        if (mode === 'hang') return new Promise<number>(() => {});
        return Promise.resolve(7);
      },
      { ttlMs: 100, timeoutMs: 20 },
      () => now,
    );
    expect(await snapshot.get()).toBeNull();
    mode = 'ok';
    expect(await snapshot.get()).toBeNull();
    expect(reads).toBe(1);
    now = 100;
    mode = 'hang';
    const began = performance.now();
    expect(await snapshot.get()).toBeNull();
    expect(performance.now() - began).toBeLessThan(500);
    now = 200;
    mode = 'ok';
    expect(await snapshot.get()).toBe(7);
  });
});
