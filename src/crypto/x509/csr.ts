/**
 * PKCS#10 certification requests (RFC 2986): building one for a stored key, and reading and verifying
 * one a CA key is asked to sign. Any structural problem → 628 res.error.csr.invalid.format; a request
 * whose own signature does not verify → 411 res.error.invalid.certificate.request.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { TsbError } from '../../errors.js';
import {
  type Asn1Node,
  bitString,
  children,
  contextTag,
  decode,
  expectTag,
  integer,
  objectIdentifier,
  readBitString,
  readInteger,
  readObjectIdentifier,
  sequence,
  TAG,
  tlv,
} from '../der.js';
import { verificationOf } from './certificate-signature-algorithms.js';
import { SUBJECT_ALT_NAME_OID } from './extensions.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const PEM =
  /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** CertificationRequestInfo: version 0, subject, key, and the extensionRequest attribute. */
export function certificationRequestInfo(subject: Buffer, spki: Buffer, extensions: Buffer[]): Buffer {
  const extensionRequest = sequence(
    objectIdentifier(EXTENSION_REQUEST),
    tlv(TAG.SET, sequence(...extensions)),
  );
  return sequence(integer(0), subject, spki, tlv(contextTag(0, true), extensionRequest));
}

/** The signed request: info, signature algorithm, signature. */
export const certificationRequest = (info: Buffer, algorithm: Buffer, signature: Buffer): Buffer =>
  sequence(info, algorithm, bitString(signature));

/** PEM armour as the TSB answers it (sample 29: NEW CERTIFICATE REQUEST). */
export function csrPem(der: Buffer): string {
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN NEW CERTIFICATE REQUEST-----\n${body}-----END NEW CERTIFICATE REQUEST-----\n`;
}

export interface VerifiedCsr {
  /** the subject Name, DER as in the request */
  subject: Buffer;
  /** the SubjectPublicKeyInfo, DER as in the request */
  spki: Buffer;
  /** the requested subjectAltName Extension (DER, verbatim), if any */
  subjectAltName: Buffer | null;
}

const malformed = (message: string) =>
  new TsbError('CSR_INVALID_FORMAT', `certificateSigningRequest: ${message}`);

function csrBytes(text: string): Buffer {
  if (typeof text !== 'string' || text.trim() === '') throw malformed('is empty');
  const armoured = PEM.exec(text);
  if (text.includes('-----BEGIN') && !armoured) {
    throw malformed('PEM armour must be BEGIN/END CERTIFICATE REQUEST');
  }
  const compact = (armoured ? armoured[1]! : text).replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 !== 0) throw malformed('is neither PEM nor base64 DER');
  return Buffer.from(compact, 'base64');
}

/** Reads a PEM (or base64 DER) CSR and verifies its signature with the key it carries. */
export function verifyCsr(text: string): VerifiedCsr {
  const der = csrBytes(text);
  let parts: {
    info: Asn1Node;
    algorithm: string;
    signature: Buffer;
    subject: Asn1Node;
    spki: Asn1Node;
    attributes: Asn1Node | undefined;
  };
  try {
    const [info, algorithm, signature, ...extra] = children(
      expectTag(decode(der), TAG.SEQUENCE, 'CertificationRequest'),
    );
    if (extra.length > 0 || !signature) throw malformed('is not a CertificationRequest');
    const fields = children(expectTag(info, TAG.SEQUENCE, 'CertificationRequestInfo'));
    if (readInteger(expectTag(fields[0], TAG.INTEGER, 'version')) !== 0n)
      throw malformed('version must be 0 (v1)');
    parts = {
      info: info!,
      algorithm: readObjectIdentifier(children(expectTag(algorithm, TAG.SEQUENCE, 'signatureAlgorithm'))[0]!),
      signature: readBitString(signature),
      subject: expectTag(fields[1], TAG.SEQUENCE, 'subject'),
      spki: expectTag(fields[2], TAG.SEQUENCE, 'subjectPKInfo'),
      attributes: fields[3],
    };
  } catch (error) {
    if (error instanceof TsbError) throw error;
    throw malformed(`is not valid DER (${(error as Error).message})`);
  }
  const verification = verificationOf(parts.algorithm);
  if (!verification) throw malformed(`signature algorithm ${parts.algorithm} is not supported`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(parts.spki.encoded), format: 'der', type: 'spki' });
  } catch {
    throw malformed('its public key cannot be read');
  }
  const keyType = { RSA: 'rsa', EC: 'ec', ED: key.asymmetricKeyType === 'ed448' ? 'ed448' : 'ed25519' }[
    verification.keyAlgorithm as 'RSA' | 'EC' | 'ED'
  ];
  if (key.asymmetricKeyType !== keyType) {
    throw malformed(
      `its ${key.asymmetricKeyType} key does not fit its signature algorithm ${parts.algorithm}`,
    );
  }
  let valid = false;
  try {
    valid = verify(verification.hash, parts.info.encoded, key, parts.signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new TsbError(
      'INVALID_CERTIFICATE_REQUEST',
      'certificateSigningRequest: its signature does not verify with its own public key',
    );
  }
  return {
    subject: Buffer.from(parts.subject.encoded),
    spki: Buffer.from(parts.spki.encoded),
    subjectAltName: requestedSubjectAltName(parts.attributes),
  };
}

/** The subjectAltName extension among the requested extensions (the extensionRequest attribute). */
function requestedSubjectAltName(attributes: Asn1Node | undefined): Buffer | null {
  if (!attributes) return null;
  try {
    if (attributes.tag !== contextTag(0, true)) throw malformed('attributes must be [0] IMPLICIT SET');
    for (const attribute of children(attributes)) {
      const [type, values] = children(expectTag(attribute, TAG.SEQUENCE, 'Attribute'));
      if (readObjectIdentifier(type!) !== EXTENSION_REQUEST) continue;
      const [extensions] = children(expectTag(values, TAG.SET, 'extensionRequest values'));
      for (const extension of children(expectTag(extensions, TAG.SEQUENCE, 'Extensions'))) {
        const [oid] = children(expectTag(extension, TAG.SEQUENCE, 'Extension'));
        if (readObjectIdentifier(oid!) === SUBJECT_ALT_NAME_OID) return Buffer.from(extension.encoded);
      }
    }
    return null;
  } catch (error) {
    if (error instanceof TsbError) throw error;
    throw malformed(`its attributes are not valid DER (${(error as Error).message})`);
  }
}
