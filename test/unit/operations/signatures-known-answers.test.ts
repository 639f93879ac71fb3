import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { children, decode, readBitString } from '../../../src/hsm/asn1.js';
import { loadPublic } from '../../../src/hsm/mechanisms/index.js';
import { verify } from '../../../src/hsm/operations/signatures.js';

/**
 * A signature made by another implementation: the example self-signed SLH-DSA-SHA2-128s certificate
 * of RFC 9909. Its signature over the TBSCertificate must verify with its own public key, and fail
 * on any change.
 */
const pem = readFileSync(new URL('./fixtures/rfc9909-slh-dsa-sha2-128s.pem', import.meta.url), 'utf8');
const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
const [tbs, , signatureValue] = children(decode(der));
const signature = readBitString(signatureValue!);
// TBSCertificate: version [0], serial, signature algorithm, issuer, validity, subject, subjectPublicKeyInfo, ...
const spki = children(tbs!)[6]!.encoded;

describe('SLH-DSA known answer (RFC 9909 example certificate)', () => {
  const publicKey = loadPublic('SLH-DSA-SHA2-128s', Buffer.from(spki), null);

  it('the published public key is the RFC example key', () => {
    expect(Buffer.from(spki).toString('base64')).toBe(
      'MDAwCwYJYIZIAWUDBAMUAyEAK4EJ7Hd8qk4fAkzPz5SX2ZGAUJKA9CVq8rB6+AKJtJQ=',
    );
    expect(signature).toHaveLength(7856);
  });

  it('verifies the certificate signature made by another implementation', async () => {
    expect(
      await verify(publicKey, {
        signatureAlgorithm: 'SLH_DSA',
        payload: Buffer.from(tbs!.encoded),
        signature,
      }),
    ).toBe(true);
  });

  it('refuses it over changed data or with a changed signature', async () => {
    const changed = Buffer.from(tbs!.encoded);
    changed[changed.length - 1]! ^= 1;
    expect(await verify(publicKey, { signatureAlgorithm: 'SLH_DSA', payload: changed, signature })).toBe(
      false,
    );
    const forged = Buffer.from(signature);
    forged[100]! ^= 1;
    expect(
      await verify(publicKey, {
        signatureAlgorithm: 'SLH_DSA',
        payload: Buffer.from(tbs!.encoded),
        signature: forged,
      }),
    ).toBe(false);
  });
});
