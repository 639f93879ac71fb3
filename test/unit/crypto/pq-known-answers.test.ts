import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importKey } from '../../../src/crypto/mechanisms/key-mechanisms.js';

/**
 * Published example keys derived by other implementations from fixed seeds: our key import must
 * compute exactly the published public keys (an independent known-answer check of ML-DSA and ML-KEM
 * key generation, which OpenSSL 3.0 cannot do).
 */
const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/pq-example-keys.json', import.meta.url), 'utf8'),
) as {
  mlDsa44: { seedHex: string; publicKeyBase64: string };
  mlKem512: { seedHex: string; publicKeyBase64: string };
};

/** PKCS#8 with the seed form of the private key: OCTET STRING { [0] IMPLICIT OCTET STRING seed }. */
function seedPkcs8(oidDer: string, seed: Buffer): Buffer {
  const privateKey = Buffer.concat([Buffer.of(0x80, seed.length), seed]);
  const octet = Buffer.concat([Buffer.of(0x04, privateKey.length), privateKey]);
  const algorithm = Buffer.from(`300b0609${oidDer}`, 'hex');
  const body = Buffer.concat([Buffer.from('020100', 'hex'), algorithm, octet]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}

describe('post-quantum known answers', () => {
  it('ML-DSA-44 from the RFC 9881 example seed gives the published public key', () => {
    const pkcs8 = seedPkcs8('608648016503040311', Buffer.from(fixtures.mlDsa44.seedHex, 'hex'));
    expect(pkcs8.toString('base64')).toBe(
      'MDQCAQAwCwYJYIZIAWUDBAMRBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f',
    ); // the RFC's example private key, byte for byte
    const material = importKey({ algorithm: 'ML-DSA-44', privateKey: pkcs8 });
    expect(material.publicKey?.toString('base64')).toBe(fixtures.mlDsa44.publicKeyBase64);
  });

  it('ML-KEM-512 from the draft example seed gives the published public key', () => {
    const pkcs8 = seedPkcs8('608648016503040401', Buffer.from(fixtures.mlKem512.seedHex, 'hex'));
    const material = importKey({ algorithm: 'ML-KEM-512', privateKey: pkcs8 });
    expect(material.publicKey?.toString('base64')).toBe(fixtures.mlKem512.publicKeyBase64);
  });

  it('refuses the published public key paired with a different seed', () => {
    const seed = Buffer.from(fixtures.mlDsa44.seedHex, 'hex');
    seed[0] = 0xff;
    expect(() =>
      importKey({
        algorithm: 'ML-DSA-44',
        privateKey: seedPkcs8('608648016503040311', seed),
        publicKey: Buffer.from(fixtures.mlDsa44.publicKeyBase64, 'base64'),
      }),
    ).toThrow(expect.objectContaining({ errorCode: 407 }));
  });
});
