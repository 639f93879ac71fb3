import { Type } from 'typebox';

const Base64Text = (description: string, maxLength = 65_536) =>
  Type.String({ maxLength, description: `${description} (standard base64)` });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

const ApproverFields = {
  approverPublicKey: Nullable(Base64Text('approver public key, SPKI DER')),
  approverCertificate: Nullable(Base64Text('approver certificate, X.509 DER')),
  timestampSigningCertificate: Nullable(Base64Text('certificate of a configured timestamp signer')),
};

const DigestAlgorithm = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 32,
    description: `${description}: SHA-224, SHA-256, SHA-384, SHA-512, SHA3-224, SHA3-256, SHA3-384, SHA3-512, EdDSA or ML-DSA`,
  });

export const TaskFilterSchema = Type.Object({
  timestamp: Type.String({ maxLength: 64, description: 'a fresh ISO-8601 time, e.g. 2026-11-29T10:00:00Z' }),
  timestampSignature: Base64Text('signature over the UTF-8 bytes of timestamp'),
  timestampDigestAlgorithm: DigestAlgorithm('digest of timestampSignature'),
  ...ApproverFields,
  id: Nullable(Type.String({ maxLength: 64, description: 'only this task' })),
  requestId: Nullable(Type.String({ maxLength: 64, description: 'only tasks of this request' })),
  detailLevel: Nullable(Type.String({ maxLength: 16, description: 'level1 (default) … level5' })),
  paging: Type.Optional(
    Type.Union([
      Type.Object({
        pageNumber: Type.Optional(
          Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.Null()]),
        ),
        pageSize: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()])),
        sortOrder: Nullable(
          Type.String({
            maxLength: 32,
            description:
              'CREATION_DATE_ASC (default), CREATION_DATE_DESC, LAST_FETCHED_DATE_ASC or LAST_FETCHED_DATE_DESC',
          }),
        ),
      }),
      Type.Null(),
    ]),
  ),
});

const Text = (description: string) => Nullable(Type.String({ description }));
const Echo = (operation: string) =>
  Type.Optional(
    Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: `level3: the original ${operation} request as sent (its password removed), null for other operations`,
    }),
  );

/** The TSB task fields of levels 2 to 5 (TaskLevel2…5 of the TSB's task DTOs); absent below their level. */
const TaskDetailFields = {
  metaData: Text('level2: metadata of the request (base64)'),
  metaDataSignature: Text('level2: signature of the metadata (base64)'),
  payload: Text('level2: what the approval is for (base64)'),
  payloadType: Text('level2: payloadType of a sign request'),
  requestBase64: Text('level3: the original request as JSON (base64)'),
  signedSignRequest: Echo('sign'),
  signedModifyKeyRequest: Echo('modify'),
  signedBlockKeyRequest: Echo('block'),
  signedUnblockKeyRequest: Echo('unblock'),
  signedDecryptRequest: Echo('decrypt'),
  signedUnwrapKeyRequest: Echo('unwrap'),
  signedCertificateRequestRequest: Echo('CSR'),
  signedSignCertificateRequest: Echo('certificate signing'),
  signedSelfSignCertificateRequestDto: Echo('self-signed certificate'),
  timestamp: Text('level4: the partition timestamp (the 0x1054 item value of the challenge, base64)'),
  timestampSignature: Text('level4: ECDSA-Sig-Value DER of the timestamp by the timestamp key (base64)'),
  timestampSignatureAlgorithm: Text('level4: SHA256_WITH_ECDSA'),
  timestampSignatureWithAlgorithm: Text(
    'level4: DER SEQUENCE { AlgorithmIdentifier ecdsa-with-SHA256, BIT STRING timestampSignature } (base64), the 0x1056 item value',
  ),
  keyAttributes: Text('level5: the key attribute statement (XML)'),
  keyAttributesSignature: Text('level5: signature of keyAttributes by the attestation key (base64)'),
};

export const TaskListSchema = Type.Object({
  tasks: Type.Array(
    Type.Object(
      {
        detailLevel: Type.String(),
        id: Type.String({ description: 'task id' }),
        approvalToBeSigned: Type.String({
          description: 'the challenge to sign, base64 (docs/approval-challenge.md)',
        }),
        approverPublicKey: Type.String(),
        requestId: Type.String({ description: 'OpenTSB: the request the task belongs to' }),
        operation: Type.String({ description: 'OpenTSB: SIGN, DECRYPT, UNWRAP, BLOCK, UNBLOCK or MODIFY' }),
        keyName: Type.String({ description: 'OpenTSB: the key named by the request' }),
        createdAt: Type.String({ description: 'OpenTSB: creation time of the request' }),
        expiresAt: Type.Union([Type.String(), Type.Null()], {
          description: 'OpenTSB: when the request expires',
        }),
        payloadDigest: Type.String({ description: 'OpenTSB: SHA-256 of the approved payload (base64)' }),
        rejectionToBeSigned: Type.String({ description: 'OpenTSB: what to sign to reject (base64)' }),
        ...TaskDetailFields,
        partition: Type.Optional(
          Type.String({ description: 'OpenTSB, listings without credential: the partition of the task' }),
        ),
      },
      {
        additionalProperties: true,
        description:
          'level2 adds metaData, metaDataSignature, payload, payloadType; level3 requestBase64 and the signed…Request echoes; level4 timestamp, timestampSignature, timestampSignatureAlgorithm, timestampSignatureWithAlgorithm; level5 keyAttributes, keyAttributesSignature',
      },
    ),
  ),
});

export const ApprovalSchema = Type.Object({
  id: Type.String({ maxLength: 64, description: 'task id' }),
  approvalToBeSigned: Base64Text('the challenge exactly as received'),
  signature: Base64Text('signature over the base64-decoded approvalToBeSigned'),
  approvalDigestAlgorithm: DigestAlgorithm('digest of the signature'),
  ...ApproverFields,
});

export const RejectionSchema = Type.Object({
  id: Type.String({ maxLength: 64, description: 'task id' }),
  signature: Base64Text(
    'signature over the base64-decoded rejectionToBeSigned of the task ("REJECT:" ‖ challenge)',
  ),
  approvalDigestAlgorithm: DigestAlgorithm('digest of the signature'),
  ...ApproverFields,
  reason: Nullable(Type.String({ maxLength: 1024, description: 'why, shown in the request status' })),
});
