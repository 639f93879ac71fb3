/**
 * HSS/LMS with large trees (issue 15): a tree of height 15 generated in the LMS worker threads (about half a
 * minute), signatures across its subtrees (each computed once, when signing reaches it) and at its last index,
 * every one verified and carrying its index.
 */
import { describe, expect, it } from 'vitest';
import { shutdownLmsPool } from '../../../src/crypto/stateful/lms-pool.js';
import { statefulScheme } from '../../../src/crypto/stateful/stateful-schemes.js';

describe('LMS-SHA256_M32_H15_W4', () => {
  it('generates, signs across subtrees and at the last index, verifies', async () => {
    const scheme = statefulScheme('LMS-SHA256_M32_H15_W4')!;
    const started = performance.now();
    const { privateKey, publicKey } = await scheme.generate();
    console.log(
      `[lms-large-trees] H15/W4 key generation: ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const message = Buffer.from('large tree');
    for (const index of [0, 1, 1023, 1024, 20_000, 32_767]) {
      const signature = await scheme.sign(privateKey, index, message);
      expect(signature).toHaveLength(2672);
      expect(scheme.indexOf(signature)).toBe(index);
      expect(scheme.verify(publicKey, message, signature)).toBe(true);
    }
    await shutdownLmsPool();
  });
});
