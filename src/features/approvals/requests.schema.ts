import { Type } from 'typebox';
import { PasswordSchema } from '../../http/common.schema.js';
import { OptionalOrNull } from '../../lib/schema-fields.js';
import { SkaModifyPolicySchema } from '../../ska/policy.schema.js';
import {
  DecryptBodySchema,
  OptionalBinary,
  RequestSignature,
  SignedApprovals,
  SignRequestSchema,
  UnwrapBodySchema,
} from '../operations/operations.schema.js';

const MetaData = {
  metaData: OptionalBinary('document shown to approvers'),
  metaDataSignature: OptionalBinary('signature over the decoded metaData'),
};

const StoredKeyName = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 150,
    description: `${description} (a stored key, no derivation path)`,
  });

export const BlockRequestSchema = Type.Object({
  blockKeyName: StoredKeyName('label of the key to block'),
  keyPassword: Type.Optional(PasswordSchema),
  ...MetaData,
});

export const UnblockRequestSchema = Type.Object({
  unblockKeyName: StoredKeyName('label of the key to unblock'),
  keyPassword: Type.Optional(PasswordSchema),
  ...MetaData,
});

export const ModifyRequestSchema = Type.Object({
  modifyKeyName: StoredKeyName('label of the SKA key whose policy changes'),
  keyPassword: Type.Optional(PasswordSchema),
  policy: SkaModifyPolicySchema,
  ...MetaData,
});

export const AsyncSignBodySchema = Type.Object({
  signRequest: SignRequestSchema,
  requestSignature: RequestSignature,
});
export const AsyncDecryptBodySchema = Type.Object({
  decryptRequest: DecryptBodySchema.properties.decryptRequest,
  requestSignature: RequestSignature,
});
export const AsyncUnwrapBodySchema = Type.Object({
  unwrapKeyRequest: UnwrapBodySchema.properties.unwrapKeyRequest,
  requestSignature: RequestSignature,
});
export const BlockBodySchema = Type.Object({
  blockRequest: BlockRequestSchema,
  signedApprovals: SignedApprovals,
  requestSignature: RequestSignature,
});
export const UnblockBodySchema = Type.Object({
  unblockRequest: UnblockRequestSchema,
  signedApprovals: SignedApprovals,
  requestSignature: RequestSignature,
});
export const ModifyBodySchema = Type.Object({
  modifyRequest: ModifyRequestSchema,
  signedApprovals: SignedApprovals,
  requestSignature: RequestSignature,
});

const RequestId = (name: string) =>
  Type.Object({ [name]: Type.String({ format: 'uuid', description: 'id of the stored request' }) });
export const SignRequestIdSchema = RequestId('signRequestId');
export const DecryptRequestIdSchema = RequestId('decryptRequestId');
export const UnwrapRequestIdSchema = RequestId('unwrapRequestId');
export const BlockRequestIdSchema = RequestId('blockKeyRequestId');
export const UnblockRequestIdSchema = RequestId('unblockKeyRequestId');
export const ModifyRequestIdSchema = RequestId('modifyKeyRequestId');

const Timestamp = (description: string) =>
  Type.Union([Type.String({ description: `${description} (ISO-8601 UTC)` }), Type.Null()]);

export const RequestStatusSchema = Type.Object(
  {
    id: Type.String(),
    status: Type.String({
      description: 'PENDING, APPROVED, EXECUTED, FAILED, EXPIRED, REJECTED or CANCELLED',
    }),
    executionTime: Timestamp('when the operation ran'),
    approvedBy: Type.Array(Type.String(), {
      description: 'approver public keys (base64 SPKI) that approved',
    }),
    notYetApprovedBy: Type.Array(Type.String(), { description: 'approvers that have not decided' }),
    rejectedBy: Type.Array(Type.String(), { description: 'approvers that rejected' }),
    result: Type.Union([Type.String(), Type.Null()], {
      description:
        'base64 signature (sign) or plaintext (decrypt), PEM CSR or certificate (certificate requests); null otherwise',
    }),
    operation: Type.String({
      description:
        'OpenTSB: SIGN, DECRYPT, UNWRAP, BLOCK, UNBLOCK, MODIFY, CERTIFICATE_REQUEST, SELF_SIGN_CERTIFICATE or SIGN_CERTIFICATE',
    }),
    keyName: Type.String({ description: 'OpenTSB: the key named by the request' }),
    createdAt: Type.String({ description: 'OpenTSB: creation time (the challenge time)' }),
    executableAt: Timestamp('OpenTSB: when approved, the earliest time it may run (timelock)'),
    expiresAt: Timestamp('OpenTSB: when it expires unless approved'),
    rejections: Type.Array(
      Type.Object({ approverPublicKey: Type.String(), reason: Type.Union([Type.String(), Type.Null()]) }),
      { description: 'OpenTSB: who rejected, and why' },
    ),
    errorCode: Type.Union([Type.Integer(), Type.Null()], {
      description: 'OpenTSB: TSB errorCode of a FAILED request',
    }),
    errorMessage: Type.Union([Type.String(), Type.Null()], {
      description: 'OpenTSB: why it failed or was cancelled',
    }),
  },
  { title: 'RequestStatus' },
);

export const RequestIdParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const FilteredRequestsBodySchema = Type.Object({
  status: Type.Optional(
    Type.Union([
      Type.String({ maxLength: 16 }),
      Type.Array(Type.String({ maxLength: 16 }), { maxItems: 7 }),
      Type.Null(),
    ]),
  ),
  paging: Type.Optional(
    Type.Union([
      Type.Object({
        pageNumber: OptionalOrNull(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
        pageSize: OptionalOrNull(Type.Integer({ minimum: 1, maximum: 100 })),
        sortOrder: OptionalOrNull(
          Type.Union([Type.Literal('CREATION_DATE_ASC'), Type.Literal('CREATION_DATE_DESC')]),
        ),
      }),
      Type.Null(),
    ]),
  ),
});

export const FilteredRequestsResponseSchema = Type.Object({
  requests: Type.Array(RequestStatusSchema),
  totalCount: Type.Integer(),
});
