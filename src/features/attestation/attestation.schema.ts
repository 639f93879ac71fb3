import { Type } from 'typebox';
import { Base64Schema } from '../../http/common.schema.js';
import { OptionalOrNull } from '../../lib/schema-fields.js';

export const CertificateChainSchema = Type.Object(
  {
    root: Type.String({ description: 'the OpenTSB root certificate (PEM, self-signed)' }),
    device: Type.String({
      description: 'the device (intermediate CA) certificate, issued by the root (PEM)',
    }),
    attestation: Type.String({
      description: "the partition attestation key's certificate, issued by the device key (PEM)",
    }),
    timestamp: Type.String({
      description:
        "the partition timestamp key's certificate (extendedKeyUsage timeStamping, critical), issued by the device key (PEM)",
    }),
  },
  { title: 'CertificateChain' },
);

export const KEY_ATTESTATION_ZIP =
  'application/zip: <label>.xml (the signed key statement), <label>.sig (DER ECDSA signature), <label>.pem (attestation public key), PrimusHSM_Attestation.crt (attestation and device certificates), root.crt and README.txt';

export const KeyAttestationZipSchema = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' });

export const CreateRfcTimestampBodySchema = Type.Object(
  {
    messageImprint: OptionalOrNull(
      Base64Schema('digest of the data to time-stamp, by hashAlgorithm; give this or data', 200),
    ),
    data: OptionalOrNull(Base64Schema('the data to time-stamp (hashed here); give this or messageImprint')),
    hashAlgorithm: Type.String({ maxLength: 16, description: 'SHA-256, SHA-384 or SHA-512' }),
    nonce: OptionalOrNull(
      Type.String({ maxLength: 80, description: 'non-negative integer in decimal, echoed in the token' }),
    ),
    certReq: OptionalOrNull(
      Type.Boolean({
        description:
          'include the timestamp and device certificates in the token (default false, as in RFC 3161)',
      }),
    ),
  },
  { title: 'CreateRfcTimestampRequest' },
);

export const RfcTimestampSchema = Type.Object(
  {
    timeStampToken: Type.String({ description: 'ContentInfo (CMS SignedData of a TSTInfo), base64 DER' }),
    timeStampResponse: Type.String({
      description: 'TimeStampResp (status granted) with the token, base64 DER',
    }),
  },
  { title: 'RfcTimestamp' },
);
