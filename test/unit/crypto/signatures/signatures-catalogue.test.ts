import { describe, expect, it } from 'vitest';
import {
  parseSignatureAlgorithm,
  SIGNATURE_ALGORITHMS,
  signatureAlgorithmFits,
  signatureAlgorithmFor,
  signatureAlgorithmsFor,
} from '../../../../src/crypto/signatures/signature-algorithms.js';
import type { TsbError } from '../../../../src/errors.js';

/** Every name of reference §7.2 that fits a key type the software HSM offers. */
const REFERENCE_NAMES = [
  ...['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'].flatMap((h) => [`${h}_WITH_RSA`, `${h}_WITH_RSA_PSS`]),
  'NONE_WITH_RSA',
  'NONE_WITH_RSA_PSS',
  'NONESHA1_WITH_RSA',
  ...['224', '256', '384', '512'].flatMap((b) => [`NONESHA${b}_WITH_RSA`, `NONESHA${b}_WITH_RSA_PSS`]),
  'NONE_WITH_ECDSA',
  'SHA1_WITH_ECDSA',
  ...['224', '256', '384', '512'].flatMap((b) => [
    `SHA${b}_WITH_ECDSA`,
    `SHA3${b}_WITH_ECDSA`,
    `KECCAK${b}_WITH_ECDSA`,
  ]),
  'DOUBLE_SHA256_WITH_ECDSA',
  'SHA256_WITH_ECDSA_DETERMINISTIC',
  'NONE_WITH_DSA',
  ...['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'].map((h) => `${h}_WITH_DSA`),
  'EDDSA',
  'BLS',
  'DILITHIUM',
  'SPHINCS_PLUS',
  'ML_DSA',
  'ML_DSA_M',
  'SLH_DSA',
  ...['ML_DSA', 'SLH_DSA'].flatMap((s) => [
    ...['224', '256', '384', '512'].flatMap((b) => [`SHA2_${b}_WITH_${s}`, `SHA3_${b}_WITH_${s}`]),
    `SHAKE_128_WITH_${s}`,
    `SHAKE_256_WITH_${s}`,
  ]),
  // stateful hash-based signatures (GOC / HCV)
  'LMS',
  'XMSS-SHA256_10_256',
  'XMSS-SHAKE256_10_256',
];

describe('signatureAlgorithm catalogue', () => {
  it('knows every name of reference §7.2 for our key types', () => {
    for (const name of REFERENCE_NAMES) expect(() => parseSignatureAlgorithm(name), name).not.toThrow();
    // DILITHIUM and SPHINCS_PLUS are aliases; NONESHA1_WITH_RSA_PSS and NONE_WITH_EC_SCHNORR_BIP0340 (TSB 2.2.0,
    // emvault-securosys) are offered beyond the reference list
    expect(SIGNATURE_ALGORITHMS.length).toBe(REFERENCE_NAMES.length - 2 + 2);
  });

  it('describes the forms', () => {
    expect(parseSignatureAlgorithm('NONESHA256_WITH_RSA_PSS')).toMatchObject({
      family: 'RSA_PSS',
      hash: 'sha256',
      prehashed: true,
    });
    expect(parseSignatureAlgorithm('NONE_WITH_RSA')).toMatchObject({
      family: 'RSA_PKCS1',
      hash: 'none',
      prehashed: true,
    });
    expect(parseSignatureAlgorithm('sha3256_with_ecdsa')).toMatchObject({
      family: 'ECDSA',
      hash: 'sha3-256',
    });
    expect(parseSignatureAlgorithm('SHA256_WITH_ECDSA_DETERMINISTIC')).toMatchObject({ deterministic: true });
    expect(parseSignatureAlgorithm('DILITHIUM')).toMatchObject({
      name: 'ML_DSA',
      family: 'ML_DSA',
      hash: 'none',
    });
    expect(parseSignatureAlgorithm('ML_DSA_M')).toMatchObject({ externalMu: true });
    expect(parseSignatureAlgorithm('SHAKE_256_WITH_SLH_DSA')).toMatchObject({
      family: 'SLH_DSA',
      hash: 'shake256',
    });
  });

  it('607 for a name of another key type, 600 for unknown names', () => {
    const misfit = (() => {
      try {
        signatureAlgorithmFor('EC', '1.3.132.0.10', 'SHA256_WITH_RSA');
      } catch (error) {
        return error as TsbError;
      }
    })();
    expect(misfit?.errorCode).toBe(607);
    expect(misfit?.message).toContain('SHA256_WITH_RSA');
    expect(misfit?.message).toContain('secp256k1');
    expect(() => signatureAlgorithmFor('RSA', null, 'SHA256_WITH_FOO')).toThrow(
      expect.objectContaining({ errorCode: 600 }),
    );
    expect(() => signatureAlgorithmFor('RSA', null, 42)).toThrow(expect.objectContaining({ errorCode: 600 }));
    expect(signatureAlgorithmFits('ML-DSA-65', null, 'SHA2_256_WITH_ML_DSA')).toBe(true);
    expect(signatureAlgorithmFits('SLH-DSA-SHA2-128f', null, 'ML_DSA')).toBe(false);
    expect(signatureAlgorithmFits('AES', null, 'SHA256_WITH_RSA')).toBe(false);
    expect(signatureAlgorithmFits('ED', '1.3.101.112', 'EDDSA')).toBe(true);
    expect(signatureAlgorithmFits('EC', '1.3.132.0.10', 'NONE_WITH_EC_SCHNORR_BIP0340')).toBe(true);
    // BIP-340 is defined over secp256k1 only
    expect(() => signatureAlgorithmFor('EC', '1.2.840.10045.3.1.7', 'NONE_WITH_EC_SCHNORR_BIP0340')).toThrow(
      expect.objectContaining({ errorCode: 607 }),
    );
    expect(signatureAlgorithmsFor('DSA')).toEqual([
      'NONE_WITH_DSA',
      'SHA1_WITH_DSA',
      'SHA224_WITH_DSA',
      'SHA256_WITH_DSA',
      'SHA384_WITH_DSA',
      'SHA512_WITH_DSA',
    ]);
  });
});
