/**
 * The TSB certificate requests (reference §2.6) checked against the key that signs them, without
 * touching private material: the result says exactly what will be built and signed. The workflow runs
 * the same checks before it stores an SKA request.
 */

import { Asn1Error } from '../../crypto/der.js';
import { type IssuerFacts, issuerFacts } from '../../crypto/x509/certificate.js';
import {
  type CertificateSignatureAlgorithm,
  certificateSignatureAlgorithm,
  signatureAlgorithmIdentifier,
} from '../../crypto/x509/certificate-signature-algorithms.js';
import { verifyCsr } from '../../crypto/x509/csr.js';
import {
  caKeyUsage,
  EXTENDED_KEY_USAGE_OIDS,
  type ExtendedKeyUsageName,
  KEY_USAGE_BITS,
  type KeyUsageName,
  parseUsages,
} from '../../crypto/x509/extensions.js';
import {
  type StandardCertificateAttributes,
  subjectName,
  withCommonName,
} from '../../crypto/x509/subject.js';
import { TsbError } from '../../errors.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import { canonicalJson } from '../../lib/canonical-json.js';

interface SigningFields {
  signKeyName: string;
  keyPassword?: PasswordInput;
  signatureAlgorithm: string;
  keyUsage?: string[] | null;
  extendedKeyUsage?: string[] | null;
}

/** `POST /v1/certificate/synchronous/request` (CsrRequest). */
export interface CsrInput extends SigningFields {
  /** days of the key's self-signed certificate; absent: DEFAULT_VALIDITY_DAYS */
  validity?: number | null;
  standardCertificateAttributes: StandardCertificateAttributes;
}

/** `POST /v1/certificate/synchronous/selfsign`. */
export interface SelfSignInput extends SigningFields {
  /** absent: DEFAULT_VALIDITY_DAYS */
  validity?: number | null;
  /** the CN; absent: `standardCertificateAttributes.commonName` */
  commonName?: string | null;
  certificateAuthority?: boolean | null;
  standardCertificateAttributes?: StandardCertificateAttributes | null;
}

/** `POST /v1/certificate/synchronous/sign`: a CA key signs a CSR. */
export interface SignCertificateInput extends SigningFields {
  certificateSigningRequest: string;
  commonName?: string | null;
  certificateAuthority?: boolean | null;
  validity?: number | null;
  standardCertificateAttributes?: StandardCertificateAttributes | null;
}

/** The key facts a plan needs (a stored key row has them). */
export interface SigningKey {
  label: string;
  algorithm: string;
  curveOid: string | null;
  publicKey: Uint8Array | null;
  certificate: Uint8Array | null;
}

export interface CertificatePlan {
  subject: Buffer;
  subjectPublicKey: Buffer;
  validityDays: number;
  ca: boolean;
  keyUsage: KeyUsageName[];
  extendedKeyUsage: ExtendedKeyUsageName[];
  /** null: self-signed (issuer = subject, authority key = own key) */
  issuer: IssuerFacts | null;
  subjectAltName: Buffer | null;
  algorithm: CertificateSignatureAlgorithm;
  algorithmIdentifier: Buffer;
}

export const MAX_VALIDITY_DAYS = 36_525;
/**
 * Validity (days) when a request names none: the Fireblocks agent and the Keycloak provider send CSR
 * requests without one; 365 is what the Securosys clients use as their own default.
 */
export const DEFAULT_VALIDITY_DAYS = 365;

/**
 * The bytes approvers approve for a certificate request: the canonical JSON (keys sorted, no whitespace)
 * of the request without its key password; their SHA-256 is the challenge's payload digest.
 */
export function certificateApprovalPayload(input: object): Buffer {
  const { keyPassword: _password, ...approved } = input as Record<string, unknown>;
  return Buffer.from(canonicalJson(approved), 'utf8');
}

export function planCsr(key: SigningKey, input: CsrInput): CertificatePlan {
  const usage = usagesOf(input);
  return {
    ...signing(key, input),
    subject: subjectName(input.standardCertificateAttributes),
    validityDays: validityDays(input.validity ?? DEFAULT_VALIDITY_DAYS),
    // the key's self-signed certificate is a CA certificate exactly when the CSR asks for keyCertSign
    ca: usage.keyUsage.includes('KEY_CERT_SIGN'),
    ...usage,
    issuer: null,
    subjectAltName: null,
  };
}

export function planSelfSign(key: SigningKey, input: SelfSignInput): CertificatePlan {
  const ca = flag(input.certificateAuthority, 'certificateAuthority');
  const usage = usagesOf(input);
  return {
    ...signing(key, input),
    subject: subjectName(input.standardCertificateAttributes, optionalText(input.commonName, 'commonName')),
    validityDays: validityDays(input.validity ?? DEFAULT_VALIDITY_DAYS),
    ca,
    keyUsage: caKeyUsage(ca, usage.keyUsage),
    extendedKeyUsage: usage.extendedKeyUsage,
    issuer: null,
    subjectAltName: null,
  };
}

export function planSignCertificate(key: SigningKey, input: SignCertificateInput): CertificatePlan {
  const signingPart = signing(key, input);
  const ca = flag(input.certificateAuthority, 'certificateAuthority');
  const usage = usagesOf(input);
  const validity = validityDays(input.validity ?? DEFAULT_VALIDITY_DAYS);
  const csr = verifyCsr(input.certificateSigningRequest);
  const commonName = optionalText(input.commonName, 'commonName');
  const attributes = input.standardCertificateAttributes;
  const named = attributes && namesAnything(attributes) ? subjectName(attributes, commonName) : null;
  const keyUsage = caKeyUsage(ca, usage.keyUsage);
  const issuer = issuerFacts(key.label, key.certificate);
  return {
    ...signingPart,
    // attributes naming the issuing CA itself leave the CSR's subject: a certificate for another key does
    // not take its issuer's name (the Fireblocks agent sends the CA key's label as their commonName)
    subject: named && !named.equals(issuer.name) ? named : csrSubject(csr.subject, commonName),
    subjectPublicKey: csr.spki,
    validityDays: validity,
    ca,
    keyUsage,
    extendedKeyUsage: usage.extendedKeyUsage,
    issuer,
    subjectAltName: csr.subjectAltName,
  };
}

/** Whether standardCertificateAttributes name any value (attributes naming none leave the CSR's subject). */
function namesAnything(attributes: StandardCertificateAttributes): boolean {
  return (
    typeof attributes !== 'object' ||
    Object.values(attributes).some((value) => value !== null && value !== undefined && value !== '')
  );
}

/** The CSR's subject, its CN set to `commonName` when one is given. */
function csrSubject(subject: Buffer, commonName: string | null): Buffer {
  return commonName ? csrSubjectWith(subject, commonName) : subject;
}

function csrSubjectWith(subject: Buffer, commonName: string): Buffer {
  try {
    return withCommonName(subject, commonName);
  } catch (error) {
    if (!(error instanceof Asn1Error)) throw error;
    throw new TsbError(
      'CSR_INVALID_FORMAT',
      `certificateSigningRequest: its subject is malformed (${error.message})`,
    );
  }
}

/** The key pair and signature algorithm: RSA, EC and ED keys with a public key only. */
function signing(
  key: SigningKey,
  input: SigningFields,
): Pick<CertificatePlan, 'algorithm' | 'algorithmIdentifier' | 'subjectPublicKey'> {
  if (!['RSA', 'EC', 'ED'].includes(key.algorithm) || !key.publicKey) {
    throw new TsbError(
      'INVALID_KEY_TYPE',
      `key "${key.label}" is a ${key.algorithm} key; certificates need an RSA, EC or ED key pair`,
    );
  }
  const algorithm = certificateSignatureAlgorithm(key.algorithm, key.curveOid, input.signatureAlgorithm);
  return {
    algorithm,
    algorithmIdentifier: signatureAlgorithmIdentifier(algorithm, key.curveOid),
    subjectPublicKey: Buffer.from(key.publicKey),
  };
}

function usagesOf(input: SigningFields) {
  return {
    keyUsage: parseUsages<KeyUsageName>(input.keyUsage, KEY_USAGE_BITS, 'keyUsage'),
    extendedKeyUsage: parseUsages<ExtendedKeyUsageName>(
      input.extendedKeyUsage,
      EXTENDED_KEY_USAGE_OIDS,
      'extendedKeyUsage',
    ),
  };
}

function validityDays(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VALIDITY_DAYS) {
    throw new TsbError(
      'INVALID_NUMBER_RANGE',
      `validity must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS}`,
    );
  }
  return value;
}

function flag(value: unknown, field: string): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== 'boolean')
    throw new TsbError('INPUT_VALIDATION_FAILED', `${field} must be true or false`);
  return value;
}

function optionalText(value: unknown, field: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new TsbError('INPUT_VALIDATION_FAILED', `${field} must be a string`);
  return value;
}
