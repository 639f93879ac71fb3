/**
 * node:crypto work on libuv's threads (signatures, verification, key password checks) is handed to libuv in
 * turn per partition (thread-pool-turns.ts): a partition that queues many RSA signatures delays another's
 * signature or password check by the jobs libuv holds, not by its whole queue. Real RSA-4096 signatures and
 * scrypt runs; the count of the noisy partition's signatures finished while the quiet one waited tells.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeSignAsync, nodeVerifyAsync } from '../../../src/crypto/signatures/node-signing.js';
import { hashPassword, passwordMatches } from '../../../src/keystore/key-password.js';
import { LIBUV_THREADS } from '../../../src/lib/thread-pool-turns.js';
import { asWorkOf } from '../../../src/lib/work-owner.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
const NOISY_SIGNATURES = 24 * LIBUV_THREADS;
/** what libuv may hold at once, and one more round of the threads for the work of other test files */
const BOUND = 2 * LIBUV_THREADS + LIBUV_THREADS;

/** Queues the noisy partition's signatures; answers how many have finished so far. */
function noisySignatures(count = NOISY_SIGNATURES): { finished: () => number; all: Promise<unknown> } {
  let finished = 0;
  const all = Promise.all(
    Array.from({ length: count }, (_, i) =>
      asWorkOf('noisy', () => nodeSignAsync('sha256', Buffer.from(`noisy ${i}`), privateKey)).then(() => {
        finished++;
      }),
    ),
  );
  return { finished: () => finished, all };
}

describe("libuv's threads in turn per partition", () => {
  it("a quiet partition's signature and verification wait for the jobs libuv holds, not for a noisy partition's queue", async () => {
    const noisy = noisySignatures();
    const signature = await asWorkOf('quiet', () =>
      nodeSignAsync('sha256', Buffer.from('quiet'), privateKey),
    );
    const finishedBefore = noisy.finished();
    expect(
      await asWorkOf('quiet', () => nodeVerifyAsync('sha256', Buffer.from('quiet'), publicKey, signature)),
    ).toBe(true);
    expect(finishedBefore).toBeLessThanOrEqual(BOUND);
    expect(noisy.finished() - finishedBefore).toBeLessThanOrEqual(BOUND);
    await noisy.all;
    expect(noisy.finished()).toBe(NOISY_SIGNATURES);
  });

  it("a quiet partition's key password check does too", async () => {
    const stored = await hashPassword('correct horse');
    // a check (scrypt) takes as long as a dozen of these signatures, which the other threads go on with meanwhile;
    // first come, first served it would start after all of them
    const count = 64 * LIBUV_THREADS;
    const noisy = noisySignatures(count);
    expect(await asWorkOf('quiet', () => passwordMatches('wrong horse', stored))).toBe(false);
    expect(noisy.finished()).toBeLessThan(count / 2);
    await noisy.all;
  });
});
