/**
 * The catalogue of key algorithms the software HSM offers (reference §7.1): their canonical TSB
 * names and obsolete aliases, what each kind of key can do, the named curves with their OIDs, the
 * `algorithmOid` reported for a key, and which key sizes are accepted.
 */
import { TsbError } from '../errors.js';

export const ML_DSA_ALGORITHMS = ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const;
export const ML_KEM_ALGORITHMS = ['ML-KEM-512', 'ML-KEM-768', 'ML-KEM-1024'] as const;
export const SLH_DSA_ALGORITHMS = [
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
] as const;
/**
 * Stateful hash-based signatures (NIST SP 800-208): every signature uses a one-time index that the key
 * store reserves (crypto/stateful/). `LMS` is the TSB's HSS/LMS key type; the `LMS-…` names are the other
 * HSS/LMS parameter sets offered (crypto/stateful/lms-params.ts); the XMSS names are the TSB's.
 */
export const STATEFUL_ALGORITHMS = [
  'LMS',
  'LMS-SHA256_M32_H5_W8',
  'LMS-SHA256_M32_H10_W4',
  'LMS-SHA256_M32_H10_W8',
  'LMS-SHA256_M32_H15_W4',
  'LMS-SHA256_M32_H15_W8',
  'LMS-SHA256_M32_H20_W4',
  'LMS-SHA256_M32_H20_W8',
  'LMS-SHA256_M32_H5_W8-H5_W8',
  'LMS-SHA256_M32_H10_W4-H10_W4',
  'LMS-SHA256_M32_H10_W8-H10_W8',
  'LMS-SHA256_M32_H15_W4-H10_W4',
  'LMS-SHA256_M32_H20_W4-H10_W4',
  'XMSS-SHA256_10_256',
  'XMSS-SHAKE256_10_256',
] as const;
export const SYMMETRIC_ALGORITHMS = ['AES', 'ChaCha20', 'Camellia', 'TDEA', 'HMACSHA256'] as const;
export const CLASSICAL_ALGORITHMS = ['RSA', 'EC', 'ED', 'DSA', 'BLS'] as const;

export const KEY_ALGORITHMS = [
  ...CLASSICAL_ALGORITHMS,
  ...SYMMETRIC_ALGORITHMS,
  ...ML_DSA_ALGORITHMS,
  ...ML_KEM_ALGORITHMS,
  ...SLH_DSA_ALGORITHMS,
  ...STATEFUL_ALGORITHMS,
] as const;

export type MlDsaAlgorithm = (typeof ML_DSA_ALGORITHMS)[number];
export type MlKemAlgorithm = (typeof ML_KEM_ALGORITHMS)[number];
export type SlhDsaAlgorithm = (typeof SLH_DSA_ALGORITHMS)[number];
export type StatefulAlgorithm = (typeof STATEFUL_ALGORITHMS)[number];
export type SymmetricAlgorithm = (typeof SYMMETRIC_ALGORITHMS)[number];
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Canonical names, looked up case-insensitively (the TSB itself mixes `ChaCha20` and `CHACHA20`). */
const BY_UPPER_NAME = new Map<string, KeyAlgorithm>(KEY_ALGORITHMS.map((name) => [name.toUpperCase(), name]));

/**
 * Obsolete draft names of TSB 2.1.0 (reference §7.1), mapped to the final standards:
 * - `DILITHIUM_L2|L3|L5` → ML-DSA-44/65/87 (the NIST security categories 2, 3, 5 of the three sets).
 * - `KYBER512|768|1024`, with any suffix (`_WITH_SHAKE`, `_WITH_SHA2_AES` = the "90s" variant) →
 *   ML-KEM-512/768/1024. The 90s variant no longer exists in FIPS 203; the key size is what matters.
 * - `SPHINCS_PLUS_SHAKE_L1|L3|L5` → SLH-DSA-SHAKE-128f/192f/256f: L1/L3/L5 are the 128/192/256-bit
 *   levels; the draft name carries no s/f choice, and the HSM's SPHINCS+ default was the fast ("f")
 *   "simple" parameter set, which is also the one whose key generation is cheap.
 */
const ALIASES: Record<string, KeyAlgorithm> = {
  DILITHIUM_L2: 'ML-DSA-44',
  DILITHIUM_L3: 'ML-DSA-65',
  DILITHIUM_L5: 'ML-DSA-87',
  SPHINCS_PLUS_SHAKE_L1: 'SLH-DSA-SHAKE-128f',
  SPHINCS_PLUS_SHAKE_L3: 'SLH-DSA-SHAKE-192f',
  SPHINCS_PLUS_SHAKE_L5: 'SLH-DSA-SHAKE-256f',
  // a few spellings seen in clients
  CHACHA: 'ChaCha20',
  'CHACHA-20': 'ChaCha20',
  HMAC_SHA256: 'HMACSHA256',
  'HMAC-SHA256': 'HMACSHA256',
  DESEDE: 'TDEA',
  '3DES': 'TDEA',
  EDDSA: 'ED',
  ECDSA: 'EC',
};
const KYBER = /^KYBER(512|768|1024)(?:_WITH_[A-Z0-9_]+)?$/;

const printable = (value: unknown): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

/** The canonical algorithm for a TSB `algorithm` value; unknown values → INVALID_KEY_TYPE naming the value. */
export function normalizeAlgorithm(name: unknown): KeyAlgorithm {
  if (typeof name === 'string') {
    const upper = name.trim().toUpperCase();
    const canonical = BY_UPPER_NAME.get(upper) ?? ALIASES[upper];
    if (canonical) return canonical;
    const kyber = KYBER.exec(upper);
    if (kyber) return `ML-KEM-${kyber[1]}` as MlKemAlgorithm;
  }
  throw new TsbError(
    'INVALID_KEY_TYPE',
    `unsupported key algorithm "${printable(name)}"; supported: ${KEY_ALGORITHMS.join(', ')}`,
  );
}

export function isKeyAlgorithm(name: string): name is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(name);
}

export const isSymmetric = (alg: KeyAlgorithm): alg is SymmetricAlgorithm =>
  (SYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);
export const isAsymmetric = (alg: KeyAlgorithm): boolean => !isSymmetric(alg);
export const isMlDsa = (alg: KeyAlgorithm): alg is MlDsaAlgorithm =>
  (ML_DSA_ALGORITHMS as readonly string[]).includes(alg);
export const isMlKem = (alg: KeyAlgorithm): alg is MlKemAlgorithm =>
  (ML_KEM_ALGORITHMS as readonly string[]).includes(alg);
export const isSlhDsa = (alg: KeyAlgorithm): alg is SlhDsaAlgorithm =>
  (SLH_DSA_ALGORITHMS as readonly string[]).includes(alg);
export const isStateful = (alg: KeyAlgorithm): alg is StatefulAlgorithm =>
  (STATEFUL_ALGORITHMS as readonly string[]).includes(alg);
export const isPostQuantum = (alg: KeyAlgorithm): boolean => isMlDsa(alg) || isMlKem(alg) || isSlhDsa(alg);

export interface Capabilities {
  symmetric: boolean;
  canSign: boolean;
  /** decrypt (RSA, symmetric ciphers, ML-KEM decapsulation; EC only through ECIES) */
  canDecrypt: boolean;
  canUnwrap: boolean;
  /** BIP32 / SLIP-10 derivation: EC (on secp256k1 and P-256 only, see `curveSupportsDerivation`) and ED */
  canDerive: boolean;
}

/** What a key of the algorithm can be allowed to do; used to validate key attributes. */
export function capabilitiesOf(alg: KeyAlgorithm): Capabilities {
  const pq = isMlDsa(alg) || isSlhDsa(alg) || isStateful(alg) ? 'sign' : isMlKem(alg) ? 'kem' : null;
  const sign = pq === 'sign' || ['RSA', 'EC', 'ED', 'DSA', 'BLS', 'HMACSHA256'].includes(alg as string);
  const decrypt =
    pq === 'kem' || ['RSA', 'EC', 'AES', 'ChaCha20', 'Camellia', 'TDEA'].includes(alg as string);
  const unwrap = pq === 'kem' || ['RSA', 'AES', 'Camellia', 'TDEA', 'ChaCha20'].includes(alg as string);
  return {
    symmetric: isSymmetric(alg),
    canSign: sign,
    canDecrypt: decrypt,
    canUnwrap: unwrap,
    canDerive: alg === 'EC' || alg === 'ED',
  };
}

// ---------------------------------------------------------------------------------------------
// Curves

export interface CurveInfo {
  oid: string;
  /** the usual name (reported in messages) */
  name: string;
  algorithm: 'EC' | 'ED';
  /** node:crypto `namedCurve` for EC, `asymmetricKeyType` for ED */
  nodeName: string;
  /** field size in bits, reported as `keySize` */
  keySize: number;
  /** BIP32 / SLIP-10 derivation defined for the curve */
  derivation: boolean;
}

export const CURVES: readonly CurveInfo[] = [
  {
    oid: '1.2.840.10045.3.1.7',
    name: 'secp256r1',
    algorithm: 'EC',
    nodeName: 'prime256v1',
    keySize: 256,
    derivation: true,
  },
  {
    oid: '1.3.132.0.34',
    name: 'secp384r1',
    algorithm: 'EC',
    nodeName: 'secp384r1',
    keySize: 384,
    derivation: false,
  },
  {
    oid: '1.3.132.0.35',
    name: 'secp521r1',
    algorithm: 'EC',
    nodeName: 'secp521r1',
    keySize: 521,
    derivation: false,
  },
  {
    oid: '1.3.132.0.10',
    name: 'secp256k1',
    algorithm: 'EC',
    nodeName: 'secp256k1',
    keySize: 256,
    derivation: true,
  },
  {
    oid: '1.3.36.3.3.2.8.1.1.7',
    name: 'brainpoolP256r1',
    algorithm: 'EC',
    nodeName: 'brainpoolP256r1',
    keySize: 256,
    derivation: false,
  },
  {
    oid: '1.3.36.3.3.2.8.1.1.11',
    name: 'brainpoolP384r1',
    algorithm: 'EC',
    nodeName: 'brainpoolP384r1',
    keySize: 384,
    derivation: false,
  },
  {
    oid: '1.3.36.3.3.2.8.1.1.13',
    name: 'brainpoolP512r1',
    algorithm: 'EC',
    nodeName: 'brainpoolP512r1',
    keySize: 512,
    derivation: false,
  },
  // keySize of Edwards curves: the field size, as Java's EdDSA key generators report it (255 / 448)
  {
    oid: '1.3.101.112',
    name: 'Ed25519',
    algorithm: 'ED',
    nodeName: 'ed25519',
    keySize: 255,
    derivation: true,
  },
  { oid: '1.3.101.113', name: 'Ed448', algorithm: 'ED', nodeName: 'ed448', keySize: 448, derivation: false },
];

export const ED25519_OID = '1.3.101.112';
const OID_SYNTAX = /^[0-2](?:\.(?:0|[1-9][0-9]*))+$/;

export const curveByOid = (oid: string): CurveInfo | undefined => CURVES.find((curve) => curve.oid === oid);
export const curveByNodeName = (algorithm: 'EC' | 'ED', nodeName: string): CurveInfo | undefined =>
  CURVES.find((curve) => curve.algorithm === algorithm && curve.nodeName === nodeName);

/** BIP32 / SLIP-10 derivation is offered for EC keys on secp256k1 and P-256, and for Ed25519. */
export function curveSupportsDerivation(alg: KeyAlgorithm, curveOid: string | null): boolean {
  if (alg !== 'EC' && alg !== 'ED') return false;
  const curve = curveOid === null ? undefined : curveByOid(curveOid);
  return curve?.algorithm === alg && curve.derivation;
}

const hasValue = (value: string | null | undefined): value is string =>
  value !== null && value !== undefined && value !== '';

/**
 * The curve of an EC or ED key (EC requires `curveOid`; ED defaults to Ed25519); any other algorithm
 * must not name a curve. Errors are INPUT_VALIDATION_FAILED and mention "curve".
 */
export function resolveCurve(alg: KeyAlgorithm, curveOid: string | null | undefined): CurveInfo | null {
  if (alg !== 'EC' && alg !== 'ED') {
    if (hasValue(curveOid)) {
      throw new TsbError('INPUT_VALIDATION_FAILED', `curveOid must not be given for ${alg} keys`);
    }
    return null;
  }
  if (!hasValue(curveOid)) {
    if (alg === 'ED') return curveByOid(ED25519_OID)!;
    throw new TsbError('INPUT_VALIDATION_FAILED', 'curveOid is required for EC keys');
  }
  if (typeof curveOid !== 'string' || !OID_SYNTAX.test(curveOid)) {
    throw new TsbError('INPUT_VALIDATION_FAILED', `curveOid "${printable(curveOid)}" is not an OID`);
  }
  const curve = curveByOid(curveOid);
  if (!curve || curve.algorithm !== alg) {
    const offered = CURVES.filter((c) => c.algorithm === alg)
      .map((c) => `${c.name} ${c.oid}`)
      .join(', ');
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `unsupported curve ${curveOid} for ${alg} keys; supported curves: ${offered}`,
    );
  }
  return curve;
}

// ---------------------------------------------------------------------------------------------
// Algorithm OIDs and post-quantum parameter sets

export const OIDS = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  dsa: '1.2.840.10040.4.1',
  bls12381G1: '1.3.6.1.4.1.44668.5.3.1.1',
} as const;

const NIST_SIG = '2.16.840.1.101.3.4.3';

/** id-alg-hss-lms-hashsig (RFC 9708), id-alg-xmss-hashsig (RFC 9802) */
export const STATEFUL_OIDS = {
  'HSS-LMS': '1.2.840.113549.1.9.16.3.17',
  XMSS: '1.3.6.1.5.5.7.6.34',
} as const;

export const statefulFamily = (alg: StatefulAlgorithm): keyof typeof STATEFUL_OIDS =>
  alg.startsWith('XMSS') ? 'XMSS' : 'HSS-LMS';
const statefulOid = (alg: StatefulAlgorithm) => STATEFUL_OIDS[statefulFamily(alg)];
const NIST_KEM = '2.16.840.1.101.3.4.4';

export interface PostQuantumParams {
  oid: string;
  /** claimed classical security in bits, reported as `keySize` */
  securityBits: number;
}

export const PQ_PARAMS: Record<MlDsaAlgorithm | MlKemAlgorithm | SlhDsaAlgorithm, PostQuantumParams> = {
  'ML-DSA-44': { oid: `${NIST_SIG}.17`, securityBits: 128 },
  'ML-DSA-65': { oid: `${NIST_SIG}.18`, securityBits: 192 },
  'ML-DSA-87': { oid: `${NIST_SIG}.19`, securityBits: 256 },
  'ML-KEM-512': { oid: `${NIST_KEM}.1`, securityBits: 128 },
  'ML-KEM-768': { oid: `${NIST_KEM}.2`, securityBits: 192 },
  'ML-KEM-1024': { oid: `${NIST_KEM}.3`, securityBits: 256 },
  // NIST CSOR, RFC 9909
  'SLH-DSA-SHA2-128s': { oid: `${NIST_SIG}.20`, securityBits: 128 },
  'SLH-DSA-SHA2-128f': { oid: `${NIST_SIG}.21`, securityBits: 128 },
  'SLH-DSA-SHA2-192s': { oid: `${NIST_SIG}.22`, securityBits: 192 },
  'SLH-DSA-SHA2-192f': { oid: `${NIST_SIG}.23`, securityBits: 192 },
  'SLH-DSA-SHA2-256s': { oid: `${NIST_SIG}.24`, securityBits: 256 },
  'SLH-DSA-SHA2-256f': { oid: `${NIST_SIG}.25`, securityBits: 256 },
  'SLH-DSA-SHAKE-128s': { oid: `${NIST_SIG}.26`, securityBits: 128 },
  'SLH-DSA-SHAKE-128f': { oid: `${NIST_SIG}.27`, securityBits: 128 },
  'SLH-DSA-SHAKE-192s': { oid: `${NIST_SIG}.28`, securityBits: 192 },
  'SLH-DSA-SHAKE-192f': { oid: `${NIST_SIG}.29`, securityBits: 192 },
  'SLH-DSA-SHAKE-256s': { oid: `${NIST_SIG}.30`, securityBits: 256 },
  'SLH-DSA-SHAKE-256f': { oid: `${NIST_SIG}.31`, securityBits: 256 },
};

/**
 * The `algorithmOid` of a secret key. A secret key has no SubjectPublicKeyInfo, and the TSB publishes no value,
 * but the Vault plugin and tsb-client-go read the field as a string (they panic on null): the OID of the
 * algorithm family (NIST CSOR AES arc, RFC 3657 Camellia arc, RFC 8103 AEAD ChaCha20-Poly1305, RFC 8018
 * des-ede3-cbc and hmacWithSHA256).
 */
export const SYMMETRIC_OIDS: Record<SymmetricAlgorithm, string> = {
  AES: '2.16.840.1.101.3.4.1',
  Camellia: '1.2.392.200011.61.1.1.1',
  ChaCha20: '1.2.840.113549.1.9.16.3.18',
  TDEA: '1.2.840.113549.3.7',
  HMACSHA256: '1.2.840.113549.2.9',
};

/** The `algorithmOid` reported for a key: the SPKI algorithm OID (the curve OID for ED), SYMMETRIC_OIDS for secret keys. */
export function algorithmOidOf(alg: KeyAlgorithm, curveOid: string | null): string {
  switch (alg) {
    case 'RSA':
      return OIDS.rsaEncryption;
    case 'EC':
      return OIDS.ecPublicKey;
    case 'ED':
      return curveOid ?? ED25519_OID;
    case 'DSA':
      return OIDS.dsa;
    case 'BLS':
      return OIDS.bls12381G1;
    default:
      if (isStateful(alg)) return statefulOid(alg);
      return isSymmetric(alg) ? SYMMETRIC_OIDS[alg] : PQ_PARAMS[alg].oid;
  }
}

// ---------------------------------------------------------------------------------------------
// Key sizes

export type KeySizeRule =
  | { kind: 'choice'; sizes: readonly number[]; default: number }
  | { kind: 'range'; min: number; max: number; step: number; default: number }
  /** fixed by the curve or parameter set; `keySize` may only repeat it */
  | { kind: 'derived' };

/** BLS12-381: the base field size. */
export const BLS_KEY_SIZE = 381;

const KEY_SIZES: Partial<Record<KeyAlgorithm, KeySizeRule>> = {
  // any multiple of 1024 from 2048 to 8192, and 1024 as legacy strength (the TSB and the Vault plugin's
  // tests create such keys; about 80-bit security, docs/tsb-deviations.md)
  RSA: { kind: 'choice', sizes: [1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192], default: 2048 },
  // FIPS 186-4 sizes: (1024, 160) as legacy strength as for RSA, (2048, 256) and (3072, 256)
  DSA: { kind: 'choice', sizes: [1024, 2048, 3072], default: 2048 },
  AES: { kind: 'choice', sizes: [128, 192, 256], default: 256 },
  ChaCha20: { kind: 'choice', sizes: [256], default: 256 },
  Camellia: { kind: 'choice', sizes: [128, 192, 256], default: 256 },
  // two-key (K1,K2,K1) and three-key TDEA, parity bits included
  TDEA: { kind: 'choice', sizes: [128, 192], default: 192 },
  HMACSHA256: { kind: 'range', min: 128, max: 4096, step: 8, default: 256 },
};

export function keySizeRule(alg: KeyAlgorithm): KeySizeRule {
  return KEY_SIZES[alg] ?? { kind: 'derived' };
}

/** The key size implied by a fixed-size algorithm (EC/ED: field size; PQC: security bits; BLS: 381). */
export function derivedKeySize(alg: KeyAlgorithm, curve: CurveInfo | null): number | null {
  if (alg === 'EC' || alg === 'ED') return curve?.keySize ?? null;
  if (alg === 'BLS') return BLS_KEY_SIZE;
  if (isPostQuantum(alg)) return PQ_PARAMS[alg as MlDsaAlgorithm].securityBits;
  // SHA-256 / SHAKE256 with n = 32 bytes
  if (isStateful(alg)) return 256;
  return null;
}

export function describeKeySizeRule(rule: KeySizeRule): string {
  switch (rule.kind) {
    case 'choice':
      return rule.sizes.join(', ');
    case 'range':
      return `${rule.min} to ${rule.max} in steps of ${rule.step}`;
    case 'derived':
      return 'fixed by the algorithm';
  }
}

/** Whether `bits` is an allowed size for a generated key of a sized algorithm. */
export function keySizeAllowed(alg: KeyAlgorithm, bits: number): boolean {
  const rule = keySizeRule(alg);
  if (rule.kind === 'choice') return rule.sizes.includes(bits);
  if (rule.kind === 'range') {
    return Number.isInteger(bits) && bits >= rule.min && bits <= rule.max && bits % rule.step === 0;
  }
  return false;
}

/**
 * The key size of a key to generate: the requested one if allowed, the default when none is given.
 * For fixed-size algorithms the size is derived; a contradicting `keySize` is refused
 * (0 counts as "not given" there). Errors are INPUT_KEYSIZE.
 */
export function resolveKeySize(
  alg: KeyAlgorithm,
  keySize: number | null | undefined,
  curve: CurveInfo | null,
): number {
  const rule = keySizeRule(alg);
  if (rule.kind === 'derived') {
    const derived = derivedKeySize(alg, curve);
    if (derived === null)
      throw new TsbError('INPUT_VALIDATION_FAILED', `a curve is required for ${alg} keys`);
    if (keySize !== null && keySize !== undefined && keySize !== 0 && keySize !== derived) {
      throw new TsbError(
        'INPUT_KEYSIZE',
        `keySize ${printable(keySize)} contradicts the ${alg} key${curve ? ` on ${curve.name}` : ''}, whose size is ${derived} bits`,
      );
    }
    return derived;
  }
  if (keySize === null || keySize === undefined) return rule.default;
  if (typeof keySize !== 'number' || !keySizeAllowed(alg, keySize)) {
    throw new TsbError(
      'INPUT_KEYSIZE',
      `keySize ${printable(keySize)} is not offered for ${alg} keys; allowed: ${describeKeySizeRule(rule)}`,
    );
  }
  return keySize;
}
