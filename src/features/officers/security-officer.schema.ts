import { Type } from 'typebox';

const Base64Text = (description: string, maxLength = 65_536) =>
  Type.String({ maxLength, description: `${description} (standard base64)` });
const NullableString = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

const OfficerSignatureFields = {
  officerPublicKey: Base64Text('the signing officer’s public key, SubjectPublicKeyInfo DER', 8192),
  signature: Base64Text('the officer’s signature', 8192),
  digestAlgorithm: Type.Optional(
    Type.Union([
      Type.String({
        minLength: 1,
        maxLength: 32,
        description:
          'SHA-256 (default for RSA and EC keys), SHA-224, SHA-384, SHA-512, SHA3-*, EdDSA (default for Ed25519) or ML-DSA',
      }),
      Type.Null(),
    ]),
  ),
};

export const PolicySchema = Type.Object({
  partition: Type.String({ description: 'partition name' }),
  partitionId: Type.String(),
  allowKeyImport: Type.Boolean(),
  allowKeyExport: Type.Boolean(),
  keyInvalidation: Type.Boolean({ description: 'deleting a key moves it to the trash bin' }),
  readOnly: Type.Boolean(),
  allowObjectDestruction: Type.Boolean(),
  allowObjectUsage: Type.Boolean(),
});

export const OfficerListSchema = Type.Object({
  officers: Type.Array(
    Type.Object({
      name: Type.String(),
      fingerprint: Type.String({ description: 'lower-case hex SHA-256 of the SPKI DER' }),
      publicKey: Type.String({ description: 'SPKI DER, base64' }),
      createdAt: Type.String(),
      revokedAt: NullableString('when the operator revoked the officer'),
    }),
  ),
});

export const ProposalBodySchema = Type.Object({
  statement: Base64Text(
    'the statement bytes: canonical JSON of action, nonce, parameters, partition, proposedAt',
    8192,
  ),
  ...OfficerSignatureFields,
});

export const DecisionBodySchema = Type.Object({
  id: Type.String({ maxLength: 64, description: 'the proposal id' }),
  ...OfficerSignatureFields,
});

export const RejectionBodySchema = Type.Object({
  ...DecisionBodySchema.properties,
  reason: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
});

export const ProposalSchema = Type.Object({
  id: Type.String(),
  action: Type.String({ description: 'SET_POLICY, RESTORE_KEY or PURGE_KEY' }),
  parameters: Type.Unknown({
    description:
      'the action parameters from the statement; RESTORE_KEY and PURGE_KEY add keyId, the key in the trash bin under the label when proposed, which the action requires',
  }),
  status: Type.String({ description: 'PENDING, EXECUTED, REJECTED, EXPIRED or FAILED' }),
  statement: Type.String({ description: 'the statement the proposer signed, base64' }),
  approvalToBeSigned: Type.String({
    description: '"APPROVE:" ‖ statement, base64: what the approving officer signs',
  }),
  rejectionToBeSigned: Type.String({
    description: '"REJECT:" ‖ statement, base64: what a rejecting officer signs',
  }),
  proposedBy: Type.String({ description: 'officer name' }),
  proposedByFingerprint: Type.String(),
  decidedBy: NullableString('officer name'),
  decidedByFingerprint: NullableString('SHA-256 of the deciding officer’s SPKI'),
  reason: NullableString('the rejection reason'),
  errorCode: Type.Union([Type.Integer(), Type.Null()], { description: 'why an approved proposal FAILED' }),
  errorMessage: NullableString('why an approved proposal FAILED'),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  decidedAt: NullableString('when the proposal was approved or rejected'),
});

export const ProposalListSchema = Type.Object({ proposals: Type.Array(ProposalSchema) });

export const InvalidatedKeyListSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      id: Type.String({ description: 'key uuid' }),
      label: Type.String(),
      algorithm: Type.String(),
      invalidatedAt: NullableString('when the key was deleted into the trash bin'),
    }),
  ),
});

const AnyRow = Type.Record(Type.String(), Type.Unknown());

export const BackupSchema = Type.Object(
  {
    format: Type.String({ description: 'opentsb-partition-backup' }),
    version: Type.Integer(),
    createdAt: Type.String(),
    partition: AnyRow,
    keys: Type.Array(AnyRow),
    officers: Type.Array(AnyRow),
    mac: Type.String({ description: 'HMAC-SHA256 under a master-key-derived key, base64' }),
  },
  { description: 'docs/security-officers.md: the partition backup; sealed material stays sealed' },
);
