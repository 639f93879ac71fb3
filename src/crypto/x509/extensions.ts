/**
 * The X.509 extensions of key certificates and CSRs (RFC 5280 §4.2) from the TSB `keyUsage` and
 * `extendedKeyUsage` enums (reference §2.6).
 */
import { TsbError } from '../../errors.js';
import { bitString, implicitPrimitive, objectIdentifier, octetString, sequence, TAG, tlv } from '../der.js';
import { extension, keyIdentifier, OID } from './x509.js';

/** keyUsage bit of each TSB name (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS = {
  DIGITAL_SIGNATURE: 0,
  CONTENT_COMMITMENT: 1,
  KEY_ENCIPHERMENT: 2,
  DATA_ENCIPHERMENT: 3,
  KEY_AGREEMENT: 4,
  KEY_CERT_SIGN: 5,
  CRL_SIGN: 6,
  ENCIPHER_ONLY: 7,
  DECIPHER_ONLY: 8,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

/** KeyPurposeId of each TSB name (RFC 5280 §4.2.1.12). */
export const EXTENDED_KEY_USAGE_OIDS = {
  ANY_EXTENDED_KEY_USAGE: '2.5.29.37.0',
  SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
  CODE_SIGNING: '1.3.6.1.5.5.7.3.3',
  EMAIL_PROTECTION: '1.3.6.1.5.5.7.3.4',
  TIME_STAMPING: '1.3.6.1.5.5.7.3.8',
  OCSP_SIGNING: '1.3.6.1.5.5.7.3.9',
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGE_OIDS;

export const SUBJECT_ALT_NAME_OID = '2.5.29.17';

/**
 * The names of a `keyUsage` / `extendedKeyUsage` list: trimmed, upper-cased, duplicates dropped. An entry
 * holding several comma-separated names (as the Go client sends them) counts as those names. Unknown
 * names → 501 INVALID_VALUE_FOR_ENUM.
 */
export function parseUsages<Name extends string>(
  values: readonly unknown[] | null | undefined,
  known: Readonly<Record<Name, unknown>>,
  field: string,
): Name[] {
  if (values === null || values === undefined) return [];
  if (!Array.isArray(values)) throw new TsbError('INPUT_VALIDATION_FAILED', `${field} must be an array`);
  const names = new Set<Name>();
  for (const value of values) {
    if (typeof value !== 'string')
      throw new TsbError('INPUT_VALIDATION_FAILED', `${field} holds a non-string`);
    for (const part of value.split(',')) {
      const name = part.trim().toUpperCase();
      if (name === '') continue;
      if (!Object.hasOwn(known, name)) {
        throw new TsbError(
          'INVALID_VALUE_FOR_ENUM',
          `${field}: "${part.trim().slice(0, 48)}" is not one of ${Object.keys(known).join(', ')}`,
        );
      }
      names.add(name as Name);
    }
  }
  return [...names];
}

/** The keyUsage BIT STRING as DER named bits: trailing zero bits are not encoded. */
function keyUsageValue(names: readonly KeyUsageName[]): Buffer {
  let bits = 0;
  for (const name of names) bits |= 0x8000 >> KEY_USAGE_BITS[name];
  const bytes = bits & 0xff ? Buffer.of(bits >> 8, bits & 0xff) : Buffer.of(bits >> 8);
  let unused = 0;
  while (unused < 7 && ((bytes[bytes.length - 1]! >> unused) & 1) === 0) unused++;
  return bitString(bytes, unused);
}

export interface ExtensionProfile {
  keyUsage: readonly KeyUsageName[];
  extendedKeyUsage: readonly ExtendedKeyUsageName[];
  /** the subject's SubjectPublicKeyInfo (DER): its key identifier is the subjectKeyIdentifier */
  subjectPublicKey: Buffer;
}

/**
 * The extensions a CSR requests: keyUsage (critical), extendedKeyUsage (critical as the TSB marks it,
 * except with ANY_EXTENDED_KEY_USAGE, which RFC 5280 §4.2.1.12 says should not be critical), and the
 * subjectKeyIdentifier (method 1).
 */
export function requestedExtensions(profile: ExtensionProfile): Buffer[] {
  const list: Buffer[] = [];
  if (profile.keyUsage.length > 0) list.push(extension(OID.keyUsage, true, keyUsageValue(profile.keyUsage)));
  if (profile.extendedKeyUsage.length > 0) {
    const critical = !profile.extendedKeyUsage.includes('ANY_EXTENDED_KEY_USAGE');
    const purposes = profile.extendedKeyUsage.map((name) => objectIdentifier(EXTENDED_KEY_USAGE_OIDS[name]));
    list.push(extension(OID.extendedKeyUsage, critical, sequence(...purposes)));
  }
  list.push(extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(profile.subjectPublicKey))));
  return list;
}

/**
 * The extensions of a certificate: basicConstraints (critical; cA TRUE for a CA), the requested ones,
 * a subjectAltName carried over verbatim (from a CSR), and the authorityKeyIdentifier.
 */
export function certificateExtensions(
  profile: ExtensionProfile & { ca: boolean; authorityKeyId: Buffer; subjectAltName?: Buffer | null },
): Buffer[] {
  const basicConstraints = profile.ca ? sequence(tlv(TAG.BOOLEAN, Buffer.of(0xff))) : sequence();
  return [
    extension(OID.basicConstraints, true, basicConstraints),
    ...requestedExtensions(profile),
    ...(profile.subjectAltName ? [profile.subjectAltName] : []),
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, profile.authorityKeyId))),
  ];
}

/**
 * RFC 5280 §4.2.1.9/§4.2.1.3: keyCertSign only in a CA certificate. A CA certificate always has
 * keyCertSign: `certificateAuthority: true` implies it, as the TSB does (the Keycloak provider and the
 * Vault plugin ask for a CA with DIGITAL_SIGNATURE only); a CA without any key usage gets keyCertSign and
 * cRLSign.
 */
export function caKeyUsage(ca: boolean, keyUsage: readonly KeyUsageName[]): KeyUsageName[] {
  if (!ca && keyUsage.includes('KEY_CERT_SIGN')) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      'keyUsage KEY_CERT_SIGN needs certificateAuthority true (RFC 5280 §4.2.1.3)',
    );
  }
  if (ca && keyUsage.length === 0) return ['KEY_CERT_SIGN', 'CRL_SIGN'];
  if (ca && !keyUsage.includes('KEY_CERT_SIGN')) return [...keyUsage, 'KEY_CERT_SIGN'];
  return [...keyUsage];
}
