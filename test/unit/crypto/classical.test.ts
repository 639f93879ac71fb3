import { createPrivateKey, createPublicKey, createSign, createVerify, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  exportPrivateKey,
  generateKey,
  type KeyMaterial,
  loadPrivate,
  publicKeyOf,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { describePublicKey, opensslPrivateKey, tsbErrorOfAsync } from './helpers.js';

/** The checks every generated key pair of a node:crypto family gets. */
async function checkPair(material: KeyMaterial, openSslText: RegExp[]) {
  const spki = material.publicKey!;
  const pkcs8 = material.secret!;
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  expect(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).equals(spki)).toBe(true);
  const text = await describePublicKey(spki);
  for (const pattern of openSslText) expect(text).toMatch(pattern);
  const fromOpenSsl = await opensslPrivateKey(pkcs8);
  for (const pattern of openSslText) expect(fromOpenSsl.text).toMatch(pattern);
  expect(fromOpenSsl.spki.equals(spki)).toBe(true);
  expect(publicKeyOf(material).equals(spki)).toBe(true);
  expect(exportPrivateKey(material)).toEqual({ privateKey: pkcs8, publicKey: spki });
  return { publicKey, privateKey };
}

describe('RSA', () => {
  it('generates an RSA-2048 key that node and openssl read', async () => {
    const material = await generateKey({ algorithm: 'RSA', keySize: 2048 });
    expect(material).toMatchObject({
      algorithm: 'RSA',
      algorithmOid: '1.2.840.113549.1.1.1',
      curveOid: null,
      keySize: 2048,
    });
    const { publicKey } = await checkPair(material, [/\(2048 bit/]);
    expect(publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
    const ready = loadPrivate(material);
    expect(ready.kind).toBe('node');
    if (ready.kind !== 'node') return;
    const signature = createSign('sha256').update('data').sign(ready.key);
    expect(createVerify('sha256').update('data').verify(publicKey, signature)).toBe(true);
  });

  it('defaults to 2048 bits and refuses sizes not offered', async () => {
    expect((await generateKey({ algorithm: 'RSA' })).keySize).toBe(2048);
    expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'RSA', keySize: 512 }))).errorCode).toBe(
      603,
    );
    expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'RSA', keySize: 2049 }))).errorCode).toBe(
      603,
    );
  });
});

describe('EC', () => {
  it.each([
    ['1.2.840.10045.3.1.7', 'prime256v1', 256, /NIST CURVE: P-256/],
    ['1.3.132.0.34', 'secp384r1', 384, /NIST CURVE: P-384/],
    ['1.3.132.0.35', 'secp521r1', 521, /NIST CURVE: P-521/],
    ['1.3.132.0.10', 'secp256k1', 256, /ASN1 OID: secp256k1/],
    ['1.3.36.3.3.2.8.1.1.7', 'brainpoolP256r1', 256, /ASN1 OID: brainpoolP256r1/],
    ['1.3.36.3.3.2.8.1.1.11', 'brainpoolP384r1', 384, /ASN1 OID: brainpoolP384r1/],
    ['1.3.36.3.3.2.8.1.1.13', 'brainpoolP512r1', 512, /ASN1 OID: brainpoolP512r1/],
  ])('generates a key on %s (%s)', async (curveOid, nodeName, bits, curveLine) => {
    const material = await generateKey({ algorithm: 'EC', curveOid });
    expect(material).toMatchObject({
      algorithm: 'EC',
      algorithmOid: '1.2.840.10045.2.1',
      curveOid,
      keySize: bits,
    });
    const { publicKey } = await checkPair(material, [
      new RegExp(`\\(${bits} bit\\)`),
      new RegExp(`ASN1 OID: ${nodeName}`),
      curveLine,
    ]);
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(nodeName);
    const ready = loadPrivate(material);
    if (ready.kind !== 'node') throw new Error('expected a node key');
    expect(verify('sha256', Buffer.from('m'), publicKey, sign('sha256', Buffer.from('m'), ready.key))).toBe(
      true,
    );
  });

  it('accepts a keySize equal to the field size and refuses another', async () => {
    expect((await generateKey({ algorithm: 'EC', curveOid: '1.3.132.0.35', keySize: 521 })).keySize).toBe(
      521,
    );
    const error = await tsbErrorOfAsync(() =>
      generateKey({ algorithm: 'EC', curveOid: '1.3.132.0.35', keySize: 512 }),
    );
    expect(error.errorCode).toBe(603);
  });

  it('requires a known curve', async () => {
    for (const curveOid of [null, '1.2.3.4.5', '1.3.101.112']) {
      const error = await tsbErrorOfAsync(() => generateKey({ algorithm: 'EC', curveOid }));
      expect(error.errorCode).toBe(600);
      expect(error.message).toMatch(/curve/i);
    }
  });
});

describe('ED', () => {
  it.each([
    ['1.3.101.112', 'ED25519', 255, 'ed25519'],
    ['1.3.101.113', 'ED448', 448, 'ed448'],
  ])('generates a key on %s', async (curveOid, opensslName, bits, nodeType) => {
    const material = await generateKey({ algorithm: 'ED', curveOid });
    expect(material).toMatchObject({ algorithm: 'ED', algorithmOid: curveOid, curveOid, keySize: bits });
    const { publicKey } = await checkPair(material, [new RegExp(`${opensslName} (Public|Private)-Key`)]);
    expect(publicKey.asymmetricKeyType).toBe(nodeType);
    const ready = loadPrivate(material);
    if (ready.kind !== 'node') throw new Error('expected a node key');
    expect(verify(null, Buffer.from('m'), publicKey, sign(null, Buffer.from('m'), ready.key))).toBe(true);
  });

  it('defaults to Ed25519', async () => {
    expect((await generateKey({ algorithm: 'ED' })).curveOid).toBe('1.3.101.112');
  });
});

describe('DSA', () => {
  it('generates a DSA-2048 key with a 256-bit subgroup', async () => {
    const material = await generateKey({ algorithm: 'DSA', keySize: 2048 });
    expect(material).toMatchObject({ algorithm: 'DSA', algorithmOid: '1.2.840.10040.4.1', keySize: 2048 });
    const { publicKey } = await checkPair(material, [/\(2048 bit\)/]);
    expect(publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, divisorLength: 256 });
  });

  it('generates a legacy DSA-1024 key with a 160-bit subgroup (FIPS 186-4 (1024, 160))', async () => {
    const material = await generateKey({ algorithm: 'DSA', keySize: 1024 });
    expect(material).toMatchObject({ algorithm: 'DSA', keySize: 1024 });
    const { publicKey } = await checkPair(material, [/\(1024 bit\)/]);
    expect(publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 1024, divisorLength: 160 });
  });

  it('refuses DSA sizes not offered', async () => {
    expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'DSA', keySize: 4096 }))).errorCode).toBe(
      603,
    );
  });
});

describe('generateKey', () => {
  it('refuses unknown algorithms and curves on curve-less algorithms', async () => {
    expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'ROT13' as never }))).errorCode).toBe(613);
    const error = await tsbErrorOfAsync(() => generateKey({ algorithm: 'RSA', curveOid: '1.3.132.0.10' }));
    expect(error.errorCode).toBe(600);
  });
});
