import { Type } from 'typebox';
import { CERTIFICATE_SIGNATURE_ALGORITHMS } from '../../crypto/x509/certificate-signature-algorithms.js';
import { LabelSchema, PasswordSchema } from '../../http/common.schema.js';
import { OptionalBinary, RequestSignature, SignedApprovals } from '../operations/operations.schema.js';

const Text = (description: string, maxLength = 256) =>
  Type.Optional(Type.Union([Type.String({ maxLength, description }), Type.Null()]));

const SignKeyName = Type.String({
  minLength: 1,
  maxLength: 150,
  description: 'label of the signing key (a stored RSA, EC or ED key; no derivation path)',
});

const Usages = (description: string) =>
  Type.Optional(
    Type.Union([Type.Array(Type.String({ maxLength: 512 }), { maxItems: 32, description }), Type.Null()]),
  );

const KeyUsage = Usages(
  'DIGITAL_SIGNATURE, CONTENT_COMMITMENT, KEY_ENCIPHERMENT, DATA_ENCIPHERMENT, KEY_AGREEMENT, KEY_CERT_SIGN, CRL_SIGN, ENCIPHER_ONLY, DECIPHER_ONLY (marked critical)',
);
const ExtendedKeyUsage = Usages(
  'ANY_EXTENDED_KEY_USAGE, SERVER_AUTH, CLIENT_AUTH, CODE_SIGNING, EMAIL_PROTECTION, TIME_STAMPING, OCSP_SIGNING',
);

export const StandardCertificateAttributesSchema = Type.Object(
  {
    commonName: Text('CN'),
    country: Text('C, two letters', 2),
    stateOrProvinceName: Text('ST'),
    locality: Text('L'),
    organizationName: Text('O'),
    organizationUnitName: Text('OU'),
    organizationIdentifier: Text('organizationIdentifier (2.5.4.97)'),
    email: Text('emailAddress (1.2.840.113549.1.9.1)'),
    title: Text('title'),
    surname: Text('SN'),
    givenName: Text('GN'),
    initials: Text('initials'),
    pseudonym: Text('pseudonym'),
    generationQualifier: Text('generationQualifier'),
  },
  { description: 'subject distinguished name; null or empty values are left out' },
);

const signing = {
  signKeyName: SignKeyName,
  keyPassword: Type.Optional(PasswordSchema),
  signatureAlgorithm: Type.String({
    minLength: 1,
    maxLength: 64,
    description: `one of ${CERTIFICATE_SIGNATURE_ALGORITHMS.join(', ')}`,
  }),
  keyUsage: KeyUsage,
  extendedKeyUsage: ExtendedKeyUsage,
};

const Validity = Type.Integer({ description: 'days the certificate is valid from now (1–36525)' });
const OptionalValidity = Type.Optional(
  Type.Union([Validity, Type.Null()], { description: 'days (1–36525); absent or null: 365' }),
);

const MetaData = {
  metaData: OptionalBinary('document shown to approvers'),
  metaDataSignature: OptionalBinary('signature over the decoded metaData'),
};

/** CsrRequest: a CSR for the key; the key then holds a self-signed certificate valid `validity` days. */
export const CsrRequestSchema = Type.Object({
  ...signing,
  validity: OptionalValidity,
  standardCertificateAttributes: StandardCertificateAttributesSchema,
});

export const SelfSignRequestSchema = Type.Object({
  ...signing,
  validity: OptionalValidity,
  commonName: Type.Optional(
    Type.Union([Type.String({ maxLength: 256 }), Type.Null()], {
      description:
        'CN of subject and issuer; when absent, standardCertificateAttributes.commonName (as the Fireblocks agent and the Keycloak provider send it)',
    }),
  ),
  certificateAuthority: Type.Optional(
    Type.Union([Type.Boolean({ description: 'true: basicConstraints cA TRUE (critical)' }), Type.Null()]),
  ),
  standardCertificateAttributes: Type.Optional(
    Type.Union([StandardCertificateAttributesSchema, Type.Null()], {
      description: 'the subject; commonName above, when given, takes the place of its CN',
    }),
  ),
});

export const SignCertificateRequestSchema = Type.Object({
  ...signing,
  certificateSigningRequest: Type.String({
    minLength: 1,
    maxLength: 65_536,
    description: 'PKCS#10 CSR (PEM, or base64 DER); its signature must verify',
  }),
  commonName: Type.Optional(
    Type.Union([Type.String({ maxLength: 256 }), Type.Null()], {
      description: 'sets the CN of the subject (the CSR’s subject, or standardCertificateAttributes)',
    }),
  ),
  certificateAuthority: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  validity: OptionalValidity,
  standardCertificateAttributes: Type.Optional(
    Type.Union([StandardCertificateAttributesSchema, Type.Null()], {
      description: 'subject of the certificate instead of the CSR’s subject',
    }),
  ),
});

export const SynchronousCsrBodySchema = Type.Object({
  ...CsrRequestSchema.properties,
  signedApprovals: SignedApprovals,
});
export const SynchronousSelfSignBodySchema = Type.Object({
  ...SelfSignRequestSchema.properties,
  signedApprovals: SignedApprovals,
});
export const SynchronousSignCertificateBodySchema = Type.Object({
  ...SignCertificateRequestSchema.properties,
  signedApprovals: SignedApprovals,
});

export const AsyncCsrBodySchema = Type.Object({
  csrSignRequest: Type.Object({ ...CsrRequestSchema.properties, ...MetaData }),
  requestSignature: RequestSignature,
});
export const AsyncSelfSignBodySchema = Type.Object({
  selfSignCertificateRequest: Type.Object({ ...SelfSignRequestSchema.properties, ...MetaData }),
  requestSignature: RequestSignature,
});
export const AsyncSignCertificateBodySchema = Type.Object({
  signCertificateRequest: Type.Object({ ...SignCertificateRequestSchema.properties, ...MetaData }),
  requestSignature: RequestSignature,
});

export const ImportCertificateBodySchema = Type.Object({
  label: LabelSchema,
  certificate: Type.String({
    minLength: 1,
    maxLength: 65_536,
    description: 'X.509 certificate of the key, base64 DER (PEM is accepted too)',
  }),
});

export const CsrResponseSchema = Type.Object({
  label: Type.String(),
  certificateSigningRequest: Type.String({ description: 'PKCS#10 CSR, PEM' }),
});

export const CertificateResponseSchema = Type.Object({
  label: Type.String(),
  certificate: Type.String({ description: 'X.509 certificate, PEM' }),
});

export const HeldCertificateResponseSchema = Type.Object({
  ...CertificateResponseSchema.properties,
  rawCertificate: Type.String({ description: 'the same certificate, base64 DER without PEM armour' }),
});

export const CsrFileSchema = Type.String({ description: 'the CSR, PEM (a .csr file)' });

export const CertificateKeyParamsSchema = Type.Object({ keyName: LabelSchema });
