/**
 * X.509 v3 certificates of stored keys (RFC 5280): the TBSCertificate for any signature algorithm,
 * the signed certificate, and what an issuing CA key's own certificate contributes (its subject and
 * key identifier).
 */
import { X509Certificate } from 'node:crypto';
import { TsbError } from '../../errors.js';
import {
  bitString,
  children,
  contextTag,
  decode,
  expectTag,
  explicit,
  integer,
  readObjectIdentifier,
  readOctetString,
  sequence,
  TAG,
} from '../der.js';
import { certificateFacts, encodeTime, keyIdentifier, OID } from './x509.js';

export interface TbsFields {
  serialNumber: Buffer;
  /** the DER AlgorithmIdentifier of the issuer's signature */
  signatureAlgorithm: Buffer;
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subject: Buffer;
  subjectPublicKey: Buffer;
  extensions: Buffer[];
}

export function tbsCertificate(fields: TbsFields): Buffer {
  return sequence(
    explicit(0, integer(2)),
    integer(fields.serialNumber),
    fields.signatureAlgorithm,
    fields.issuer,
    sequence(encodeTime(fields.notBefore), encodeTime(fields.notAfter)),
    fields.subject,
    fields.subjectPublicKey,
    explicit(3, sequence(...fields.extensions)),
  );
}

export const signedCertificate = (tbs: Buffer, algorithm: Buffer, signature: Buffer): Buffer =>
  sequence(tbs, algorithm, bitString(signature));

/** What a CA key's certificate gives the certificates it issues. */
export interface IssuerFacts {
  /** its subject Name: the issuer of what it signs */
  name: Buffer;
  /** its subjectKeyIdentifier (or, without one, the RFC 5280 method-1 identifier of its key) */
  keyIdentifier: Buffer;
}

/**
 * The issuer facts of the certificate a CA key holds: it must be a CA certificate (basicConstraints cA),
 * or what the key signs would not chain to it.
 */
export function issuerFacts(label: string, certificate: Uint8Array | null): IssuerFacts {
  if (!certificate) {
    throw new TsbError(
      'INVALID_CERTIFICATE',
      `key "${label}" holds no certificate to issue under: self-sign it first (POST /v1/certificate/synchronous/selfsign with certificateAuthority true) or import its CA certificate`,
    );
  }
  const der = Buffer.from(certificate);
  let facts: IssuerFacts & { ca: boolean };
  try {
    const parsed = certificateFacts(der);
    facts = {
      ca: new X509Certificate(der).ca,
      name: parsed.subject,
      keyIdentifier: subjectKeyIdentifierOf(der) ?? keyIdentifier(parsed.spki),
    };
  } catch (error) {
    throw new TsbError(
      'INVALID_CERTIFICATE',
      `the certificate of key "${label}" cannot be read as DER X.509 (${(error as Error).message})`,
    );
  }
  if (!facts.ca) {
    throw new TsbError(
      'INVALID_CERTIFICATE',
      `the certificate of key "${label}" is not a CA certificate (basicConstraints cA); self-sign it with certificateAuthority true or import a CA certificate`,
    );
  }
  return { name: facts.name, keyIdentifier: facts.keyIdentifier };
}

/** The subjectKeyIdentifier extension's value, or null when the certificate has none. */
function subjectKeyIdentifierOf(der: Buffer): Buffer | null {
  const tbs = children(expectTag(children(decode(der))[0], TAG.SEQUENCE, 'TBSCertificate'));
  const wrapped = tbs.find((field) => field.tag === contextTag(3, true));
  if (!wrapped) return null;
  const [extensions] = children(wrapped);
  for (const extension of children(expectTag(extensions, TAG.SEQUENCE, 'Extensions'))) {
    const parts = children(expectTag(extension, TAG.SEQUENCE, 'Extension'));
    if (readObjectIdentifier(parts[0]!) !== OID.subjectKeyIdentifier) continue;
    return Buffer.from(readOctetString(decode(readOctetString(parts[parts.length - 1]!))));
  }
  return null;
}
