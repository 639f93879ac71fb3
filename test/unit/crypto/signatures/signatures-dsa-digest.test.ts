/**
 * NONE_WITH_DSA (DSA over a given digest, dsa-digest.ts) against the openssl CLI, for every (L, N)
 * the service takes: our signatures verify with `openssl pkeyutl -verify`, openssl's verify with
 * ours, for digests shorter than, as long as and longer than q (FIPS 186-4 §4.6 truncation).
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, readInteger } from '../../../../src/crypto/der.js';
import type { ReadyKey } from '../../../../src/crypto/mechanisms/key-material.js';
import { loadPublic } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import type { ReadyPublicKey } from '../../../../src/crypto/mechanisms/public-keys.js';
import { dsaPrivateKey, nonceExponent } from '../../../../src/crypto/signatures/dsa-digest.js';
import { readDerSignature, toBytes } from '../../../../src/crypto/signatures/signature-encoding.js';
import { sign, verify } from '../../../../src/crypto/signatures/signatures.js';
import {
  shutdownSignaturePool,
  signaturePoolStats,
} from '../../../../src/crypto/signatures/signatures-pool.js';
import { openssl, withScratch } from '../../../helpers/openssl.js';

afterAll(() => shutdownSignaturePool());

interface DsaFixture {
  name: string;
  /** bits of q */
  n: number;
  key: KeyObject;
  ready: ReadyKey;
  pub: ReadyPublicKey;
  pem: string;
}

/** Keys made once with `openssl genpkey` (DSA parameter generation is slow). */
async function fixture(name: string, n: number): Promise<DsaFixture> {
  const pem = await readFile(path.join(import.meta.dirname, 'fixtures', `${name}.pem`), 'utf8');
  const key = createPrivateKey(pem);
  const publicKey = createPublicKey(key);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    name,
    n,
    key,
    ready: { kind: 'node', algorithm: 'DSA', curveOid: null, key, publicKey },
    pub: loadPublic('DSA', spki, null),
    pem,
  };
}

const KEYS: [string, number][] = [
  ['dsa-1024-160', 160],
  ['dsa-2048-224', 224],
  ['dsa-2048-256', 256],
  ['dsa-3072-256', 256],
];

/** Digests shorter than, as long as and longer than q (the last truncated to its leftmost N bits). */
const digestsFor = (n: number): Buffer[] => [
  randomBytes(n / 8 - 4),
  randomBytes(n / 8),
  randomBytes(n / 8 + 4),
  randomBytes(64),
];

const signDigest = (key: DsaFixture, digest: Buffer) =>
  sign(key.ready, { signatureAlgorithm: 'NONE_WITH_DSA', payload: digest });
const verifyDigest = (key: DsaFixture, digest: Buffer, signature: Buffer) =>
  verify(key.pub, { signatureAlgorithm: 'NONE_WITH_DSA', payload: digest, signature });

/** `openssl pkeyutl -verify` of each (digest, DER signature) with the key's public key. */
async function pkeyutlVerifies(
  key: DsaFixture,
  pairs: { digest: Buffer; sig: Buffer }[],
): Promise<boolean[]> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.pem'), key.pem);
    await openssl(['pkey', '-in', 'key.pem', '-pubout', '-out', 'pub.pem'], dir);
    const results: boolean[] = [];
    for (const [index, { digest, sig }] of pairs.entries()) {
      await writeFile(path.join(dir, `${index}.bin`), digest);
      await writeFile(path.join(dir, `${index}.der`), sig);
      const args = ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-in', `${index}.bin`];
      try {
        const out = await openssl([...args, '-sigfile', `${index}.der`], dir);
        results.push(out.includes('Signature Verified Successfully'));
      } catch {
        results.push(false);
      }
    }
    return results;
  });
}

/** `openssl pkeyutl -sign` over each digest with the key. */
async function pkeyutlSigns(key: DsaFixture, digests: Buffer[]): Promise<Buffer[]> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.pem'), key.pem);
    const signatures: Buffer[] = [];
    for (const [index, digest] of digests.entries()) {
      await writeFile(path.join(dir, `${index}.bin`), digest);
      await openssl(
        ['pkeyutl', '-sign', '-inkey', 'key.pem', '-in', `${index}.bin`, '-out', `${index}.der`],
        dir,
      );
      signatures.push(await readFile(path.join(dir, `${index}.der`)));
    }
    return signatures;
  });
}

describe.each(KEYS)('NONE_WITH_DSA with %s', (name, n) => {
  it('our signatures verify with openssl pkeyutl, for digests shorter than, equal to and longer than q', async () => {
    const key = await fixture(name, n);
    const pairs: { digest: Buffer; sig: Buffer }[] = [];
    const before = signaturePoolStats().worker;
    for (const digest of digestsFor(n)) {
      // two signatures per digest: k + q and k + 2q are both taken, depending on k
      for (let i = 0; i < 2; i++) pairs.push({ digest, sig: await signDigest(key, digest) });
    }
    // signed in the signature pool's worker: g^k mod p takes 2–3 ms, off the event loop
    expect(signaturePoolStats().worker - before).toBe(pairs.length);
    expect(await pkeyutlVerifies(key, pairs)).toEqual(pairs.map(() => true));
    // a digest differing only beyond the leftmost N bits is the same message to DSA; inside them it is not
    const long = pairs.at(-1)!;
    const beyond = Buffer.from(long.digest);
    beyond[beyond.length - 1]! ^= 1;
    const inside = Buffer.from(long.digest);
    inside[n / 8 - 1]! ^= 1;
    expect(
      await pkeyutlVerifies(key, [
        { digest: beyond, sig: long.sig },
        { digest: inside, sig: long.sig },
      ]),
    ).toEqual([true, false]);
  });

  it('openssl pkeyutl signatures over the same digests verify with ours; a changed digest does not', async () => {
    const key = await fixture(name, n);
    const digests = digestsFor(n);
    const theirs = await pkeyutlSigns(key, digests);
    const before = signaturePoolStats().worker;
    for (const [index, digest] of digests.entries()) {
      expect(await verifyDigest(key, digest, theirs[index]!), `digest of ${digest.length} bytes`).toBe(true);
      const changed = Buffer.from(digest);
      changed[0]! ^= 0x80;
      expect(await verifyDigest(key, changed, theirs[index]!)).toBe(false);
    }
    // verified in the signature pool's worker: BigInt exponentiations, milliseconds each, off the event loop
    expect(signaturePoolStats().worker - before).toBe(2 * digests.length);
  });
});

describe('NONE_WITH_DSA nonces', () => {
  it('every signature takes a fresh k: 64 signatures over one digest have 64 distinct r, all valid', async () => {
    const key = await fixture('dsa-2048-224', 224);
    const digest = randomBytes(28);
    const rs = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const sig = await signDigest(key, digest);
      expect(await verifyDigest(key, digest, sig)).toBe(true);
      rs.add(readDerSignature(sig)!.r.toString(16));
    }
    expect(rs.size).toBe(64);
  });

  it('the exponent handed to OpenSSL is k + q or k + 2q with exactly |q| + 1 bits, whatever k', async () => {
    for (const [name, n] of KEYS) {
      const key = dsaPrivateKey((await fixture(name, n)).key);
      const { q } = key;
      const top = 1n << BigInt(n);
      // the extremes, and k on both sides of 2^N − q (where k + q gains its extra bit)
      const ks = [1n, 2n, top - q - 1n, top - q, top - q + 1n, q - 2n, q - 1n];
      for (const k of ks) {
        const exponent = readInteger(decode(nonceExponent(key, toBytes(k, n / 8))));
        expect(exponent % q, `${name} k=${k}`).toBe(k);
        expect(exponent.toString(2).length, `${name} k=${k}`).toBe(n + 1);
      }
    }
  });
});
