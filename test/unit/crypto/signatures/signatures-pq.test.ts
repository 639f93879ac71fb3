/**
 * ML-DSA, SLH-DSA (fast "f" sets) and BLS12-381 signatures, made in the signature worker pool.
 * Independent checks: noble's public pure / HashML-DSA / HashSLH-DSA verify (its own M′ formatting),
 * external µ computed as in FIPS 204 Algorithm 7, the BLS pairing equation computed directly, and
 * the Ethereum consensus-spec BLS sign vector.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReadyKey } from '../../../../src/crypto/mechanisms/key-material.js';
import { generateKey, loadPrivate, loadPublic } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { SLH_DSA } from '../../../../src/crypto/mechanisms/slh-dsa-params.js';
import { sign, verify } from '../../../../src/crypto/signatures/signatures.js';
import { BLS_DST } from '../../../../src/crypto/signatures/signatures-noble.js';
import {
  shutdownSignaturePool,
  signaturePoolStats,
} from '../../../../src/crypto/signatures/signatures-pool.js';
import { tsbErrorOfAsync } from '../helpers.js';

afterAll(() => shutdownSignaturePool());

const payload = Buffer.from('post-quantum payload');
const NOBLE = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;

async function keyPair(algorithm: Parameters<typeof generateKey>[0]['algorithm']) {
  const material = await generateKey({ algorithm });
  const ready = loadPrivate(material) as ReadyKey & { kind: 'noble' };
  return { ready, pub: loadPublic(algorithm, material.publicKey!, null), raw: ready.publicKey };
}

describe.each(['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const)('%s', (algorithm) => {
  it('pure, with context, HashML-DSA and external µ; checked by noble public verify', async () => {
    const { ready, pub, raw } = await keyPair(algorithm);
    const noble = NOBLE[algorithm];
    const context = Buffer.from('ctx');

    const pure = await sign(ready, { signatureAlgorithm: 'ML_DSA', payload });
    expect(pure.length).toBe(noble.lengths.signature);
    expect(noble.verify(pure, payload, raw)).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: pure })).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'DILITHIUM', payload, signature: pure })).toBe(true);

    const withContext = await sign(ready, { signatureAlgorithm: 'ML_DSA', payload, context });
    expect(noble.verify(withContext, payload, raw, { context })).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: withContext })).toBe(false);
    expect(
      await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: withContext, context }),
    ).toBe(true);

    const hashed = await sign(ready, { signatureAlgorithm: 'SHA2_512_WITH_ML_DSA', payload, context });
    expect(noble.prehash(sha512).verify(hashed, payload, raw, { context })).toBe(true);
    expect(
      await verify(pub, { signatureAlgorithm: 'SHA2_512_WITH_ML_DSA', payload, signature: hashed, context }),
    ).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: hashed, context })).toBe(
      false,
    );

    // every pre-hash the TSB names signs and verifies (also those noble's prehash() deems too weak)
    for (const name of [
      'SHA2_224',
      'SHA2_256',
      'SHA2_384',
      'SHA3_224',
      'SHA3_256',
      'SHA3_384',
      'SHA3_512',
      'SHAKE_128',
      'SHAKE_256',
    ]) {
      const signatureAlgorithm = `${name}_WITH_ML_DSA`;
      const sig = await sign(ready, { signatureAlgorithm, payload });
      expect(await verify(pub, { signatureAlgorithm, payload, signature: sig }), name).toBe(true);
    }
    if (algorithm === 'ML-DSA-44') {
      const sig = await sign(ready, { signatureAlgorithm: 'SHA2_256_WITH_ML_DSA', payload });
      expect(noble.prehash(sha256).verify(sig, payload, raw)).toBe(true);
    }

    // ML_DSA_M: µ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64) gives a pure ML-DSA signature of M
    const tr = shake256(raw, { dkLen: 64 });
    const mu = Buffer.from(shake256(Buffer.concat([tr, Buffer.of(0, 0), payload]), { dkLen: 64 }));
    const external = await sign(ready, { signatureAlgorithm: 'ML_DSA_M', payload: mu });
    expect(noble.verify(external, payload, raw)).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA_M', payload: mu, signature: external })).toBe(
      true,
    );
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: external })).toBe(true);

    // negatives
    const tampered = Buffer.from(pure);
    tampered[100]! ^= 1;
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: tampered })).toBe(false);
    expect(
      await verify(pub, { signatureAlgorithm: 'ML_DSA', payload: Buffer.from('other'), signature: pure }),
    ).toBe(false);
    expect(await verify(pub, { signatureAlgorithm: 'ML_DSA', payload, signature: pure.subarray(1) })).toBe(
      false,
    );
    expect(
      (await tsbErrorOfAsync(() => sign(ready, { signatureAlgorithm: 'ML_DSA_M', payload }))).errorCode,
    ).toBe(612);
    expect(
      (await tsbErrorOfAsync(() => sign(ready, { signatureAlgorithm: 'SLH_DSA', payload }))).errorCode,
    ).toBe(607);
    expect(
      (await tsbErrorOfAsync(() => sign(ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload })))
        .errorCode,
    ).toBe(607);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(ready, { signatureAlgorithm: 'ML_DSA', payload, context: Buffer.alloc(256) }),
        )
      ).errorCode,
    ).toBe(600);
  });
});

describe.each(['SLH-DSA-SHA2-128f', 'SLH-DSA-SHAKE-128f'] as const)('%s', (algorithm) => {
  it('pure and HashSLH-DSA sign/verify; checked by noble public verify', async () => {
    const { ready, pub, raw } = await keyPair(algorithm);
    const noble = SLH_DSA[algorithm];
    const pure = await sign(ready, { signatureAlgorithm: 'SLH_DSA', payload, context: Buffer.from('c') });
    expect(noble.verify(pure, payload, raw, { context: Buffer.from('c') })).toBe(true);
    expect(
      await verify(pub, {
        signatureAlgorithm: 'SPHINCS_PLUS',
        payload,
        signature: pure,
        context: Buffer.from('c'),
      }),
    ).toBe(true);
    const hashed = await sign(ready, { signatureAlgorithm: 'SHA2_256_WITH_SLH_DSA', payload });
    expect(noble.prehash(sha256).verify(hashed, payload, raw)).toBe(true);
    expect(
      await verify(pub, { signatureAlgorithm: 'SHA2_256_WITH_SLH_DSA', payload, signature: hashed }),
    ).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'SLH_DSA', payload, signature: hashed })).toBe(false);
    const tampered = Buffer.from(pure);
    tampered[50]! ^= 1;
    expect(
      await verify(pub, {
        signatureAlgorithm: 'SLH_DSA',
        payload,
        signature: tampered,
        context: Buffer.from('c'),
      }),
    ).toBe(false);
    expect(
      (await tsbErrorOfAsync(() => sign(ready, { signatureAlgorithm: 'ML_DSA', payload }))).errorCode,
    ).toBe(607);
  });
});

describe('BLS12-381 (min-pk, POP ciphersuite)', () => {
  const G1 = bls12_381.G1.Point;
  const G2 = bls12_381.G2.Point;
  const hashToG2 = (message: Uint8Array) => bls12_381.G2.hashToCurve(message, { DST: BLS_DST });
  /** e(pk, H(m)) == e(G1, σ), computed with the pairing directly. */
  const pairingHolds = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => {
    const left = bls12_381.pairing(G1.fromBytes(new Uint8Array(publicKey)), hashToG2(message) as never);
    const right = bls12_381.pairing(G1.BASE, G2.fromBytes(new Uint8Array(signature)));
    return bls12_381.fields.Fp12.eql(left, right);
  };

  it('matches the Ethereum consensus-spec vector and the pairing equation', async () => {
    const secretKey = Buffer.from('263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3', 'hex');
    const publicKey = bls12_381.longSignatures.getPublicKey(secretKey).toBytes(true);
    expect(Buffer.from(publicKey).toString('hex')).toBe(
      'a491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a',
    );
    const ready: ReadyKey = { kind: 'noble', algorithm: 'BLS', secretKey, publicKey };
    const message = Buffer.alloc(32);
    const sig = await sign(ready, { signatureAlgorithm: 'BLS', payload: message });
    expect(sig.toString('hex')).toBe(
      'b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55',
    );
    expect(pairingHolds(publicKey, message, sig)).toBe(true);
    const pub = { kind: 'noble', algorithm: 'BLS', publicKey } as const;
    expect(await verify(pub, { signatureAlgorithm: 'BLS', payload: message, signature: sig })).toBe(true);
  });

  it('signs with a generated key; negatives return false', async () => {
    const { ready, pub, raw } = await keyPair('BLS');
    const sig = await sign(ready, { signatureAlgorithm: 'BLS', payload });
    expect(sig.length).toBe(96);
    expect(pairingHolds(raw, payload, sig)).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'BLS', payload, signature: sig })).toBe(true);
    expect(await verify(pub, { signatureAlgorithm: 'BLS', payload: Buffer.from('x'), signature: sig })).toBe(
      false,
    );
    const broken = Buffer.from(sig);
    broken[5]! ^= 1;
    expect(await verify(pub, { signatureAlgorithm: 'BLS', payload, signature: broken })).toBe(false);
    expect(await verify(pub, { signatureAlgorithm: 'BLS', payload, signature: Buffer.alloc(96) })).toBe(
      false,
    );
    expect(await verify(pub, { signatureAlgorithm: 'BLS', payload, signature: sig.subarray(0, 48) })).toBe(
      false,
    );
    expect(
      (await tsbErrorOfAsync(() => sign(ready, { signatureAlgorithm: 'EDDSA', payload }))).errorCode,
    ).toBe(607);
  });

  it('ran the noble work in worker threads', () => {
    expect(signaturePoolStats().worker).toBeGreaterThan(0);
  });
});
