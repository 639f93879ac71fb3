/**
 * DSA domain parameters of imported keys. OpenSSL reads a DSA key whatever its (p, q, g) are (q = 1,
 * g of another order, y = 1); NONE_WITH_DSA (dsa-digest.ts) draws k and retries on r = 0 or s = 0 until
 * it gets a signature, so with such parameters it never returned: a caller who could import a key and
 * sign with it held an API process's event loop for good. Import now refuses parameters DSA cannot use,
 * and signing gives up after a bounded number of tries for a key stored before that.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { children, decode, integer, readInteger, sequence } from '../../../../src/crypto/der.js';
import { importKey } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { shutdownSignaturePool } from '../../../../src/crypto/signatures/signatures-pool.js';
import {
  algorithmIdentifier,
  decodePkcs8,
  encodePkcs8,
  encodeSpki,
} from '../../../../src/crypto/spki-pkcs8.js';
import { tsbErrorOf } from '../helpers.js';

afterAll(() => shutdownSignaturePool());

const DSA_OID = '1.2.840.10040.4.1';
const ROOT = path.resolve(import.meta.dirname, '../../../..');
const FIXTURES = ['dsa-1024-160', 'dsa-2048-224', 'dsa-2048-256', 'dsa-3072-256'];

async function fixtureParams(name = 'dsa-2048-256'): Promise<{ p: bigint; q: bigint; g: bigint }> {
  const pem = await readFile(path.join(import.meta.dirname, 'fixtures', `${name}.pem`), 'utf8');
  const info = decodePkcs8(createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }));
  const [p, q, g] = children(decode(info.algorithm.parameters!)).map(readInteger) as [bigint, bigint, bigint];
  return { p, q, g };
}

const modPow = (base: bigint, exponent: bigint, modulus: bigint): bigint => {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
};

const dsaAlgorithm = (p: bigint, q: bigint, g: bigint) =>
  algorithmIdentifier(DSA_OID, sequence(integer(p), integer(q), integer(g)));
const privateDer = (p: bigint, q: bigint, g: bigint, x: bigint) =>
  encodePkcs8(dsaAlgorithm(p, q, g), integer(x));
const publicDer = (p: bigint, q: bigint, g: bigint, y: bigint) =>
  encodeSpki(dsaAlgorithm(p, q, g), integer(y));

/** Parameter sets OpenSSL reads as DSA keys, each unusable for DSA. */
async function badSets(): Promise<{ name: string; p: bigint; q: bigint; g: bigint; x: bigint }[]> {
  const { p, q, g } = await fixtureParams();
  // an element whose order is not q: 2 has order q only by a 2^-1800 accident
  expect(modPow(2n, q, p)).not.toBe(1n);
  return [
    { name: 'q = 1', p, q: 1n, g, x: 1n },
    { name: 'q = 2', p, q: 2n, g, x: 1n },
    { name: 'q of 255 bits', p, q: q >> 1n, g, x: 5n },
    { name: 'q + 1 (256 bits, even)', p, q: q + 1n, g, x: 5n },
    { name: 'g = 1', p, q, g: 1n, x: 5n },
    { name: 'g of another order', p, q, g: 2n, x: 5n },
    { name: 'x = q (y = 1)', p, q, g, x: q },
  ];
}

describe('DSA keys on import', () => {
  it('keys with every FIPS 186-4 (L, N) of the fixtures still import, private and public', async () => {
    for (const name of FIXTURES) {
      const pem = await readFile(path.join(import.meta.dirname, 'fixtures', `${name}.pem`), 'utf8');
      const key = createPrivateKey(pem);
      const privateKey = key.export({ type: 'pkcs8', format: 'der' });
      const publicKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
      expect(importKey({ algorithm: 'DSA', privateKey }).publicKey!.equals(publicKey), name).toBe(true);
      expect(importKey({ algorithm: 'DSA', publicKey }).publicKey!.equals(publicKey), name).toBe(true);
    }
  });

  it('a private key whose (p, q, g) or x DSA cannot use is refused (400 / 407 or 603)', async () => {
    for (const set of await badSets()) {
      const der = privateDer(set.p, set.q, set.g, set.x);
      // OpenSSL itself reads it
      expect(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).asymmetricKeyType, set.name).toBe(
        'dsa',
      );
      const error = tsbErrorOf(() => importKey({ algorithm: 'DSA', privateKey: der }));
      expect(['PARSING_KEY', 'INPUT_KEYSIZE'], `${set.name}: ${error.message}`).toContain(error.kind);
    }
  });

  it('a public key of such parameters, or whose y is not of order q, is refused', async () => {
    const { p, q, g } = await fixtureParams();
    const y = modPow(g, 12345n, p);
    for (const [name, der] of [
      ['g = 1, y = 1', publicDer(p, q, 1n, 1n)],
      ['q = 1', publicDer(p, 1n, g, y)],
      ['y = 1', publicDer(p, q, g, 1n)],
      ['y = p - 1', publicDer(p, q, g, p - 1n)],
      ['y of another order', publicDer(p, q, g, 2n)],
    ] as const) {
      const error = tsbErrorOf(() => importKey({ algorithm: 'DSA', publicKey: der }));
      expect(['PARSING_KEY', 'INPUT_KEYSIZE'], `${name}: ${error.message}`).toContain(error.kind);
    }
    expect(importKey({ algorithm: 'DSA', publicKey: publicDer(p, q, g, y) }).keySize).toBe(2048);
  });
});

/**
 * NONE_WITH_DSA with a stored key of q = 1 or q = 2 (as a key imported before the check was made):
 * in a child process with a deadline, as a signing that never returns would hold the test's own thread.
 */
const SIGN_WITH_BAD_KEY = `
  const { createPrivateKey } = await import('node:crypto');
  const { sign } = await import('./src/crypto/signatures/signatures.ts');
  const { shutdownSignaturePool } = await import('./src/crypto/signatures/signatures-pool.ts');
  const { der, payload } = JSON.parse(process.argv[1]);
  const key = createPrivateKey({ key: Buffer.from(der, 'hex'), format: 'der', type: 'pkcs8' });
  const ready = { kind: 'node', algorithm: 'DSA', curveOid: null, key, publicKey: key };
  try {
    await sign(ready, { signatureAlgorithm: 'NONE_WITH_DSA', payload: Buffer.from(payload, 'hex') });
    console.log('SIGNED');
  } catch (error) {
    console.log('REFUSED ' + (error.kind ?? error.message));
  }
  await shutdownSignaturePool();
`;

describe('NONE_WITH_DSA with a stored key of unusable parameters', () => {
  it.each([1n, 2n])(
    'q = %s: signing the digests 00 and 40 returns (a refusal, 500 / 701, where no signature exists)',
    async (q) => {
      const { p, g } = await fixtureParams('dsa-1024-160');
      const der = privateDer(p, q, g, 1n).toString('hex');
      const outcomes: string[] = [];
      for (const payload of ['00', '40']) {
        const run = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            SIGN_WITH_BAD_KEY,
            JSON.stringify({ der, payload }),
          ],
          { cwd: ROOT, timeout: 20_000, encoding: 'utf8' },
        );
        expect(run.signal, `digest ${payload}: the signing did not return within 20 s`).toBeNull();
        outcomes.push(run.stdout.trim());
      }
      // q = 1 has no k at all; with q = 2, k = 1, r and s are fixed, and z (the digest's leftmost 2 bits: 0, 1)
      // makes s = (z + x·r) mod 2 zero for one of the two digests
      expect(outcomes).toContain('REFUSED HSM_INTEGRITY');
      for (const outcome of outcomes) expect(['SIGNED', 'REFUSED HSM_INTEGRITY']).toContain(outcome);
    },
    60_000,
  );
});
