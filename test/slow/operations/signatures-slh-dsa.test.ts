/** SLH-DSA "s" parameter sets (slow: up to seconds per signature) sign and verify in the worker pool. */
import { afterAll, describe, expect, it } from 'vitest';
import type { ReadyKey } from '../../../src/crypto/mechanisms/key-material.js';
import {
  generateKey,
  loadPrivate,
  loadPublic,
  shutdownKeygenPool,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { SLH_DSA } from '../../../src/crypto/mechanisms/slh-dsa-params.js';
import { sign, verify } from '../../../src/crypto/signatures/signatures.js';
import { shutdownSignaturePool } from '../../../src/crypto/signatures/signatures-pool.js';

afterAll(async () => {
  await shutdownSignaturePool();
  await shutdownKeygenPool();
});

describe.each(['SLH-DSA-SHA2-128s', 'SLH-DSA-SHAKE-128s', 'SLH-DSA-SHA2-256s'] as const)(
  '%s',
  (algorithm) => {
    it('signs and verifies (pure and HashSLH-DSA)', async () => {
      const material = await generateKey({ algorithm });
      const ready = loadPrivate(material) as ReadyKey & { kind: 'noble' };
      const pub = loadPublic(algorithm, material.publicKey!, null);
      const payload = Buffer.from('slow payload');
      const pure = await sign(ready, { signatureAlgorithm: 'SLH_DSA', payload });
      expect(SLH_DSA[algorithm].verify(pure, payload, ready.publicKey)).toBe(true);
      expect(await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload, signature: pure })).toBe(true);
      const hashed = await sign(ready, { signatureAlgorithm: 'SHA2_512_WITH_SLH_DSA', payload });
      expect(
        await verify(pub, { signatureAlgorithm: 'SHA2_512_WITH_SLH_DSA', payload, signature: hashed }),
      ).toBe(true);
      expect(
        await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload: Buffer.from('x'), signature: pure }),
      ).toBe(false);
    }, 120_000);
  },
);
