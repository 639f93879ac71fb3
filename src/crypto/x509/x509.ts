import { createHash, createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import {
  Asn1Error,
  bitString,
  children,
  contextTag,
  decode,
  expectTag,
  explicit,
  implicitPrimitive,
  integer,
  objectIdentifier,
  octetString,
  sequence,
  TAG,
  tlv,
} from '../der.js';
import { certificateSpki, decodeSpki } from '../spki-pkcs8.js';

/**
 * A small X.509 v3 certificate builder (RFC 5280) for the service's own chain: root → device →
 * per-partition attestation and timestamp certificates. EC P-256 keys, ecdsa-with-SHA256 signatures.
 */

const signAsync = promisify(sign);

export const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  serialNumber: '2.5.4.5',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

/** keyUsage bits (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE;

export interface NameAttribute {
  /** OID of the attribute type, e.g. {@link OID.commonName} */
  type: string;
  value: string;
}

export interface CertificateProfile {
  /** subject distinguished name, most significant first (e.g. O, OU, CN) */
  subject: NameAttribute[];
  /** SubjectPublicKeyInfo (DER) of the subject key */
  subjectPublicKey: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** CA certificate: basicConstraints cA TRUE (with pathLenConstraint when given) */
  ca?: { pathLength?: number };
  keyUsage: KeyUsageName[];
  /** extendedKeyUsage OIDs, marked critical (RFC 3161 requires it for a time-stamping certificate) */
  extendedKeyUsage?: string[];
  /** serial number bytes (default: 16 random bytes, positive) */
  serialNumber?: Buffer;
}

export interface Issuer {
  /** the issuer's subject Name, DER (for a self-signed certificate: the subject's own) */
  name: Buffer;
  /** the issuer's subject key identifier */
  keyIdentifier: Buffer;
  privateKey: KeyObject;
}

/** A DER Name from attributes (UTF8String values; PrintableString for serialNumber, as RFC 5280 asks). */
export function encodeName(attributes: NameAttribute[]): Buffer {
  return sequence(
    ...attributes.map(({ type, value }) =>
      tlv(
        TAG.SET,
        sequence(
          objectIdentifier(type),
          tlv(type === OID.serialNumber ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, Buffer.from(value, 'utf8')),
        ),
      ),
    ),
  );
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5); whole seconds, Z. */
export function encodeTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = date.getUTCFullYear();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
}

/** Key identifier: SHA-1 of the subjectPublicKey BIT STRING content (RFC 5280 §4.2.1.2, method 1). */
export function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(decodeSpki(spki).publicKey).digest();
}

/** A positive serial number of `length` random bytes (first byte never zero, top bit clear). */
export function randomSerial(length = 16): Buffer {
  const serial = randomBytes(length);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}

function keyUsageBits(names: KeyUsageName[]): Buffer {
  let bits = 0;
  for (const name of names) bits |= 0x80 >> KEY_USAGE[name];
  if (bits === 0) throw new Asn1Error('keyUsage needs at least one bit');
  // DER named bit list: trailing zero bits are not encoded
  let unused = 0;
  while (((bits >> unused) & 1) === 0) unused++;
  return bitString(Buffer.of(bits), unused);
}

/** One Extension (RFC 5280 §4.1): its OID, the critical flag when set, and the DER value in an OCTET STRING. */
export function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(objectIdentifier(oid), tlv(TAG.BOOLEAN, Buffer.of(0xff)), octetString(value))
    : sequence(objectIdentifier(oid), octetString(value));
}

const ECDSA_WITH_SHA256 = sequence(objectIdentifier(OID.ecdsaWithSha256));

/** Builds and signs a certificate. For a self-signed one pass the subject's own name, key id and key. */
export async function issueCertificate(profile: CertificateProfile, issuer: Issuer): Promise<Buffer> {
  const subjectKeyId = keyIdentifier(profile.subjectPublicKey);
  const basicConstraints = profile.ca
    ? sequence(
        tlv(TAG.BOOLEAN, Buffer.of(0xff)),
        ...(profile.ca.pathLength === undefined ? [] : [integer(profile.ca.pathLength)]),
      )
    : sequence();
  const extensions = [
    extension(OID.basicConstraints, true, basicConstraints),
    extension(OID.keyUsage, true, keyUsageBits(profile.keyUsage)),
    ...(profile.extendedKeyUsage?.length
      ? [extension(OID.extendedKeyUsage, true, sequence(...profile.extendedKeyUsage.map(objectIdentifier)))]
      : []),
    extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, issuer.keyIdentifier))),
  ];
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(profile.serialNumber ?? randomSerial()),
    ECDSA_WITH_SHA256,
    issuer.name,
    sequence(encodeTime(profile.notBefore), encodeTime(profile.notAfter)),
    encodeName(profile.subject),
    profile.subjectPublicKey,
    explicit(3, sequence(...extensions)),
  );
  const signature = await signAsync('sha256', tbs, issuer.privateKey);
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
}

/** The parts of an issued certificate needed to issue under it or to name it (subject, serial, key id). */
export interface CertificateFacts {
  subject: Buffer;
  issuer: Buffer;
  serialNumber: Buffer;
  spki: Buffer;
  keyIdentifier: Buffer;
}

export function certificateFacts(der: Uint8Array): CertificateFacts {
  const certificate = children(expectTag(decode(der), TAG.SEQUENCE, 'Certificate'));
  const tbs = children(expectTag(certificate[0], TAG.SEQUENCE, 'TBSCertificate'));
  const offset = tbs[0]?.tag === contextTag(0, true) ? 1 : 0;
  const serial = expectTag(tbs[offset], TAG.INTEGER, 'serialNumber');
  const issuer = expectTag(tbs[offset + 2], TAG.SEQUENCE, 'issuer');
  const subject = expectTag(tbs[offset + 4], TAG.SEQUENCE, 'subject');
  const spki = certificateSpki(der);
  return {
    subject: Buffer.from(subject.encoded),
    issuer: Buffer.from(issuer.encoded),
    serialNumber: Buffer.from(serial.content),
    spki: Buffer.from(spki),
    keyIdentifier: keyIdentifier(Buffer.from(spki)),
  };
}

/** PEM armour of a DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** PEM SubjectPublicKeyInfo of a DER SPKI. */
export function publicKeyPem(spki: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}
