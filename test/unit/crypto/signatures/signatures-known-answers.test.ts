import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { children, decode, readBitString } from '../../../../src/crypto/der.js';
import { loadPublic } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { verify } from '../../../../src/crypto/signatures/signatures.js';

/**
 * Signatures made by other implementations: the example self-signed certificates of RFC 9909
 * (SLH-DSA-SHA2-128s) and RFC 9881 (ML-DSA-44). Each signature over its TBSCertificate must verify
 * with the certificate's own public key, and fail on any change.
 */

/** The signed bytes, the signature and the subject public key of a self-signed certificate fixture. */
function selfSigned(file: string) {
  const pem = readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
  const [tbs, , signatureValue] = children(decode(der));
  // TBSCertificate: version [0], serial, signature algorithm, issuer, validity, subject, subjectPublicKeyInfo, ...
  return {
    tbs: Buffer.from(tbs!.encoded),
    signature: readBitString(signatureValue!),
    spki: Buffer.from(children(tbs!)[6]!.encoded),
  };
}

const { tbs, signature, spki } = selfSigned('rfc9909-slh-dsa-sha2-128s.pem');

describe('SLH-DSA known answer (RFC 9909 example certificate)', () => {
  const publicKey = loadPublic('SLH-DSA-SHA2-128s', spki, null);

  it('the published public key is the RFC example key', () => {
    expect(spki.toString('base64')).toBe(
      'MDAwCwYJYIZIAWUDBAMUAyEAK4EJ7Hd8qk4fAkzPz5SX2ZGAUJKA9CVq8rB6+AKJtJQ=',
    );
    expect(signature).toHaveLength(7856);
  });

  it('verifies the certificate signature made by another implementation', async () => {
    expect(
      await verify(publicKey, {
        signatureAlgorithm: 'SLH_DSA',
        payload: tbs,
        signature,
      }),
    ).toBe(true);
  });

  it('refuses it over changed data or with a changed signature', async () => {
    const changed = Buffer.from(tbs);
    changed[changed.length - 1]! ^= 1;
    expect(await verify(publicKey, { signatureAlgorithm: 'SLH_DSA', payload: changed, signature })).toBe(
      false,
    );
    const forged = Buffer.from(signature);
    forged[100]! ^= 1;
    expect(
      await verify(publicKey, {
        signatureAlgorithm: 'SLH_DSA',
        payload: tbs,
        signature: forged,
      }),
    ).toBe(false);
  });
});

describe('ML-DSA known answer (RFC 9881 example certificate, signed by another implementation)', () => {
  const certificate = selfSigned('rfc9881-ml-dsa-44.pem');
  const publicKey = loadPublic('ML-DSA-44', certificate.spki, null);

  it('is signed by the RFC 9881 example key', () => {
    const published = JSON.parse(
      readFileSync(new URL('../fixtures/pq-example-keys.json', import.meta.url), 'utf8'),
    );
    expect(certificate.spki.toString('base64')).toBe(published.mlDsa44.publicKeyBase64);
    expect(certificate.signature).toHaveLength(2420);
  });

  it('verifies, and refuses a changed certificate', async () => {
    const request = {
      signatureAlgorithm: 'ML_DSA',
      payload: certificate.tbs,
      signature: certificate.signature,
    };
    expect(await verify(publicKey, request)).toBe(true);
    const changed = Buffer.from(certificate.tbs);
    changed[20]! ^= 1;
    expect(await verify(publicKey, { ...request, payload: changed })).toBe(false);
  });
});
