import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { slh_dsa_sha2_128s } from '@noble/post-quantum/slh-dsa.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generateKey,
  keygenPoolStats,
  shutdownKeygenPool,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { slhDsaKeygenInWorker } from '../../../src/crypto/mechanisms/keygen-pool.js';
import { SLOW_SLH_DSA_KEYGEN } from '../../../src/crypto/mechanisms/slh-dsa.js';
import { hex, withScratch } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

afterAll(() => shutdownKeygenPool());

describe('key generation worker pool', () => {
  it('offloads the slow SLH-DSA parameter sets', () => {
    expect([...SLOW_SLH_DSA_KEYGEN].every((alg) => alg.endsWith('s') || alg === 'SLH-DSA-SHAKE-256f')).toBe(
      true,
    );
    expect(SLOW_SLH_DSA_KEYGEN.size).toBe(7);
  });

  it('generates SLH-DSA-SHA2-128s in a worker (under vitest) without blocking the event loop', async () => {
    const before = keygenPoolStats().worker;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const material = await generateKey({ algorithm: 'SLH-DSA-SHA2-128s' });
    clearInterval(timer);
    expect(keygenPoolStats()).toMatchObject({ worker: before + 1, disabled: false, workerFailures: 0 });
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(material).toMatchObject({ algorithmOid: '2.16.840.1.101.3.4.3.20', keySize: 128 });
    const secretKey = material.secret!.subarray(20);
    expect(hex(slh_dsa_sha2_128s.keygen(secretKey.subarray(0, 48)).publicKey)).toBe(
      hex(material.publicKey!.subarray(18)),
    );
  });

  it('returns what noble computes inline for the same seed, also for concurrent jobs', async () => {
    const seeds = [1, 2, 3].map((n) => new Uint8Array(48).fill(n));
    const results = await Promise.all(seeds.map((seed) => slhDsaKeygenInWorker('SLH-DSA-SHA2-128s', seed)));
    for (const [i, seed] of seeds.entries()) {
      const inline = slh_dsa_sha2_128s.keygen(seed);
      expect(hex(results[i]!.secretKey)).toBe(hex(inline.secretKey));
      expect(hex(results[i]!.publicKey)).toBe(hex(inline.publicKey));
    }
    expect(keygenPoolStats().workers).toBeLessThanOrEqual(2);
  });

  it('restarts lazily after a shutdown', async () => {
    await shutdownKeygenPool();
    expect(keygenPoolStats().workers).toBe(0);
    const pair = await slhDsaKeygenInWorker('SLH-DSA-SHA2-128s', new Uint8Array(48));
    expect(pair.publicKey).toHaveLength(32);
    expect(keygenPoolStats().workers).toBe(1);
  });

  it('works under tsx too, and an idle pool does not keep the process alive', async () => {
    const output = await withScratch(async (dir) => {
      const script = path.join(dir, 'keygen.mts');
      const entry = path.join(ROOT, 'src/crypto/mechanisms/key-mechanisms.ts');
      await writeFile(
        script,
        [
          `import { generateKey, keygenPoolStats } from ${JSON.stringify(entry)};`,
          `const material = await generateKey({ algorithm: 'SLH-DSA-SHA2-128s' });`,
          'console.log(JSON.stringify({ ...keygenPoolStats(), length: material.secret.length }));',
        ].join('\n'),
      );
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
        cwd: ROOT,
        timeout: 20_000,
      });
      return stdout;
    });
    expect(JSON.parse(output)).toMatchObject({ worker: 1, inline: 0, workerFailures: 0, length: 84 });
  });
});
