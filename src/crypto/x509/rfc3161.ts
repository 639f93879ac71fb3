import { createHash, type KeyObject, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { TsbError } from '../../errors.js';
import { contextTag, explicit, integer, objectIdentifier, octetString, sequence, TAG, tlv } from '../der.js';
import { certificateFacts, randomSerial, OID as X509_OID } from './x509.js';

/**
 * RFC 3161 time-stamp tokens: TSTInfo in a CMS SignedData (RFC 5652) signed by the partition's
 * timestamp key, with the ESS signingCertificateV2 attribute (RFC 5035) that verifiers require.
 */

const signAsync = promisify(sign);

/**
 * The OpenTSB time-stamp policy: a UUID OID (ITU-T X.667, arc 2.25), which needs no registration.
 * UUID 6248c598-b8c9-45f7-bb75-9d0c3f617552.
 */
export const TIMESTAMP_POLICY_OID = '2.25.130642196695297450991091132124912252242';

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

export const TIMESTAMP_HASHES = {
  'SHA-256': { oid: '2.16.840.1.101.3.4.2.1', node: 'sha256', length: 32 },
  'SHA-384': { oid: '2.16.840.1.101.3.4.2.2', node: 'sha384', length: 48 },
  'SHA-512': { oid: '2.16.840.1.101.3.4.2.3', node: 'sha512', length: 64 },
} as const;
export type TimestampHash = keyof typeof TIMESTAMP_HASHES;

/** "SHA-256", "sha256", "SHA_256" … → "SHA-256"; anything else is 600. */
export function timestampHash(name: string): TimestampHash {
  const compact = name.toUpperCase().replace(/[-_]/g, '');
  const found = (Object.keys(TIMESTAMP_HASHES) as TimestampHash[]).find(
    (key) => key.replace('-', '') === compact,
  );
  if (!found) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `hashAlgorithm must be one of ${Object.keys(TIMESTAMP_HASHES).join(', ')}`,
    );
  }
  return found;
}

/** GeneralizedTime with milliseconds, trailing zeros of the fraction removed (RFC 3161 §2.4.2). */
export function generalizedTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const whole = iso.slice(0, 19).replace(/[-T:]/g, '');
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${whole}${fraction ? `.${fraction}` : ''}Z`, 'latin1'));
}

export interface TimestampInput {
  hash: TimestampHash;
  /** the digest of the data to be time-stamped */
  messageImprint: Buffer;
  nonce: bigint | null;
  /** include the timestamp certificate and the device certificate in the token */
  certReq: boolean;
  genTime: Date;
}

export interface TimestampSigner {
  key: KeyObject;
  /** DER of the timestamp key's certificate */
  certificate: Buffer;
  /** DER certificates to include after it when certReq (the device certificate) */
  chain: Buffer[];
}

export interface IssuedTimestamp {
  /** ContentInfo(SignedData), DER */
  token: Buffer;
  /** TimeStampResp with status granted, DER */
  response: Buffer;
  serialNumber: Buffer;
}

/** The content of a SET OF: its elements in DER order. */
const sortedContent = (items: Buffer[]): Buffer => Buffer.concat([...items].sort(Buffer.compare));
const setOf = (items: Buffer[]): Buffer => tlv(TAG.SET, sortedContent(items));

const attribute = (oid: string, value: Buffer) => sequence(objectIdentifier(oid), setOf([value]));

export async function issueTimestamp(
  input: TimestampInput,
  signer: TimestampSigner,
): Promise<IssuedTimestamp> {
  const hash = TIMESTAMP_HASHES[input.hash];
  if (input.messageImprint.length !== hash.length) {
    throw new TsbError(
      'INVALID_PAYLOAD',
      `messageImprint must be a ${input.hash} digest of ${hash.length} bytes`,
    );
  }
  const serialNumber = randomSerial(16);
  const tstInfo = sequence(
    integer(1),
    objectIdentifier(TIMESTAMP_POLICY_OID),
    sequence(sequence(objectIdentifier(hash.oid)), octetString(input.messageImprint)),
    integer(serialNumber),
    generalizedTime(input.genTime),
    ...(input.nonce === null ? [] : [integer(input.nonce)]),
  );
  const facts = certificateFacts(signer.certificate);
  const attributes = sortedContent([
    attribute(OID.contentType, objectIdentifier(OID.tstInfo)),
    attribute(OID.messageDigest, octetString(createHash('sha256').update(tstInfo).digest())),
    attribute(
      OID.signingCertificateV2,
      // SigningCertificateV2 { certs: [ESSCertIDv2 { certHash (SHA-256, the default), issuerSerial }] }
      sequence(
        sequence(
          sequence(
            octetString(createHash('sha256').update(signer.certificate).digest()),
            sequence(sequence(explicit(4, facts.issuer)), tlv(TAG.INTEGER, facts.serialNumber)),
          ),
        ),
      ),
    ),
  ]);
  // signed as a SET OF (RFC 5652 §5.4), sent as [0] IMPLICIT with the same content
  const signedAttributes = tlv(TAG.SET, attributes);
  const signature = await signAsync('sha256', signedAttributes, signer.key);
  const sha256 = sequence(objectIdentifier(OID.sha256));
  const signerInfo = sequence(
    integer(1),
    sequence(facts.issuer, tlv(TAG.INTEGER, facts.serialNumber)),
    sha256,
    // [0] IMPLICIT SET OF Attribute: the same content under the context tag
    tlv(contextTag(0, true), attributes),
    sequence(objectIdentifier(X509_OID.ecdsaWithSha256)),
    octetString(signature),
  );
  const signedData = sequence(
    integer(3),
    setOf([sha256]),
    sequence(objectIdentifier(OID.tstInfo), explicit(0, octetString(tstInfo))),
    ...(input.certReq
      ? [tlv(contextTag(0, true), Buffer.concat([signer.certificate, ...signer.chain]))]
      : []),
    setOf([signerInfo]),
  );
  const token = sequence(objectIdentifier(OID.signedData), explicit(0, signedData));
  const response = sequence(sequence(integer(0)), token);
  return { token, response, serialNumber };
}
