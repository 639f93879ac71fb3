import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../../../src/crypto/algorithms.js';
import {
  generateKey,
  loadPrivate,
  publicKeyOf,
  type ReadyKey,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { hex, tsbErrorOf } from './helpers.js';

const ALGORITHMS: { algorithm: KeyAlgorithm; curveOid?: string }[] = [
  { algorithm: 'EC', curveOid: '1.3.132.0.10' },
  { algorithm: 'ED' },
  { algorithm: 'BLS' },
  { algorithm: 'ML-DSA-44' },
  { algorithm: 'ML-KEM-512' },
  { algorithm: 'SLH-DSA-SHA2-128f' },
  { algorithm: 'AES' },
];

const view = (ready: ReadyKey) => {
  switch (ready.kind) {
    case 'node':
      return ready.key.export({ type: 'pkcs8', format: 'der' }).toString('hex');
    case 'noble':
      return hex(ready.secretKey) + hex(ready.publicKey);
    case 'secret':
      return ready.key.export().toString('hex');
  }
};

describe('loadPrivate', () => {
  it.each(ALGORITHMS)('gives a $algorithm key independent of the material buffer', async (spec) => {
    const material = await generateKey(spec);
    const ready = loadPrivate(material);
    const before = view(ready);
    material.secret!.fill(0);
    expect(view(ready)).toBe(before);
  });

  it.each(ALGORITHMS.filter((a) => a.algorithm !== 'AES'))(
    'reports corrupt stored $algorithm material as an HSM integrity error',
    async (spec) => {
      const material = await generateKey(spec);
      const corrupt = { ...material, secret: randomBytes(material.secret!.length) };
      expect(tsbErrorOf(() => loadPrivate(corrupt)).errorCode).toBe(701);
      expect(tsbErrorOf(() => publicKeyOf(corrupt)).errorCode).toBe(701);
    },
  );

  it('refuses stored material of another algorithm', async () => {
    const ec = await generateKey({ algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' });
    expect(tsbErrorOf(() => loadPrivate({ ...ec, algorithm: 'RSA' })).errorCode).toBe(701);
    const mlDsa = await generateKey({ algorithm: 'ML-DSA-44' });
    expect(tsbErrorOf(() => loadPrivate({ ...mlDsa, algorithm: 'ML-DSA-65' })).errorCode).toBe(701);
    const aes = await generateKey({ algorithm: 'AES', keySize: 128 });
    expect(tsbErrorOf(() => loadPrivate({ ...aes, algorithm: 'ChaCha20' })).errorCode).toBe(701);
  });
});
