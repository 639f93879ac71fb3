import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { slh_dsa_sha2_128f, slh_dsa_shake_128f } from '@noble/post-quantum/slh-dsa.js';
import { describe, expect, it } from 'vitest';
import {
  exportPrivateKey,
  generateKey,
  importKey,
  loadPrivate,
  publicKeyOf,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { hex, opensslAsn1Parse, tsbErrorOfAsync } from './helpers.js';

/*
 * Expected DER headers, computed by hand from RFC 9881 / 9935 / 9909 (and checked against their
 * example keys): SEQUENCE, AlgorithmIdentifier SEQUENCE { OID } with no parameters, BIT STRING
 * with 0 unused bits; PKCS#8: SEQUENCE, INTEGER 0, AlgorithmIdentifier, OCTET STRING { [0] seed }.
 */
const ML_DSA_CASES = [
  {
    algorithm: 'ML-DSA-44',
    impl: ml_dsa44,
    oid: '2.16.840.1.101.3.4.3.17',
    keySize: 128,
    publicLength: 1312,
    spkiPrefix: '30820532300b0609608648016503040311038205210' + '0',
    pkcs8Prefix: '3034020100300b060960864801650304031104228020',
  },
  {
    algorithm: 'ML-DSA-65',
    impl: ml_dsa65,
    oid: '2.16.840.1.101.3.4.3.18',
    keySize: 192,
    publicLength: 1952,
    spkiPrefix: '308207b2300b0609608648016503040312038207a100',
    pkcs8Prefix: '3034020100300b060960864801650304031204228020',
  },
  {
    algorithm: 'ML-DSA-87',
    impl: ml_dsa87,
    oid: '2.16.840.1.101.3.4.3.19',
    keySize: 256,
    publicLength: 2592,
    spkiPrefix: '30820a32300b060960864801650304031303820a2100',
    pkcs8Prefix: '3034020100300b060960864801650304031304228020',
  },
] as const;

const ML_KEM_CASES = [
  {
    algorithm: 'ML-KEM-512',
    impl: ml_kem512,
    oid: '2.16.840.1.101.3.4.4.1',
    keySize: 128,
    publicLength: 800,
    spkiPrefix: '30820332300b06096086480165030404010382032100',
    pkcs8Prefix: '3054020100300b060960864801650304040104428040',
  },
  {
    algorithm: 'ML-KEM-768',
    impl: ml_kem768,
    oid: '2.16.840.1.101.3.4.4.2',
    keySize: 192,
    publicLength: 1184,
    spkiPrefix: '308204b2300b0609608648016503040402038204a100',
    pkcs8Prefix: '3054020100300b060960864801650304040204428040',
  },
  {
    algorithm: 'ML-KEM-1024',
    impl: ml_kem1024,
    oid: '2.16.840.1.101.3.4.4.3',
    keySize: 256,
    publicLength: 1568,
    spkiPrefix: '30820632300b06096086480165030404030382062100',
    pkcs8Prefix: '3054020100300b060960864801650304040304428040',
  },
] as const;

const SLH_DSA_CASES = [
  {
    algorithm: 'SLH-DSA-SHA2-128f',
    impl: slh_dsa_sha2_128f,
    oid: '2.16.840.1.101.3.4.3.21',
    spkiPrefix: '3030300b0609608648016503040315032100',
    pkcs8Prefix: '3052020100300b06096086480165030403150440',
  },
  {
    algorithm: 'SLH-DSA-SHAKE-128f',
    impl: slh_dsa_shake_128f,
    oid: '2.16.840.1.101.3.4.3.27',
    spkiPrefix: '3030300b060960864801650304031b032100',
    pkcs8Prefix: '3052020100300b060960864801650304031b0440',
  },
] as const;

async function checkWithOpensslAsn1(der: Buffer, oid: string, kind: 'public' | 'private') {
  const parsed = await opensslAsn1Parse(der);
  expect(parsed).toContain(`OBJECT            :${oid}`);
  expect(parsed).not.toMatch(/NULL/);
  expect(parsed).toContain(kind === 'public' ? 'BIT STRING' : 'OCTET STRING');
}

describe('ML-DSA', () => {
  it.each(ML_DSA_CASES)('generates $algorithm keys in the RFC 9881 encoding', async (c) => {
    const material = await generateKey({ algorithm: c.algorithm });
    expect(material).toMatchObject({
      algorithm: c.algorithm,
      algorithmOid: c.oid,
      curveOid: null,
      keySize: c.keySize,
    });
    const spki = material.publicKey!;
    const pkcs8 = material.secret!;
    expect(hex(spki.subarray(0, 22))).toBe(c.spkiPrefix);
    expect(spki).toHaveLength(22 + c.publicLength);
    expect(hex(pkcs8.subarray(0, 22))).toBe(c.pkcs8Prefix);
    expect(pkcs8).toHaveLength(22 + 32);
    // noble regenerates the public key from the seed in the PKCS#8
    const seed = pkcs8.subarray(22);
    expect(hex(c.impl.keygen(seed).publicKey)).toBe(hex(spki.subarray(22)));
    await checkWithOpensslAsn1(spki, c.oid, 'public');
    await checkWithOpensslAsn1(pkcs8, c.oid, 'private');
    expect(publicKeyOf(material).equals(spki)).toBe(true);

    const ready = loadPrivate(material);
    if (ready.kind !== 'noble') throw new Error('expected a noble key');
    const message = Buffer.from('message');
    const signature = c.impl.sign(message, ready.secretKey);
    expect(c.impl.verify(signature, message, spki.subarray(22))).toBe(true);
  });

  it('refuses a contradicting keySize', async () => {
    expect(
      (await tsbErrorOfAsync(() => generateKey({ algorithm: 'ML-DSA-65', keySize: 128 }))).errorCode,
    ).toBe(603);
  });
});

describe('ML-KEM', () => {
  it.each(ML_KEM_CASES)('generates $algorithm keys in the RFC 9935 encoding', async (c) => {
    const material = await generateKey({ algorithm: c.algorithm });
    expect(material).toMatchObject({ algorithm: c.algorithm, algorithmOid: c.oid, keySize: c.keySize });
    const spki = material.publicKey!;
    const pkcs8 = material.secret!;
    expect(hex(spki.subarray(0, 22))).toBe(c.spkiPrefix);
    expect(spki).toHaveLength(22 + c.publicLength);
    expect(hex(pkcs8.subarray(0, 22))).toBe(c.pkcs8Prefix);
    expect(pkcs8).toHaveLength(22 + 64);
    const seed = pkcs8.subarray(22);
    expect(hex(c.impl.keygen(seed).publicKey)).toBe(hex(spki.subarray(22)));
    await checkWithOpensslAsn1(spki, c.oid, 'public');
    await checkWithOpensslAsn1(pkcs8, c.oid, 'private');

    const ready = loadPrivate(material);
    if (ready.kind !== 'noble') throw new Error('expected a noble key');
    const { cipherText, sharedSecret } = c.impl.encapsulate(spki.subarray(22));
    expect(hex(c.impl.decapsulate(cipherText, ready.secretKey))).toBe(hex(sharedSecret));
  });
});

describe('SLH-DSA', () => {
  it.each(SLH_DSA_CASES)('generates $algorithm keys in the RFC 9909 encoding', async (c) => {
    const material = await generateKey({ algorithm: c.algorithm });
    expect(material).toMatchObject({ algorithm: c.algorithm, algorithmOid: c.oid, keySize: 128 });
    const spki = material.publicKey!;
    const pkcs8 = material.secret!;
    expect(hex(spki.subarray(0, 18))).toBe(c.spkiPrefix);
    expect(spki).toHaveLength(18 + 32);
    expect(hex(pkcs8.subarray(0, 20))).toBe(c.pkcs8Prefix);
    expect(pkcs8).toHaveLength(20 + 64);
    const secretKey = pkcs8.subarray(20);
    // sk = SK.seed ‖ SK.prf ‖ PK.seed ‖ PK.root: noble's keygen from (SK.seed, SK.prf, PK.seed) recomputes the root
    const regenerated = c.impl.keygen(secretKey.subarray(0, 48));
    expect(hex(regenerated.secretKey)).toBe(hex(secretKey));
    expect(hex(regenerated.publicKey)).toBe(hex(spki.subarray(18)));
    await checkWithOpensslAsn1(spki, c.oid, 'public');
    await checkWithOpensslAsn1(pkcs8, c.oid, 'private');

    const ready = loadPrivate(material);
    if (ready.kind !== 'noble') throw new Error('expected a noble key');
    const signature = c.impl.sign(Buffer.from('m'), ready.secretKey);
    expect(c.impl.verify(signature, Buffer.from('m'), ready.publicKey)).toBe(true);
  });
});

describe('BLS12-381', () => {
  it('generates a min-pk key: 48-byte compressed G1 public key, 32-byte secret', async () => {
    const material = await generateKey({ algorithm: 'BLS' });
    expect(material).toMatchObject({
      algorithm: 'BLS',
      algorithmOid: '1.3.6.1.4.1.44668.5.3.1.1',
      curveOid: null,
      keySize: 381,
    });
    const spki = material.publicKey!;
    const pkcs8 = material.secret!;
    expect(hex(spki.subarray(0, 21))).toBe('3043300e060c2b0601040182dc7c05030101033100');
    expect(spki).toHaveLength(21 + 48);
    expect(hex(pkcs8.subarray(0, 23))).toBe('3035020100300e060c2b0601040182dc7c050301010420');
    expect(pkcs8).toHaveLength(23 + 32);
    const secretKey = pkcs8.subarray(23);
    const publicKey = spki.subarray(21);
    expect(hex(bls12_381.longSignatures.getPublicKey(secretKey).toBytes(true))).toBe(hex(publicKey));
    bls12_381.G1.Point.fromBytes(publicKey).assertValidity();
    await checkWithOpensslAsn1(spki, '1.3.6.1.4.1.44668.5.3.1.1', 'public');
    await checkWithOpensslAsn1(pkcs8, '1.3.6.1.4.1.44668.5.3.1.1', 'private');

    const ready = loadPrivate(material);
    if (ready.kind !== 'noble') throw new Error('expected a noble key');
    const sigs = bls12_381.longSignatures;
    const message = sigs.hash(Buffer.from('m'));
    expect(sigs.verify(sigs.sign(message, ready.secretKey), message, ready.publicKey)).toBe(true);
  });

  it('round-trips through export and import', async () => {
    const material = await generateKey({ algorithm: 'BLS' });
    const exported = exportPrivateKey(material);
    const imported = importKey({
      algorithm: 'BLS',
      privateKey: exported.privateKey,
      publicKey: exported.publicKey,
    });
    expect(imported.secret!.equals(material.secret!)).toBe(true);
    expect(imported.publicKey!.equals(material.publicKey!)).toBe(true);
  });
});
