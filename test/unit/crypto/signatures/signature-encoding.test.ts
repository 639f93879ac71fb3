import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Asn1Error } from '../../../../src/crypto/der.js';
import { derToRaw } from '../../../../src/crypto/signatures/signature-encoding.js';

// node:crypto's own ieee-p1363 verification is the independent check of the conversion
describe('derToRaw', () => {
  for (const [curve, width] of [
    ['P-256', 32],
    ['P-384', 48],
    ['P-521', 66], // its DER SEQUENCE has a long-form length
    ['secp256k1', 32],
  ] as const) {
    it(`turns node's DER signatures on ${curve} into r ‖ s that node verifies as ieee-p1363`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      let shortValues = 0;
      // about 1 in 128 signatures has an r or s with a leading zero byte (a shorter INTEGER): sign until
      // 3 of those were met (at most 8,000 tries), and at least 100 times
      for (let i = 0; i < 8000 && (i < 100 || shortValues < 3); i++) {
        const data = randomBytes(32);
        const der = sign('sha256', data, privateKey);
        const raw = derToRaw(der, width);
        expect(raw.length).toBe(2 * width);
        expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
        if (raw[0] === 0 || raw[width] === 0) shortValues++;
      }
      expect(shortValues).toBeGreaterThanOrEqual(3);
    });
  }

  it('refuses what is not a DER signature of the width', () => {
    expect(() => derToRaw(Buffer.from('300602010102020101', 'hex'), 1)).toThrow(Asn1Error);
    expect(() => derToRaw(Buffer.from('3006040101040101', 'hex'), 32)).toThrow(Asn1Error);
  });
});
