/**
 * Slow key generations (run with `npm run test:slow`): large RSA and DSA keys, and every SLH-DSA
 * parameter set, with their measured times printed.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SLH_DSA_ALGORITHMS, type SlhDsaAlgorithm } from '../../../src/crypto/algorithms.js';
import { generateKey, shutdownKeygenPool } from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { SLH_DSA } from '../../../src/crypto/mechanisms/slh-dsa-params.js';
import { describePublicKey, hex, opensslPrivateKey } from '../../unit/crypto/helpers.js';

afterAll(() => shutdownKeygenPool());

const timings: string[] = [];
afterAll(() => {
  console.log(`key generation times:\n${timings.join('\n')}`);
});

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  timings.push(`${label.padEnd(22)} ${(performance.now() - start).toFixed(0).padStart(7)} ms`);
  return result;
}

describe('large RSA and DSA keys', () => {
  it.each([3072, 4096, 8192])('generates RSA-%i that node and openssl read', async (keySize) => {
    const material = await timed(`RSA-${keySize}`, () => generateKey({ algorithm: 'RSA', keySize }));
    expect(material.keySize).toBe(keySize);
    expect(
      createPublicKey({ key: material.publicKey!, format: 'der', type: 'spki' }).asymmetricKeyDetails,
    ).toMatchObject({ modulusLength: keySize });
    expect(await describePublicKey(material.publicKey!)).toContain(`(${keySize} bit)`);
    const fromOpenssl = await opensslPrivateKey(material.secret!);
    expect(fromOpenssl.spki.equals(material.publicKey!)).toBe(true);
  });

  it('generates DSA-3072 with a 256-bit subgroup', async () => {
    const material = await timed('DSA-3072', () => generateKey({ algorithm: 'DSA', keySize: 3072 }));
    const details = createPublicKey({
      key: material.publicKey!,
      format: 'der',
      type: 'spki',
    }).asymmetricKeyDetails;
    expect(details).toMatchObject({ modulusLength: 3072, divisorLength: 256 });
    expect(await describePublicKey(material.publicKey!)).toContain('(3072 bit)');
    const fromOpenssl = await opensslPrivateKey(material.secret!);
    expect(fromOpenssl.spki.equals(material.publicKey!)).toBe(true);
  });
});

describe('every SLH-DSA parameter set', () => {
  it.each([...SLH_DSA_ALGORITHMS])('generates %s; noble regenerates the public key', async (algorithm) => {
    const material = await timed(algorithm, () => generateKey({ algorithm }));
    const impl = SLH_DSA[algorithm as SlhDsaAlgorithm];
    const n = impl.lengths.publicKey! / 2;
    const secretKey = material.secret!.subarray(material.secret!.length - 4 * n);
    const publicKey = material.publicKey!.subarray(material.publicKey!.length - 2 * n);
    expect(hex(impl.keygen(secretKey.subarray(0, 3 * n)).publicKey)).toBe(hex(publicKey));
  });
});
