/**
 * ML-DSA, SLH-DSA and ML-KEM through node:crypto (Node 24, OpenSSL 3.5), checked against noble as the
 * independent implementation, both ways and for every parameter set: node signs → noble verifies,
 * noble signs → node verifies, node encapsulates → noble decapsulates and the reverse. Keys keep
 * their stored formats (seeds, RFC encodings): node imports them, and keys node makes import here.
 */
import { generateKeyPairSync } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { MlDsaAlgorithm, SlhDsaAlgorithm } from '../../../src/crypto/algorithms.js';
import type { ReadyKey } from '../../../src/crypto/mechanisms/key-material.js';
import {
  generateKey,
  importKey,
  loadPrivate,
  loadPublic,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { mlKemDecapsulate, mlKemEncapsulate } from '../../../src/crypto/mechanisms/ml-kem-encapsulation.js';
import { SLH_DSA } from '../../../src/crypto/mechanisms/slh-dsa-params.js';
import { sign, verify } from '../../../src/crypto/signatures/signatures.js';
import { shutdownSignaturePool, signaturePoolStats } from '../../../src/crypto/signatures/signatures-pool.js';
import { unwrapKey, wrapKey } from '../../../src/crypto/wrapping/key-wrapping.js';

afterAll(() => shutdownSignaturePool());

const payload = Buffer.from('node and noble agree');
const context = Buffer.from('a context');
const ML_DSA = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;
const ML_KEM = { 'ML-KEM-512': ml_kem512, 'ML-KEM-768': ml_kem768, 'ML-KEM-1024': ml_kem1024 } as const;

const noblePart = (key: ReadyKey) => key as ReadyKey & { kind: 'noble' };
const poolTasks = () => signaturePoolStats().worker + signaturePoolStats().inline;

it('runs on a runtime whose node:crypto has the post-quantum algorithms (Node 24, OpenSSL 3.5)', () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  expect(process.versions.openssl >= '3.5').toBe(true);
});

describe.each(Object.keys(ML_DSA) as MlDsaAlgorithm[])('%s', (algorithm) => {
  const noble = ML_DSA[algorithm];

  it('node signs in place of the worker pool, noble verifies; noble signs, node verifies', async () => {
    const material = await generateKey({ algorithm });
    const ready = noblePart(loadPrivate(material));
    const pub = loadPublic(algorithm, material.publicKey!, null);
    expect(ready.node?.key.asymmetricKeyType).toBe(algorithm.toLowerCase());
    expect(pub.kind === 'noble' && pub.node?.asymmetricKeyType).toBe(algorithm.toLowerCase());

    const before = poolTasks();
    const bySelf = await sign(ready, { signatureAlgorithm: 'ML_DSA', payload, context });
    expect(noble.verify(bySelf, payload, ready.publicKey, { context })).toBe(true);
    expect(noble.verify(bySelf, payload, ready.publicKey)).toBe(false);

    const byNoble = Buffer.from(noble.sign(payload, ready.secretKey, { context }));
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, context, signature: byNoble })).toBe(
      true,
    );
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: byNoble })).toBe(false);
    const tampered = Buffer.from(byNoble);
    tampered[7]! ^= 1;
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, context, signature: tampered })).toBe(
      false,
    );
    expect(poolTasks()).toBe(before);

    // the noble fallback (a runtime without the algorithm) makes signatures node accepts
    const fallback = await sign({ ...ready, node: null }, { signatureAlgorithm: 'ML_DSA', payload });
    expect(poolTasks()).toBe(before + 1);
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: fallback })).toBe(true);
  });

  it('imports the PKCS#8 node writes (seed and expanded key) as the same key, stored as its seed', () => {
    const { privateKey, publicKey } = generateKeyPairSync(algorithm.toLowerCase() as 'ml-dsa-65');
    const material = importKey({
      algorithm,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }),
    });
    expect(material.publicKey).toEqual(publicKey.export({ type: 'spki', format: 'der' }));
    const ready = noblePart(loadPrivate(material));
    expect(ready.node?.key.equals(privateKey)).toBe(true);
    const seed = privateKey.export({ format: 'raw-seed' });
    expect(material.secret!.includes(seed)).toBe(true);
    expect(material.secret!.length).toBeLessThan(100);
  });
});

describe.each(Object.keys(SLH_DSA) as SlhDsaAlgorithm[])('%s', (algorithm) => {
  const noble = SLH_DSA[algorithm];
  // noble signs the 128f sets in well under a second; the others take seconds
  const fast = algorithm.endsWith('128f');

  it(`node signs in the worker pool, noble verifies${fast ? '; noble signs, node verifies' : ''}`, async () => {
    // node makes the key (noble takes seconds for the "s" sets); it imports in the RFC 9909 encoding
    const pair = generateKeyPairSync(algorithm.toLowerCase() as 'slh-dsa-sha2-128f');
    const material = importKey({
      algorithm,
      privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    });
    expect(material.publicKey).toEqual(pair.publicKey.export({ type: 'spki', format: 'der' }));
    const ready = noblePart(loadPrivate(material));
    const pub = loadPublic(algorithm, material.publicKey!, null);
    expect(ready.node?.key.equals(pair.privateKey)).toBe(true);

    const bySelf = await sign(ready, { signatureAlgorithm: 'SLH_DSA', payload, context });
    expect(noble.verify(bySelf, payload, ready.publicKey, { context })).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload, context, signature: bySelf })).toBe(
      true,
    );
    expect(await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload, signature: bySelf })).toBe(false);
    if (!fast) return;
    const byNoble = Buffer.from(noble.sign(payload, ready.secretKey, { context }));
    expect(await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload, context, signature: byNoble })).toBe(
      true,
    );
    const tampered = Buffer.from(byNoble);
    tampered[byNoble.length - 1]! ^= 1;
    expect(await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload, context, signature: tampered })).toBe(
      false,
    );
  });
});

describe.each(Object.keys(ML_KEM) as (keyof typeof ML_KEM)[])('%s', (algorithm) => {
  const noble = ML_KEM[algorithm];

  it('node encapsulates, noble decapsulates; noble encapsulates, node decapsulates', async () => {
    const material = await generateKey({ algorithm });
    const ready = noblePart(loadPrivate(material));
    expect(ready.node?.key.asymmetricKeyType).toBe(algorithm.toLowerCase());

    const byNode = mlKemEncapsulate(algorithm, ready.publicKey, ready.node?.publicKey);
    expect(noble.decapsulate(byNode.cipherText, ready.secretKey)).toEqual(
      new Uint8Array(byNode.sharedSecret),
    );
    const byNoble = noble.encapsulate(ready.publicKey);
    expect(
      new Uint8Array(mlKemDecapsulate(algorithm, byNoble.cipherText, ready.secretKey, ready.node?.key)),
    ).toEqual(byNoble.sharedSecret);
    // a ciphertext of the right length that was altered gives another secret (implicit rejection) in both
    const altered = Buffer.from(byNoble.cipherText);
    altered[0]! ^= 1;
    const rejected = mlKemDecapsulate(algorithm, altered, ready.secretKey, ready.node?.key);
    expect(new Uint8Array(rejected)).not.toEqual(byNoble.sharedSecret);
    expect(new Uint8Array(rejected)).toEqual(noble.decapsulate(altered, ready.secretKey));
  });

  it('a key wrapped through node unwraps through noble, and the reverse', async () => {
    const kem = await generateKey({ algorithm });
    const target = await generateKey({ algorithm: 'AES', keySize: 256 });
    const withNode = loadPrivate(kem);
    const withNoble = { ...noblePart(withNode), node: null };
    for (const [by, back] of [
      [withNode, withNoble],
      [withNoble, withNode],
    ]) {
      const wrapped = wrapKey(by!, algorithm, target);
      expect(unwrapKey(back!, algorithm, wrapped, { algorithm: 'AES' }).secret).toEqual(target.secret);
    }
  });
});
