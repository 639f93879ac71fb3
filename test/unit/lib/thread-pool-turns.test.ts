/**
 * Slow node:crypto work on libuv's threads (RSA signatures from 3,072 bits, DSA, key password checks) is handed to
 * libuv in turn per partition (thread-pool-turns.ts): a partition that queues many RSA-4096 signatures delays
 * another's signature or password check by the jobs libuv holds, not by its whole queue. Real signatures through
 * the signature module and real scrypt runs; the count of the noisy partition's signatures finished while the quiet
 * one waited tells.
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReadyKey } from '../../../src/crypto/mechanisms/key-material.js';
import { sign } from '../../../src/crypto/signatures/signatures.js';
import { hashPassword, passwordMatches } from '../../../src/keystore/key-password.js';
import { LIBUV_JOBS_AT_ONCE, LIBUV_THREADS } from '../../../src/lib/thread-pool-turns.js';
import { asWorkOf } from '../../../src/lib/work-owner.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
const rsa4096: ReadyKey = { kind: 'node', algorithm: 'RSA', curveOid: null, key: privateKey, publicKey };
const rsaSign = (text: string) =>
  sign(rsa4096, { signatureAlgorithm: 'SHA256_WITH_RSA', payload: Buffer.from(text) });
const NOISY_SIGNATURES = 24 * LIBUV_THREADS;
/** what libuv may hold at once, and one more round of the threads for the work of other test files */
const BOUND = LIBUV_JOBS_AT_ONCE + LIBUV_THREADS;

/** Queues the noisy partition's signatures; answers how many have finished so far. */
function noisySignatures(count = NOISY_SIGNATURES): { finished: () => number; all: Promise<unknown> } {
  let finished = 0;
  const all = Promise.all(
    Array.from({ length: count }, (_, i) =>
      asWorkOf('noisy', () => rsaSign(`noisy ${i}`)).then(() => {
        finished++;
      }),
    ),
  );
  return { finished: () => finished, all };
}

describe("libuv's threads in turn per partition", () => {
  it("a quiet partition's RSA-4096 signature waits for the jobs libuv holds, not for a noisy partition's queue", async () => {
    const noisy = noisySignatures();
    const signature = await asWorkOf('quiet', () => rsaSign('quiet'));
    expect(noisy.finished()).toBeLessThanOrEqual(BOUND);
    expect(verify('sha256', Buffer.from('quiet'), publicKey, signature)).toBe(true);
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
