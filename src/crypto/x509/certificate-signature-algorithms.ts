/**
 * Signature algorithms of key certificates and CSRs: the TSB names OpenTSB signs with, their X.509
 * AlgorithmIdentifier, and the identifiers it accepts on a CSR it is asked to sign.
 */
import { TsbError } from '../../errors.js';
import { curveByOid, type KeyAlgorithm } from '../algorithms.js';
import { nullValue, objectIdentifier, sequence } from '../der.js';

export interface CertificateSignatureAlgorithm {
  /** the TSB `signatureAlgorithm` name, as the signature operation takes it */
  name: string;
  keyAlgorithm: 'RSA' | 'EC' | 'ED';
  /** node:crypto digest name; null for EdDSA (pure) */
  hash: string | null;
}

const RSA_OIDS: Record<string, string> = {
  sha224: '1.2.840.113549.1.1.14',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
const ECDSA_OIDS: Record<string, string> = {
  sha224: '1.2.840.10045.4.3.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const ED25519 = '1.3.101.112';
const ED448 = '1.3.101.113';

const ALGORITHMS: readonly CertificateSignatureAlgorithm[] = [
  ...Object.keys(RSA_OIDS).map((hash) => ({
    name: `${hash.toUpperCase()}_WITH_RSA`,
    keyAlgorithm: 'RSA' as const,
    hash,
  })),
  ...Object.keys(ECDSA_OIDS).map((hash) => ({
    name: `${hash.toUpperCase()}_WITH_ECDSA`,
    keyAlgorithm: 'EC' as const,
    hash,
  })),
  { name: 'EDDSA', keyAlgorithm: 'ED', hash: null },
];

export const CERTIFICATE_SIGNATURE_ALGORITHMS = ALGORITHMS.map((algorithm) => algorithm.name);

/**
 * The algorithm a key signs a certificate or CSR with: an unknown name, or one OpenTSB does not sign
 * certificates with (PSS, SHA-1, Keccak, ...) → 600; a name for another key type → 607.
 */
export function certificateSignatureAlgorithm(
  keyAlgorithm: string,
  curveOid: string | null,
  name: unknown,
): CertificateSignatureAlgorithm {
  const upper = typeof name === 'string' ? name.trim().toUpperCase() : '';
  const algorithm = ALGORITHMS.find(
    (candidate) => candidate.name === (upper === 'ED25519' ? 'EDDSA' : upper),
  );
  if (!algorithm) {
    const shown = typeof name === 'string' ? name.slice(0, 48) : String(name);
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `unsupported signatureAlgorithm "${shown}" for certificates; supported: ${CERTIFICATE_SIGNATURE_ALGORITHMS.join(', ')}`,
    );
  }
  if (algorithm.keyAlgorithm !== keyAlgorithm) {
    const curve = curveOid ? curveByOid(curveOid)?.name : undefined;
    throw new TsbError(
      'ALGORITHM_NOT_SUPPORTED_BY_KEY',
      `signatureAlgorithm ${algorithm.name} cannot be used with an ${keyAlgorithm} key${curve ? ` on ${curve}` : ''}`,
    );
  }
  return algorithm;
}

/** The DER AlgorithmIdentifier of a signature made by a key of `curveOid` (RFC 4055, RFC 5758, RFC 8410). */
export function signatureAlgorithmIdentifier(
  algorithm: CertificateSignatureAlgorithm,
  curveOid: string | null,
): Buffer {
  switch (algorithm.keyAlgorithm) {
    case 'RSA':
      return sequence(objectIdentifier(RSA_OIDS[algorithm.hash!]!), nullValue());
    case 'EC':
      return sequence(objectIdentifier(ECDSA_OIDS[algorithm.hash!]!));
    case 'ED':
      return sequence(objectIdentifier(curveOid === ED448 ? ED448 : ED25519));
  }
}

/** What verifies a signature with an identifier found on a CSR: the key type and digest, or null when unsupported. */
export function verificationOf(oid: string): { keyAlgorithm: KeyAlgorithm; hash: string | null } | null {
  for (const [hash, known] of Object.entries(RSA_OIDS))
    if (known === oid) return { keyAlgorithm: 'RSA', hash };
  for (const [hash, known] of Object.entries(ECDSA_OIDS))
    if (known === oid) return { keyAlgorithm: 'EC', hash };
  if (oid === ED25519 || oid === ED448) return { keyAlgorithm: 'ED', hash: null };
  return null;
}
