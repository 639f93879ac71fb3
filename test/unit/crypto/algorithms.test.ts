import { describe, expect, it } from 'vitest';
import {
  algorithmOidOf,
  CURVES,
  capabilitiesOf,
  curveSupportsDerivation,
  isAsymmetric,
  isSymmetric,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  keySizeAllowed,
  normalizeAlgorithm,
  resolveCurve,
  resolveKeySize,
  STATEFUL_ALGORITHMS,
} from '../../../src/crypto/algorithms.js';
import { tsbErrorOf } from './helpers.js';

describe('normalizeAlgorithm', () => {
  it('accepts every canonical name as is', () => {
    for (const name of KEY_ALGORITHMS) expect(normalizeAlgorithm(name)).toBe(name);
  });

  it.each([
    ['CHACHA20', 'ChaCha20'],
    ['chacha20', 'ChaCha20'],
    ['hmacsha256', 'HMACSHA256'],
    ['camellia', 'Camellia'],
    ['aes', 'AES'],
    ['rsa', 'RSA'],
    ['ml-dsa-65', 'ML-DSA-65'],
    ['SLH-DSA-SHA2-128F', 'SLH-DSA-SHA2-128f'],
    ['slh-dsa-shake-256s', 'SLH-DSA-SHAKE-256s'],
    ['DILITHIUM_L2', 'ML-DSA-44'],
    ['DILITHIUM_L3', 'ML-DSA-65'],
    ['DILITHIUM_L5', 'ML-DSA-87'],
    ['KYBER512', 'ML-KEM-512'],
    ['KYBER768_WITH_SHAKE', 'ML-KEM-768'],
    ['KYBER1024_WITH_SHA2_AES', 'ML-KEM-1024'],
    ['SPHINCS_PLUS_SHAKE_L1', 'SLH-DSA-SHAKE-128f'],
    ['SPHINCS_PLUS_SHAKE_L3', 'SLH-DSA-SHAKE-192f'],
    ['SPHINCS_PLUS_SHAKE_L5', 'SLH-DSA-SHAKE-256f'],
  ])('maps %s to %s', (name, canonical) => {
    expect(normalizeAlgorithm(name)).toBe(canonical);
  });

  it.each(['ROT13', 'ISS', 'LMS-SHA256_M32_H99_W4', 'KYBER256', 'ML-DSA-99', '', 'RSA2048'])(
    'refuses %j with INVALID_KEY_TYPE naming the value',
    (name) => {
      const error = tsbErrorOf(() => normalizeAlgorithm(name));
      expect(error.errorCode).toBe(613);
      expect(error.message).toContain(`"${name}"`);
    },
  );

  it('refuses non-strings', () => {
    expect(tsbErrorOf(() => normalizeAlgorithm(42)).errorCode).toBe(613);
    expect(tsbErrorOf(() => normalizeAlgorithm(null)).errorCode).toBe(613);
  });
});

describe('capabilities', () => {
  const can = (predicate: (alg: KeyAlgorithm) => boolean) => KEY_ALGORITHMS.filter(predicate);

  it('lists who can sign, decrypt, unwrap and derive', () => {
    expect(can((a) => capabilitiesOf(a).canSign)).toEqual([
      'RSA',
      'EC',
      'ED',
      'DSA',
      'BLS',
      'HMACSHA256',
      'ML-DSA-44',
      'ML-DSA-65',
      'ML-DSA-87',
      ...KEY_ALGORITHMS.filter((a) => a.startsWith('SLH-DSA')),
      ...STATEFUL_ALGORITHMS,
    ]);
    expect(can((a) => capabilitiesOf(a).canDecrypt)).toEqual([
      'RSA',
      'EC',
      'AES',
      'ChaCha20',
      'Camellia',
      'TDEA',
      'ML-KEM-512',
      'ML-KEM-768',
      'ML-KEM-1024',
    ]);
    expect(can((a) => capabilitiesOf(a).canUnwrap)).toEqual([
      'RSA',
      'AES',
      'ChaCha20',
      'Camellia',
      'TDEA',
      'ML-KEM-512',
      'ML-KEM-768',
      'ML-KEM-1024',
    ]);
    expect(can((a) => capabilitiesOf(a).canDerive)).toEqual(['EC', 'ED']);
  });

  it('separates symmetric from asymmetric algorithms', () => {
    expect(can(isSymmetric)).toEqual(['AES', 'ChaCha20', 'Camellia', 'TDEA', 'HMACSHA256']);
    expect(can(isAsymmetric)).toHaveLength(KEY_ALGORITHMS.length - 5);
    expect(capabilitiesOf('AES').symmetric).toBe(true);
    expect(capabilitiesOf('ML-KEM-768').symmetric).toBe(false);
  });

  it('offers derivation on secp256k1, P-256 and Ed25519 only', () => {
    expect(curveSupportsDerivation('EC', '1.3.132.0.10')).toBe(true);
    expect(curveSupportsDerivation('EC', '1.2.840.10045.3.1.7')).toBe(true);
    expect(curveSupportsDerivation('ED', '1.3.101.112')).toBe(true);
    expect(curveSupportsDerivation('EC', '1.3.132.0.34')).toBe(false);
    expect(curveSupportsDerivation('ED', '1.3.101.113')).toBe(false);
    expect(curveSupportsDerivation('EC', '1.3.101.112')).toBe(false);
    expect(curveSupportsDerivation('RSA', null)).toBe(false);
  });
});

describe('curves and algorithm OIDs', () => {
  it('knows the curves of the reference by OID', () => {
    expect(CURVES.map((c) => [c.oid, c.nodeName, c.keySize])).toEqual([
      ['1.2.840.10045.3.1.7', 'prime256v1', 256],
      ['1.3.132.0.34', 'secp384r1', 384],
      ['1.3.132.0.35', 'secp521r1', 521],
      ['1.3.132.0.10', 'secp256k1', 256],
      ['1.3.36.3.3.2.8.1.1.7', 'brainpoolP256r1', 256],
      ['1.3.36.3.3.2.8.1.1.11', 'brainpoolP384r1', 384],
      ['1.3.36.3.3.2.8.1.1.13', 'brainpoolP512r1', 512],
      ['1.3.101.112', 'ed25519', 255],
      ['1.3.101.113', 'ed448', 448],
    ]);
  });

  it('requires a known curve for EC and defaults ED to Ed25519', () => {
    expect(resolveCurve('EC', '1.3.132.0.10')?.name).toBe('secp256k1');
    expect(resolveCurve('ED', null)?.oid).toBe('1.3.101.112');
    expect(resolveCurve('ED', '1.3.101.113')?.name).toBe('Ed448');
    expect(resolveCurve('RSA', null)).toBeNull();
    for (const [alg, oid] of [
      ['EC', null],
      ['EC', ''],
      ['EC', '1.2.3.4.5'],
      ['EC', 'P-256; DROP TABLE'],
      ['EC', '1.3.101.112'],
      ['ED', '1.3.132.0.10'],
      ['RSA', '1.3.132.0.10'],
    ] as const) {
      const error = tsbErrorOf(() => resolveCurve(alg, oid));
      expect(error.errorCode).toBe(600);
      expect(error.message).toMatch(/curve/i);
    }
  });

  it('reports the algorithm OIDs of §7.1 and NIST CSOR', () => {
    expect(algorithmOidOf('RSA', null)).toBe('1.2.840.113549.1.1.1');
    expect(algorithmOidOf('EC', '1.3.132.0.10')).toBe('1.2.840.10045.2.1');
    expect(algorithmOidOf('ED', '1.3.101.112')).toBe('1.3.101.112');
    expect(algorithmOidOf('ED', '1.3.101.113')).toBe('1.3.101.113');
    expect(algorithmOidOf('DSA', null)).toBe('1.2.840.10040.4.1');
    expect(algorithmOidOf('BLS', null)).toBe('1.3.6.1.4.1.44668.5.3.1.1');
    expect(algorithmOidOf('ML-DSA-44', null)).toBe('2.16.840.1.101.3.4.3.17');
    expect(algorithmOidOf('ML-DSA-87', null)).toBe('2.16.840.1.101.3.4.3.19');
    expect(algorithmOidOf('ML-KEM-512', null)).toBe('2.16.840.1.101.3.4.4.1');
    expect(algorithmOidOf('ML-KEM-1024', null)).toBe('2.16.840.1.101.3.4.4.3');
    const slh = KEY_ALGORITHMS.filter((a) => a.startsWith('SLH-DSA'));
    expect(slh.map((a) => algorithmOidOf(a, null))).toEqual([
      '2.16.840.1.101.3.4.3.20',
      '2.16.840.1.101.3.4.3.21',
      '2.16.840.1.101.3.4.3.22',
      '2.16.840.1.101.3.4.3.23',
      '2.16.840.1.101.3.4.3.24',
      '2.16.840.1.101.3.4.3.25',
      '2.16.840.1.101.3.4.3.26',
      '2.16.840.1.101.3.4.3.27',
      '2.16.840.1.101.3.4.3.28',
      '2.16.840.1.101.3.4.3.29',
      '2.16.840.1.101.3.4.3.30',
      '2.16.840.1.101.3.4.3.31',
    ]);
    expect(slh).toEqual([
      'SLH-DSA-SHA2-128s',
      'SLH-DSA-SHA2-128f',
      'SLH-DSA-SHA2-192s',
      'SLH-DSA-SHA2-192f',
      'SLH-DSA-SHA2-256s',
      'SLH-DSA-SHA2-256f',
      'SLH-DSA-SHAKE-128s',
      'SLH-DSA-SHAKE-128f',
      'SLH-DSA-SHAKE-192s',
      'SLH-DSA-SHAKE-192f',
      'SLH-DSA-SHAKE-256s',
      'SLH-DSA-SHAKE-256f',
    ]);
    // secret keys: the OID of the algorithm family, a string as the Vault plugin and tsb-client-go read it
    expect(
      (['AES', 'ChaCha20', 'Camellia', 'TDEA', 'HMACSHA256'] as const).map((alg) =>
        algorithmOidOf(alg, null),
      ),
    ).toEqual([
      '2.16.840.1.101.3.4.1',
      '1.2.840.113549.1.9.16.3.18',
      '1.2.392.200011.61.1.1.1',
      '1.2.840.113549.3.7',
      '1.2.840.113549.2.9',
    ]);
  });
});

describe('key sizes', () => {
  it.each([
    ['RSA', [1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192], [512, 2047, 2560, 9216, 16384]],
    ['DSA', [1024, 2048, 3072], [512, 4096]],
    ['AES', [128, 192, 256], [64, 100, 512]],
    ['ChaCha20', [256], [128, 512]],
    ['Camellia', [128, 192, 256], [64, 512]],
    ['TDEA', [128, 192], [64, 168, 112, 256]],
    ['HMACSHA256', [128, 136, 256, 4096], [120, 129, 4104, 0]],
  ] as const)('%s allows %j and refuses %j', (alg, good, bad) => {
    for (const size of good) {
      expect(keySizeAllowed(alg, size)).toBe(true);
      expect(resolveKeySize(alg, size, null)).toBe(size);
    }
    for (const size of bad) {
      expect(keySizeAllowed(alg, size)).toBe(false);
      expect(tsbErrorOf(() => resolveKeySize(alg, size, null)).errorCode).toBe(603);
    }
  });

  it('uses defaults when no size is given', () => {
    expect(resolveKeySize('RSA', null, null)).toBe(2048);
    expect(resolveKeySize('DSA', undefined, null)).toBe(2048);
    expect(resolveKeySize('AES', null, null)).toBe(256);
    expect(resolveKeySize('TDEA', null, null)).toBe(192);
    expect(resolveKeySize('HMACSHA256', null, null)).toBe(256);
  });

  it('derives sizes of fixed-size algorithms and refuses contradicting ones', () => {
    const p521 = resolveCurve('EC', '1.3.132.0.35');
    expect(resolveKeySize('EC', null, p521)).toBe(521);
    expect(resolveKeySize('EC', 521, p521)).toBe(521);
    expect(resolveKeySize('EC', 0, p521)).toBe(521);
    expect(tsbErrorOf(() => resolveKeySize('EC', 256, p521)).errorCode).toBe(603);
    expect(resolveKeySize('ED', null, resolveCurve('ED', null))).toBe(255);
    expect(resolveKeySize('BLS', null, null)).toBe(381);
    expect(resolveKeySize('ML-DSA-44', null, null)).toBe(128);
    expect(resolveKeySize('ML-DSA-65', 192, null)).toBe(192);
    expect(resolveKeySize('ML-KEM-1024', null, null)).toBe(256);
    expect(resolveKeySize('SLH-DSA-SHAKE-192f', null, null)).toBe(192);
    expect(tsbErrorOf(() => resolveKeySize('ML-DSA-44', 2048, null)).errorCode).toBe(603);
    expect(tsbErrorOf(() => resolveKeySize('BLS', 256, null)).errorCode).toBe(603);
  });
});
