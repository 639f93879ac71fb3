/**
 * The catalogue of TSB `signatureAlgorithm` names (reference §7.2) for the key types the software
 * HSM offers, parsed into descriptors. Names are matched after trimming, case-insensitively.
 *
 * Semantics (Java / JCE conventions of the Securosys provider):
 * - `SHAxxx_WITH_RSA`: RSASSA-PKCS1-v1_5. `SHAxxx_WITH_RSA_PSS`: RSASSA-PSS, MGF1 with the same hash,
 *   salt length = hash length, trailer 0xBC.
 * - `NONE_WITH_RSA` (JCE `NONEwithRSA`): the payload is signed as given with PKCS#1 v1.5 type-1
 *   padding and NO DigestInfo (payload at most k − 11 bytes).
 * - `NONESHAxxx_WITH_RSA`: the payload is a SHA-xxx digest; the DigestInfo of SHA-xxx is added.
 * - `NONE_WITH_RSA_PSS`: PSS over a given digest, whose hash (SHA-1/224/256/384/512) is inferred
 *   from its length; `NONESHAxxx_WITH_RSA_PSS`: PSS over a given SHA-xxx digest.
 * - ECDSA: `NONE_WITH_ECDSA` signs the payload as the digest (1–64 bytes, truncated to the order
 *   size as ECDSA prescribes); `DOUBLE_SHA256_WITH_ECDSA` signs SHA-256(SHA-256(payload)) (Bitcoin);
 *   `SHA3xxx_WITH_ECDSA` and `KECCAKxxx_WITH_ECDSA` (original Keccak padding, Ethereum);
 *   `SHA256_WITH_ECDSA_DETERMINISTIC` is RFC 6979 with SHA-256.
 * - `NONE_WITH_EC_SCHNORR_BIP0340` (TSB 2.2.0): a BIP-340 Schnorr signature (64 bytes, R.x ‖ s) of the
 *   32-byte payload as given, with a secp256k1 key as it is (no Taproot tweak); other curves → 607.
 * - DSA: `NONE_WITH_DSA` signs the payload as the digest; `SHAxxx_WITH_DSA`.
 * - `EDDSA`: pure Ed25519 / Ed448. `BLS`: BLS12-381 min-pk (see signatures-noble.ts for the DST).
 * - ML-DSA (FIPS 204): `ML_DSA` (old name `DILITHIUM`) = pure ML-DSA; `ML_DSA_M` = the payload is
 *   the 64-byte message representative µ computed by the caller ("external µ", FIPS 204 §6.2
 *   footnote / Algorithm 7 line 6): a signature over µ = SHAKE256(SHAKE256(pk, 64) ‖ M′, 64) is a
 *   pure ML-DSA signature of the message; `SHA2_xxx_WITH_ML_DSA`, `SHA3_xxx_WITH_ML_DSA`,
 *   `SHAKE_128|256_WITH_ML_DSA` = HashML-DSA (FIPS 204 §5.4) where the HSM hashes the payload.
 * - SLH-DSA (FIPS 205): `SLH_DSA` (old name `SPHINCS_PLUS`) = pure; `…_WITH_SLH_DSA` = HashSLH-DSA.
 * - Stateful hash-based signatures (SP 800-208) of the message as given: `LMS` for every HSS/LMS key
 *   (the key type names `LMS-…` are accepted as aliases); an XMSS key signs with its key type name.
 */
import { TsbError } from '../../errors.js';
import {
  curveByOid,
  isMlDsa,
  isSlhDsa,
  isStateful,
  type KeyAlgorithm,
  STATEFUL_ALGORITHMS,
  statefulFamily,
} from '../algorithms.js';

export type SignatureFamily =
  | 'RSA_PKCS1'
  | 'RSA_PSS'
  | 'ECDSA'
  | 'SCHNORR_BIP340'
  | 'EDDSA'
  | 'DSA'
  | 'BLS'
  | 'ML_DSA'
  | 'SLH_DSA'
  | 'HSS_LMS'
  | 'XMSS';

export type SignatureHash =
  | 'sha1'
  | 'sha224'
  | 'sha256'
  | 'sha384'
  | 'sha512'
  | 'sha3-224'
  | 'sha3-256'
  | 'sha3-384'
  | 'sha3-512'
  | 'keccak224'
  | 'keccak256'
  | 'keccak384'
  | 'keccak512'
  | 'shake128'
  | 'shake256'
  | 'double-sha256'
  | 'none';

export interface SignatureAlgorithm {
  /** the canonical TSB name */
  name: string;
  family: SignatureFamily;
  /**
   * RSA/ECDSA/DSA: the message digest; with `prehashed` the digest the caller computed ('none' =
   * the payload is signed as given, or for NONE_WITH_RSA_PSS the hash is inferred from the length).
   * ML-DSA / SLH-DSA: the pre-hash of HashML-DSA / HashSLH-DSA ('none' = pure).
   */
  hash: SignatureHash;
  /** the payload is a digest (NONE*, NONESHA*), or µ for ML_DSA_M */
  prehashed: boolean;
  /** RFC 6979 deterministic ECDSA */
  deterministic: boolean;
  /** ML_DSA_M: the payload is the 64-byte µ */
  externalMu: boolean;
}

/** Digest length in bytes of each hash (double-sha256: 32). */
export const HASH_LENGTH: Record<Exclude<SignatureHash, 'none'>, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  'sha3-224': 28,
  'sha3-256': 32,
  'sha3-384': 48,
  'sha3-512': 64,
  keccak224: 28,
  keccak256: 32,
  keccak384: 48,
  keccak512: 64,
  shake128: 32,
  shake256: 64,
  'double-sha256': 32,
};

const entry = (
  name: string,
  family: SignatureFamily,
  hash: SignatureHash,
  options: Partial<Pick<SignatureAlgorithm, 'prehashed' | 'deterministic' | 'externalMu'>> = {},
): SignatureAlgorithm =>
  Object.freeze({
    name,
    family,
    hash,
    prehashed: options.prehashed ?? false,
    deterministic: options.deterministic ?? false,
    externalMu: options.externalMu ?? false,
  });

const SHA2 = ['224', '256', '384', '512'] as const;
const sha2 = (bits: string) => `sha${bits}` as SignatureHash;

function buildCatalogue(): SignatureAlgorithm[] {
  const list: SignatureAlgorithm[] = [];
  // RSA
  for (const bits of ['1', ...SHA2]) {
    const hash = bits === '1' ? 'sha1' : sha2(bits);
    list.push(entry(`SHA${bits}_WITH_RSA`, 'RSA_PKCS1', hash));
    list.push(entry(`SHA${bits}_WITH_RSA_PSS`, 'RSA_PSS', hash));
    list.push(entry(`NONESHA${bits}_WITH_RSA`, 'RSA_PKCS1', hash, { prehashed: true }));
    list.push(entry(`NONESHA${bits}_WITH_RSA_PSS`, 'RSA_PSS', hash, { prehashed: true }));
  }
  list.push(entry('NONE_WITH_RSA', 'RSA_PKCS1', 'none', { prehashed: true }));
  list.push(entry('NONE_WITH_RSA_PSS', 'RSA_PSS', 'none', { prehashed: true }));
  // ECDSA
  list.push(entry('NONE_WITH_ECDSA', 'ECDSA', 'none', { prehashed: true }));
  list.push(entry('SHA1_WITH_ECDSA', 'ECDSA', 'sha1'));
  for (const bits of SHA2) {
    list.push(entry(`SHA${bits}_WITH_ECDSA`, 'ECDSA', sha2(bits)));
    list.push(entry(`SHA3${bits}_WITH_ECDSA`, 'ECDSA', `sha3-${bits}` as SignatureHash));
    list.push(entry(`KECCAK${bits}_WITH_ECDSA`, 'ECDSA', `keccak${bits}` as SignatureHash));
  }
  list.push(entry('DOUBLE_SHA256_WITH_ECDSA', 'ECDSA', 'double-sha256'));
  list.push(entry('SHA256_WITH_ECDSA_DETERMINISTIC', 'ECDSA', 'sha256', { deterministic: true }));
  list.push(entry('NONE_WITH_EC_SCHNORR_BIP0340', 'SCHNORR_BIP340', 'none', { prehashed: true }));
  // DSA
  list.push(entry('NONE_WITH_DSA', 'DSA', 'none', { prehashed: true }));
  list.push(entry('SHA1_WITH_DSA', 'DSA', 'sha1'));
  for (const bits of SHA2) list.push(entry(`SHA${bits}_WITH_DSA`, 'DSA', sha2(bits)));
  // EdDSA, BLS
  list.push(entry('EDDSA', 'EDDSA', 'none'));
  list.push(entry('BLS', 'BLS', 'none'));
  // ML-DSA, SLH-DSA
  list.push(entry('ML_DSA', 'ML_DSA', 'none'));
  list.push(entry('ML_DSA_M', 'ML_DSA', 'none', { prehashed: true, externalMu: true }));
  list.push(entry('SLH_DSA', 'SLH_DSA', 'none'));
  for (const [family, suffix] of [
    ['ML_DSA', 'ML_DSA'],
    ['SLH_DSA', 'SLH_DSA'],
  ] as const) {
    for (const bits of SHA2) {
      list.push(entry(`SHA2_${bits}_WITH_${suffix}`, family, sha2(bits)));
      list.push(entry(`SHA3_${bits}_WITH_${suffix}`, family, `sha3-${bits}` as SignatureHash));
    }
    list.push(entry(`SHAKE_128_WITH_${suffix}`, family, 'shake128'));
    list.push(entry(`SHAKE_256_WITH_${suffix}`, family, 'shake256'));
  }
  // stateful hash-based signatures
  list.push(entry('LMS', 'HSS_LMS', 'none'));
  for (const name of STATEFUL_ALGORITHMS) if (name.startsWith('XMSS')) list.push(entry(name, 'XMSS', 'none'));
  return list;
}

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = Object.freeze(buildCatalogue());

const BY_NAME = new Map(SIGNATURE_ALGORITHMS.map((algorithm) => [algorithm.name, algorithm]));

/** Obsolete names of TSB 2.1.0 and JCE-style spellings seen in clients. */
const ALIASES: Record<string, string> = {
  ...Object.fromEntries(
    STATEFUL_ALGORITHMS.filter((name) => name.startsWith('LMS-')).map((name) => [name, 'LMS']),
  ),
  DILITHIUM: 'ML_DSA',
  SPHINCS_PLUS: 'SLH_DSA',
  ED25519: 'EDDSA',
  ED448: 'EDDSA',
};

const printable = (value: unknown): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 48 ? `${text.slice(0, 48)}…` : text;
};

/** The descriptor of a signatureAlgorithm name; unknown names → INPUT_VALIDATION_FAILED (600). */
export function parseSignatureAlgorithm(name: unknown): SignatureAlgorithm {
  if (typeof name === 'string') {
    const upper = name.trim().toUpperCase();
    const found = BY_NAME.get(ALIASES[upper] ?? upper);
    if (found) return found;
  }
  throw new TsbError('INPUT_VALIDATION_FAILED', `unsupported signatureAlgorithm "${printable(name)}"`);
}

/** The key algorithms a signature family needs. */
function familyFits(family: SignatureFamily, keyAlgorithm: KeyAlgorithm): boolean {
  switch (family) {
    case 'RSA_PKCS1':
    case 'RSA_PSS':
      return keyAlgorithm === 'RSA';
    case 'ECDSA':
    case 'SCHNORR_BIP340':
      return keyAlgorithm === 'EC';
    case 'EDDSA':
      return keyAlgorithm === 'ED';
    case 'DSA':
      return keyAlgorithm === 'DSA';
    case 'BLS':
      return keyAlgorithm === 'BLS';
    case 'ML_DSA':
      return isMlDsa(keyAlgorithm);
    case 'SLH_DSA':
      return isSlhDsa(keyAlgorithm);
    case 'HSS_LMS':
      return isStateful(keyAlgorithm) && statefulFamily(keyAlgorithm) === 'HSS-LMS';
    case 'XMSS':
      return isStateful(keyAlgorithm) && statefulFamily(keyAlgorithm) === 'XMSS';
  }
}

const describeKey = (keyAlgorithm: KeyAlgorithm, curveOid: string | null): string => {
  const curve = curveOid ? curveByOid(curveOid) : undefined;
  return curve ? `${keyAlgorithm} key on ${curve.name}` : `${keyAlgorithm} key`;
};

/**
 * The descriptor of a name for a key: unknown name → 600, a name of another key type →
 * ALGORITHM_NOT_SUPPORTED_BY_KEY (607) naming both.
 */
export function signatureAlgorithmFor(
  keyAlgorithm: KeyAlgorithm,
  curveOid: string | null,
  name: unknown,
): SignatureAlgorithm {
  const algorithm = parseSignatureAlgorithm(name);
  // an XMSS signature algorithm names its parameter set: only the key of that set makes it
  const xmssMismatch = algorithm.family === 'XMSS' && algorithm.name !== keyAlgorithm;
  const curveMismatch =
    algorithm.family === 'SCHNORR_BIP340' &&
    (curveOid ? curveByOid(curveOid)?.name : undefined) !== 'secp256k1';
  if (!familyFits(algorithm.family, keyAlgorithm) || xmssMismatch || curveMismatch) {
    throw new TsbError(
      'ALGORITHM_NOT_SUPPORTED_BY_KEY',
      `signatureAlgorithm ${algorithm.name} cannot be used with a ${describeKey(keyAlgorithm, curveOid)}`,
    );
  }
  return algorithm;
}

/** Whether the signatureAlgorithm name is known and usable with a key of the algorithm (and curve). */
export function signatureAlgorithmFits(
  keyAlgorithm: KeyAlgorithm,
  curveOid: string | null,
  name: string,
): boolean {
  try {
    signatureAlgorithmFor(keyAlgorithm, curveOid, name);
    return true;
  } catch (error) {
    if (error instanceof TsbError) return false;
    throw error;
  }
}

/** The names usable with a key of the algorithm (for error messages and service information). */
export function signatureAlgorithmsFor(keyAlgorithm: KeyAlgorithm): string[] {
  return SIGNATURE_ALGORITHMS.filter(
    (algorithm) =>
      familyFits(algorithm.family, keyAlgorithm) &&
      (algorithm.family !== 'XMSS' || algorithm.name === keyAlgorithm),
  ).map((algorithm) => algorithm.name);
}
