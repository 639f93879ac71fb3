/**
 * An approval task as approvers see it (reference §4.2), by detail level as the TSB's task DTOs
 * (TaskLevel1…5) have them: level1 the challenge, level2 the metadata and the payload, level3 the
 * original request, level4 the partition's timestamp and its signature, level5 the key's signed
 * attribute statement.
 */
import type { ApprovalTask, Partition, SkaRequest } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { isoSeconds } from '../../lib/time.js';
import { rejectionToBeSigned } from '../../ska/approval-signature.js';
import type { SkaOperation } from '../../ska/challenge.js';
import { decodeChallenge } from '../../ska/challenge-decoder.js';
import { wrapTimestampSignature } from '../../ska/challenge-timestamp-signature.js';
import { approvedPayload, type StoredBody } from './request-operations.js';

export type TaskDetailLevel = 'level1' | 'level2' | 'level3' | 'level4' | 'level5';

export interface TaskView {
  detailLevel: TaskDetailLevel;
  id: string;
  approvalToBeSigned: string;
  approverPublicKey: string;
  requestId: string;
  operation: string;
  keyName: string;
  createdAt: string;
  expiresAt: string | null;
  payloadDigest: string;
  rejectionToBeSigned: string;
  [detail: string]: unknown;
}

/** The TSB wrapper of each operation's request, as echoed in `signed…Request` and `requestBase64`. */
const REQUEST_WRAPPER: Record<SkaOperation, { wrapper: string; echo: string }> = {
  SIGN: { wrapper: 'signRequest', echo: 'signedSignRequest' },
  DECRYPT: { wrapper: 'decryptRequest', echo: 'signedDecryptRequest' },
  UNWRAP: { wrapper: 'unwrapKeyRequest', echo: 'signedUnwrapKeyRequest' },
  BLOCK: { wrapper: 'blockRequest', echo: 'signedBlockKeyRequest' },
  UNBLOCK: { wrapper: 'unblockRequest', echo: 'signedUnblockKeyRequest' },
  MODIFY: { wrapper: 'modifyRequest', echo: 'signedModifyKeyRequest' },
  CERTIFICATE_REQUEST: { wrapper: 'csrSignRequest', echo: 'signedCertificateRequestRequest' },
  SIGN_CERTIFICATE: { wrapper: 'signCertificateRequest', echo: 'signedSignCertificateRequest' },
  SELF_SIGN_CERTIFICATE: {
    wrapper: 'selfSignCertificateRequest',
    echo: 'signedSelfSignCertificateRequestDto',
  },
};

const ECHO_FIELDS = Object.values(REQUEST_WRAPPER).map(({ echo }) => echo);

export async function taskView(
  hsm: SoftHsm,
  partition: Partition,
  task: ApprovalTask & { request: SkaRequest },
  level: TaskDetailLevel,
): Promise<TaskView> {
  const { request } = task;
  const depth = Number(level.slice(5));
  const view: TaskView = {
    detailLevel: level,
    id: task.id,
    approvalToBeSigned: Buffer.from(request.challenge).toString('base64'),
    approverPublicKey: Buffer.from(task.approverPublicKey).toString('base64'),
    requestId: request.id,
    operation: request.operation,
    keyName: request.keyLabel,
    createdAt: isoSeconds(request.createdAt),
    expiresAt: request.expiresAt ? isoSeconds(request.expiresAt) : null,
    payloadDigest: Buffer.from(request.payloadDigest).toString('base64'),
    rejectionToBeSigned: rejectionToBeSigned(request.challenge).toString('base64'),
  };
  const body = request.body as StoredBody;
  if (depth >= 2) {
    view['metaData'] = request.metaData;
    view['metaDataSignature'] = request.metaDataSignature;
    view['payload'] = approvedPayload(request.operation as SkaOperation, body).toString('base64');
    view['payloadType'] = typeof body['payloadType'] === 'string' ? body['payloadType'] : null;
  }
  if (depth >= 3) Object.assign(view, requestEcho(request, body));
  if (depth >= 4) Object.assign(view, signedTimestamp(request));
  if (depth >= 5) Object.assign(view, await keyAttributes(hsm, partition, request.keyLabel));
  return view;
}

function requestEcho(request: SkaRequest, body: StoredBody): Record<string, unknown> {
  const { wrapper, echo } = REQUEST_WRAPPER[request.operation as SkaOperation];
  const original = { [wrapper]: body, requestSignature: null };
  const view: Record<string, unknown> = Object.fromEntries(ECHO_FIELDS.map((field) => [field, null]));
  view[echo] = original;
  view['requestBase64'] = Buffer.from(JSON.stringify(original), 'utf8').toString('base64');
  return view;
}

function signedTimestamp(request: SkaRequest): Record<string, unknown> {
  const { timestampBlock, timestampSignature } = decodeChallenge(request.challenge);
  return {
    timestamp: timestampBlock.toString('base64'),
    timestampSignature: timestampSignature?.toString('base64') ?? null,
    timestampSignatureAlgorithm: 'SHA256_WITH_ECDSA',
    timestampSignatureWithAlgorithm: timestampSignature
      ? wrapTimestampSignature(timestampSignature).toString('base64')
      : null,
  };
}

async function keyAttributes(
  hsm: SoftHsm,
  partition: Partition,
  keyName: string,
): Promise<Record<string, unknown>> {
  const label = keyName.split('/')[0]!;
  try {
    const key = await hsm.keys.requireKey(partition, label);
    const statement = await hsm.keys.statement(partition, key);
    return { keyAttributes: statement.xml, keyAttributesSignature: statement.xmlSignature };
  } catch {
    return { keyAttributes: null, keyAttributesSignature: null };
  }
}
