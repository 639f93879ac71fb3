/**
 * The key containers built on the DER codec (der.ts): SubjectPublicKeyInfo (RFC 5280), PKCS#8 /
 * OneAsymmetricKey (RFC 5958), and the SubjectPublicKeyInfo inside an X.509 certificate.
 */
import {
  Asn1Error,
  type Asn1Node,
  bitString,
  children,
  contextTag,
  decode,
  expectTag,
  implicitPrimitive,
  integer,
  objectIdentifier,
  octetString,
  readBitString,
  readInteger,
  readObjectIdentifier,
  readOctetString,
  sequence,
  TAG,
} from './der.js';

export interface AlgorithmIdentifier {
  oid: string;
  /** the encoded parameters element, or null when absent */
  parameters: Buffer | null;
}

export function algorithmIdentifier(oid: string, parameters: Uint8Array | null = null): Buffer {
  return parameters ? sequence(objectIdentifier(oid), parameters) : sequence(objectIdentifier(oid));
}

function readAlgorithmIdentifier(node: Asn1Node | undefined): AlgorithmIdentifier {
  const parts = children(expectTag(node, TAG.SEQUENCE, 'AlgorithmIdentifier'));
  if (parts.length < 1 || parts.length > 2) throw new Asn1Error('malformed AlgorithmIdentifier');
  return { oid: readObjectIdentifier(parts[0]!), parameters: parts[1]?.encoded ?? null };
}

export interface SubjectPublicKeyInfo {
  algorithm: AlgorithmIdentifier;
  publicKey: Buffer;
}

export const encodeSpki = (algorithm: Buffer, publicKey: Uint8Array): Buffer =>
  sequence(algorithm, bitString(publicKey));

export function decodeSpki(der: Uint8Array): SubjectPublicKeyInfo {
  const parts = children(expectTag(decode(der), TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
  if (parts.length !== 2) throw new Asn1Error('malformed SubjectPublicKeyInfo');
  return { algorithm: readAlgorithmIdentifier(parts[0]), publicKey: readBitString(parts[1]!) };
}

export interface PrivateKeyInfo {
  /** 0 = PKCS#8 v1, 1 = OneAsymmetricKey v2 (may carry the public key) */
  version: number;
  algorithm: AlgorithmIdentifier;
  /** the content of the privateKey OCTET STRING */
  privateKey: Buffer;
  /** the `[1] IMPLICIT BIT STRING` public key of a v2 structure */
  publicKey: Buffer | null;
}

/** PKCS#8 v1 PrivateKeyInfo; with a public key, a v2 OneAsymmetricKey. */
export function encodePkcs8(algorithm: Buffer, privateKey: Uint8Array, publicKey?: Uint8Array): Buffer {
  const parts = [integer(publicKey ? 1 : 0), algorithm, octetString(privateKey)];
  if (publicKey) parts.push(implicitPrimitive(1, Buffer.concat([Buffer.of(0), publicKey])));
  return sequence(...parts);
}

export function decodePkcs8(der: Uint8Array): PrivateKeyInfo {
  const parts = children(expectTag(decode(der), TAG.SEQUENCE, 'PrivateKeyInfo'));
  if (parts.length < 3) throw new Asn1Error('malformed PrivateKeyInfo');
  const version = readInteger(parts[0]!);
  if (version !== 0n && version !== 1n) throw new Asn1Error(`unsupported PrivateKeyInfo version ${version}`);
  const algorithm = readAlgorithmIdentifier(parts[1]);
  const privateKey = readOctetString(parts[2]!);
  let publicKey: Buffer | null = null;
  let previous = -1;
  for (const extra of parts.slice(3)) {
    // [0] IMPLICIT attributes (constructed SET), [1] IMPLICIT publicKey BIT STRING (v2 only)
    if (extra.tagClass !== 2 || extra.tagNumber <= previous || extra.tagNumber > 1) {
      throw new Asn1Error('malformed PrivateKeyInfo');
    }
    previous = extra.tagNumber;
    if (extra.tagNumber === 1) {
      if (version !== 1n || extra.constructed) throw new Asn1Error('malformed OneAsymmetricKey public key');
      if (extra.content.length === 0 || extra.content[0] !== 0) {
        throw new Asn1Error('malformed OneAsymmetricKey public key');
      }
      publicKey = extra.content.subarray(1);
    } else if (!extra.constructed) {
      throw new Asn1Error('malformed PrivateKeyInfo attributes');
    }
  }
  return { version: Number(version), algorithm, privateKey, publicKey };
}

/** The exact SubjectPublicKeyInfo bytes inside an X.509 certificate (structure only; no checks of its signature). */
export function certificateSpki(der: Uint8Array): Buffer {
  const certificate = children(expectTag(decode(der), TAG.SEQUENCE, 'Certificate'));
  if (certificate.length !== 3) throw new Asn1Error('malformed Certificate');
  const tbs = children(expectTag(certificate[0], TAG.SEQUENCE, 'TBSCertificate'));
  // [0] EXPLICIT version is optional (absent for v1)
  const offset = tbs[0]?.tag === contextTag(0, true) ? 1 : 0;
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const spki = expectTag(tbs[offset + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  decodeSpki(spki.encoded);
  return spki.encoded;
}
