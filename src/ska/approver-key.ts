/**
 * Parsing and classification of SKA approver keys (policy `public_key` values and the public key of
 * `certificate` values). Shared by policy validation now and by approval verification later, so that an
 * approver is always identified by the same {@link ApproverKeyInfo.fingerprint}.
 */
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  Asn1Error,
  children,
  contextTag,
  decode,
  expectTag,
  readObjectIdentifier,
  readTime,
  TAG,
} from '../crypto/der.js';
import { TsbError } from '../errors.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';

export type ApproverKeyType = 'RSA' | 'EC' | 'ED' | 'ML-DSA';

export interface ApproverKeyInfo {
  keyType: ApproverKeyType;
  /** 'RSA-2048', 'P-256', 'P-384', 'P-521', 'secp256k1', 'Ed25519', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'. */
  keyAlgorithm: string;
  /** Canonical SubjectPublicKeyInfo DER of the approver key. */
  spki: Buffer;
  /** Lower-case hex SHA-256 of {@link spki}: the approver's identity everywhere in OpenTSB. */
  fingerprint: string;
}

export interface ApproverCertificateInfo extends ApproverKeyInfo {
  /** ISO-8601 UTC; validity is checked when an approval is submitted, not when the policy is set. */
  notBefore: string;
  notAfter: string;
  subject: string;
  issuer: string;
  /** Lower-case hex SHA-256 of the certificate DER. */
  certificateFingerprint: string;
}

/** The two kinds of approver value a policy names by its bytes (`approvals[].type`). */
export type ApproverValueType = 'public_key' | 'certificate';

export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;
const RSA_MAX_PUBLIC_EXPONENT = 2n ** 256n;

const OID_RSA = '1.2.840.113549.1.1.1';
const OID_EC = '1.2.840.10045.2.1';
const OID_ED25519 = '1.3.101.112';
const ML_DSA: Record<string, { name: string; publicKeyBytes: number }> = {
  '2.16.840.1.101.3.4.3.17': { name: 'ML-DSA-44', publicKeyBytes: 1312 },
  '2.16.840.1.101.3.4.3.18': { name: 'ML-DSA-65', publicKeyBytes: 1952 },
  '2.16.840.1.101.3.4.3.19': { name: 'ML-DSA-87', publicKeyBytes: 2592 },
};
const KNOWN_UNSUPPORTED_OIDS: Record<string, string> = {
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.113': 'Ed448',
  '1.2.840.10046.2.1': 'DH',
};
const EC_CURVES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  secp256k1: 'secp256k1',
};

export const SUPPORTED_APPROVER_KEY_TYPES =
  'RSA (2048-8192 bits), EC P-256/P-384/P-521/secp256k1, Ed25519, ML-DSA-44/65/87';

/**
 * Strict standard base64 (RFC 4648 §4, padded, canonical). ASCII whitespace (line breaks of wrapped
 * base64) is ignored. Returns null when the text is not base64.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  const compact = text.replace(/[\t\n\r ]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact))
    return null;
  const bytes = Buffer.from(compact, 'base64');
  return bytes.toString('base64') === compact ? bytes : null;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Parses a SubjectPublicKeyInfo DER and checks it is a supported approver key type.
 * Throws TsbError PARSING_KEY (407) for malformed keys, UNSUPPORTED_APPROVER_KEY_TYPE (601) for
 * well-formed keys of another type or size. `where` prefixes messages (e.g. a JSON path).
 */
export function parseApproverPublicKey(der: Uint8Array, where = 'public key'): ApproverKeyInfo {
  // the same approver keys come again and again (policies, approvals): remember what parsed
  return parsedKeys.getOrSet(Buffer.from(der).toString('base64'), () => parseSpki(der, where));
}

const parsedKeys = new BoundedTtlCache<ApproverKeyInfo>(4096);

/** Whether parseApproverPublicKey / parseApproverCertificate would answer these bytes from memory. */
export function isApproverValueParsed(type: ApproverValueType, der: Uint8Array): boolean {
  return type === 'public_key'
    ? parsedKeys.get(Buffer.from(der).toString('base64')) !== undefined
    : parsedCertificates.get(sha256Hex(der)) !== undefined;
}

/**
 * Remembers what another thread parsed (approver-keys-pool.ts), so that the next parse of the same bytes
 * here is a lookup. `parsed` must be what parseApproverPublicKey or parseApproverCertificate returned for `der`.
 */
export function rememberApproverValue(
  type: ApproverValueType,
  der: Uint8Array,
  parsed: ApproverKeyInfo | ApproverCertificateInfo,
): void {
  if (type === 'public_key')
    parsedKeys.set(Buffer.from(der).toString('base64'), parsed, Number.POSITIVE_INFINITY);
  else if ('certificateFingerprint' in parsed)
    parsedCertificates.set(parsed.certificateFingerprint, parsed, Number.POSITIVE_INFINITY);
}

function parseSpki(der: Uint8Array, where: string): ApproverKeyInfo {
  let oid: string;
  let algParams: Uint8Array | null;
  let keyBits: Uint8Array;
  try {
    const parts = children(expectTag(decode(der), TAG.SEQUENCE, 'SEQUENCE'));
    const [algId, bits] = parts;
    if (parts.length !== 2 || !algId || !bits || algId.tag !== TAG.SEQUENCE || bits.tag !== TAG.BIT_STRING) {
      throw new Asn1Error('not a SubjectPublicKeyInfo');
    }
    const algParts = children(algId);
    if (algParts.length < 1 || algParts.length > 2) throw new Asn1Error('malformed AlgorithmIdentifier');
    oid = readObjectIdentifier(algParts[0]!);
    algParams = algParts[1]?.encoded ?? null;
    keyBits = bits.content;
  } catch (err) {
    if (err instanceof Asn1Error) {
      throw new TsbError('PARSING_KEY', `${where}: not a DER SubjectPublicKeyInfo (${err.message})`);
    }
    throw err;
  }

  const mlDsa = ML_DSA[oid];
  if (mlDsa) {
    if (algParams !== null) {
      throw new TsbError(
        'PARSING_KEY',
        `${where}: ${mlDsa.name} AlgorithmIdentifier must not have parameters`,
      );
    }
    if (keyBits.length !== mlDsa.publicKeyBytes + 1 || keyBits[0] !== 0) {
      throw new TsbError(
        'PARSING_KEY',
        `${where}: ${mlDsa.name} public key must be ${mlDsa.publicKeyBytes} bytes, got ${Math.max(keyBits.length - 1, 0)}`,
      );
    }
    const spki = Buffer.from(der);
    return { keyType: 'ML-DSA', keyAlgorithm: mlDsa.name, spki, fingerprint: sha256Hex(spki) };
  }

  if (oid !== OID_RSA && oid !== OID_EC && oid !== OID_ED25519) {
    const known = KNOWN_UNSUPPORTED_OIDS[oid];
    throw new TsbError(
      'UNSUPPORTED_APPROVER_KEY_TYPE',
      `${where}: approver key type ${known ?? `with algorithm OID ${oid}`} is not supported (supported: ${SUPPORTED_APPROVER_KEY_TYPES})`,
    );
  }

  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch (err) {
    throw new TsbError('PARSING_KEY', `${where}: public key could not be parsed (${(err as Error).message})`);
  }
  const identity = (spki: Buffer) => ({ spki, fingerprint: sha256Hex(spki) });
  const base = identity(key.export({ format: 'der', type: 'spki' }));
  const details = key.asymmetricKeyDetails ?? {};

  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        throw new TsbError(
          'UNSUPPORTED_APPROVER_KEY_TYPE',
          `${where}: RSA approver keys must have ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits, got ${bits}`,
        );
      }
      const e = details.publicExponent ?? 0n;
      // below 2^256 as FIPS 186-5 asks (real keys have 65537): OpenSSL bounds e only above 3,072 bits of modulus,
      // and a 3,000-bit e made each verification cost a hundred times more, for anyone listing tasks keylessly
      if (e < 3n || e % 2n === 0n || e >= RSA_MAX_PUBLIC_EXPONENT) {
        throw new TsbError(
          'PARSING_KEY',
          `${where}: invalid RSA public exponent (it must be odd, at least 3 and below 2^256)`,
        );
      }
      return { keyType: 'RSA', keyAlgorithm: `RSA-${bits}`, ...base };
    }
    case 'ec': {
      const curve = EC_CURVES[details.namedCurve ?? ''];
      if (!curve) {
        throw new TsbError(
          'UNSUPPORTED_APPROVER_KEY_TYPE',
          `${where}: EC curve ${details.namedCurve ?? '(explicit parameters)'} is not supported for approvers (supported: P-256, P-384, P-521, secp256k1)`,
        );
      }
      // 0x04: the point is uncompressed already (keyBits[0] is the BIT STRING's unused-bits count)
      const spki = keyBits[1] === 0x04 ? base.spki : uncompressedSpki(key);
      return { keyType: 'EC', keyAlgorithm: curve, ...identity(spki) };
    }
    case 'ed25519':
      assertFullOrderEd25519(keyBits.subarray(1), where);
      return { keyType: 'ED', keyAlgorithm: 'Ed25519', ...base };
    default:
      throw new TsbError(
        'UNSUPPORTED_APPROVER_KEY_TYPE',
        `${where}: approver key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (supported: ${SUPPORTED_APPROVER_KEY_TYPES})`,
      );
  }
}

/**
 * Node exports an EC key in the point encoding it was given (uncompressed, compressed or hybrid); through
 * its JWK the point comes out uncompressed, so that one key is one approver whatever encoding names it.
 */
function uncompressedSpki(key: KeyObject): Buffer {
  return createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' }).export({
    format: 'der',
    type: 'spki',
  });
}

/**
 * A small-order Ed25519 key (the identity and the other torsion points) has signatures that verify for many
 * messages without any private key, in verifiers that accept them; such a key approves for no one.
 */
function assertFullOrderEd25519(raw: Uint8Array, where: string): void {
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(raw).isSmallOrder();
  } catch {
    throw new TsbError('PARSING_KEY', `${where}: not a valid Ed25519 public key`);
  }
  if (smallOrder) {
    throw new TsbError('PARSING_KEY', `${where}: a small-order Ed25519 key cannot identify an approver`);
  }
}

/**
 * Parses an X.509 certificate DER and its public key. Throws PARSING_CERTIFICATE (409) when the bytes
 * are not a certificate, INVALID_CERTIFICATE (402) when the certificate's public key is malformed and
 * UNSUPPORTED_APPROVER_KEY_TYPE (601) for unsupported key types. The validity period is only recorded.
 */
export function parseApproverCertificate(der: Uint8Array, where = 'certificate'): ApproverCertificateInfo {
  // keyed by the certificate's hash: a certificate may be 16 KiB of base64
  const certificateFingerprint = sha256Hex(der);
  const cached = parsedCertificates.get(certificateFingerprint);
  if (cached) return cached;
  const parsed = parseCertificate(der, certificateFingerprint, where);
  parsedCertificates.set(certificateFingerprint, parsed, Number.POSITIVE_INFINITY);
  return parsed;
}

const parsedCertificates = new BoundedTtlCache<ApproverCertificateInfo>(4096);

function parseCertificate(
  der: Uint8Array,
  certificateFingerprint: string,
  where: string,
): ApproverCertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(Buffer.from(der));
  } catch (err) {
    throw new TsbError(
      'PARSING_CERTIFICATE',
      `${where}: not a DER X.509 certificate (${(err as Error).message})`,
    );
  }
  let spki: Uint8Array;
  let notBefore: Date;
  let notAfter: Date;
  try {
    const tbs = children(expectTag(decode(der), TAG.SEQUENCE, 'SEQUENCE'))[0];
    if (!tbs || tbs.tag !== TAG.SEQUENCE) throw new Asn1Error('missing TBSCertificate');
    const fields = children(tbs);
    // version [0] EXPLICIT is absent in v1 certificates (sample 01 is one)
    const rest = fields[0]?.tag === contextTag(0, true) ? fields.slice(1) : fields;
    const [, , , validity, , spkiEl] = rest; // serialNumber, signature, issuer, validity, subject, spki
    if (!validity || validity.tag !== TAG.SEQUENCE || !spkiEl || spkiEl.tag !== TAG.SEQUENCE) {
      throw new Asn1Error('malformed TBSCertificate');
    }
    const times = children(validity);
    if (times.length !== 2) throw new Asn1Error('malformed Validity');
    notBefore = readTime(times[0]!);
    notAfter = readTime(times[1]!);
    spki = spkiEl.encoded;
  } catch (err) {
    if (err instanceof Asn1Error) {
      throw new TsbError('PARSING_CERTIFICATE', `${where}: malformed X.509 certificate (${err.message})`);
    }
    throw err;
  }
  let key: ApproverKeyInfo;
  try {
    key = parseApproverPublicKey(spki, `${where} public key`);
  } catch (err) {
    if (err instanceof TsbError && err.kind === 'PARSING_KEY') {
      throw new TsbError('INVALID_CERTIFICATE', err.message);
    }
    throw err;
  }
  return {
    ...key,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    subject: x509.subject,
    issuer: x509.issuer,
    certificateFingerprint,
  };
}
