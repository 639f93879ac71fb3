/**
 * Distinguished names of key certificates and CSRs, from the TSB `standardCertificateAttributes`
 * (reference §2.6) or a common name, and the common name set into an existing name (a CSR's subject).
 */
import { TsbError } from '../../errors.js';
import {
  children,
  decode,
  expectTag,
  objectIdentifier,
  readObjectIdentifier,
  sequence,
  TAG,
  tlv,
} from '../der.js';

/** The TSB attribute names, in the order they appear in the name (most significant first). */
export const SUBJECT_ATTRIBUTES = {
  country: '2.5.4.6',
  stateOrProvinceName: '2.5.4.8',
  locality: '2.5.4.7',
  organizationName: '2.5.4.10',
  organizationUnitName: '2.5.4.11',
  organizationIdentifier: '2.5.4.97',
  title: '2.5.4.12',
  surname: '2.5.4.4',
  givenName: '2.5.4.42',
  initials: '2.5.4.43',
  generationQualifier: '2.5.4.44',
  pseudonym: '2.5.4.65',
  commonName: '2.5.4.3',
  email: '1.2.840.113549.1.9.1',
} as const;

export type SubjectAttributeName = keyof typeof SUBJECT_ATTRIBUTES;
export type StandardCertificateAttributes = Partial<Record<SubjectAttributeName, string | null>>;

const COMMON_NAME = SUBJECT_ATTRIBUTES.commonName;
const IA5_STRING = 0x16;
const MAX_VALUE_LENGTH = 256;
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

const invalid = (message: string) => new TsbError('INPUT_VALIDATION_FAILED', message);

/** The value of an attribute: PrintableString where it fits (as the TSB's CSRs show), else UTF8String. */
function attributeValue(name: SubjectAttributeName, value: string): Buffer {
  const field = `standardCertificateAttributes.${name}`;
  if (value.length > MAX_VALUE_LENGTH)
    throw invalid(`${field} is longer than ${MAX_VALUE_LENGTH} characters`);
  if (name === 'country') {
    if (!/^[A-Za-z]{2}$/.test(value)) throw invalid(`${field} must be a two-letter ISO 3166 code, e.g. CH`);
    return tlv(TAG.PRINTABLE_STRING, Buffer.from(value, 'latin1'));
  }
  if (name === 'email') {
    if (!/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(value)) throw invalid(`${field} must be an ASCII e-mail address`);
    return tlv(IA5_STRING, Buffer.from(value, 'latin1'));
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${field} must not contain control characters`);
  return PRINTABLE.test(value)
    ? tlv(TAG.PRINTABLE_STRING, Buffer.from(value, 'latin1'))
    : tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'));
}

/** One RelativeDistinguishedName holding one attribute. */
function rdn(name: SubjectAttributeName, value: string): Buffer {
  return tlv(TAG.SET, sequence(objectIdentifier(SUBJECT_ATTRIBUTES[name]), attributeValue(name, value)));
}

const present = (value: string | null | undefined): value is string =>
  typeof value === 'string' && value.length > 0;

/**
 * The DER Name of the given attributes (null, absent and empty values are left out); `commonName`, when
 * given, takes the place of the attributes' common name. A name without a common name is refused.
 */
export function subjectName(
  attributes: StandardCertificateAttributes | null | undefined,
  commonName?: string | null,
): Buffer {
  if (attributes !== null && attributes !== undefined && typeof attributes !== 'object') {
    throw invalid('standardCertificateAttributes must be an object');
  }
  const values: StandardCertificateAttributes = { ...(attributes ?? {}) };
  if (present(commonName)) values.commonName = commonName;
  if (!present(values.commonName)) throw invalid('the subject needs a commonName');
  const rdns: Buffer[] = [];
  for (const name of Object.keys(SUBJECT_ATTRIBUTES) as SubjectAttributeName[]) {
    const value = values[name];
    if (value !== null && value !== undefined && typeof value !== 'string') {
      throw invalid(`standardCertificateAttributes.${name} must be a string`);
    }
    if (present(value)) rdns.push(rdn(name, value));
  }
  return sequence(...rdns);
}

/**
 * A DER Name with its common name set: every RDN that holds a common name is replaced by `commonName`
 * (the first one; the others are dropped), or it is appended when the name has none.
 */
export function withCommonName(name: Buffer, commonName: string): Buffer {
  const replacement = rdn('commonName', commonName);
  const rdns: Buffer[] = [];
  let placed = false;
  for (const set of children(expectTag(decode(name), TAG.SEQUENCE, 'Name'))) {
    const isCommonName = children(expectTag(set, TAG.SET, 'RelativeDistinguishedName')).some(
      (attribute) =>
        readObjectIdentifier(children(expectTag(attribute, TAG.SEQUENCE, 'AttributeTypeAndValue'))[0]!) ===
        COMMON_NAME,
    );
    if (!isCommonName) rdns.push(Buffer.from(set.encoded));
    else if (!placed) {
      rdns.push(replacement);
      placed = true;
    }
  }
  if (!placed) rdns.push(replacement);
  return sequence(...rdns);
}
