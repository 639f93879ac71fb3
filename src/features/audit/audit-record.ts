/**
 * What a request leaves in the audit log: who, what, the outcome and when, and nothing else. Only the
 * key-name fields of a body and the ids of SKA requests and tasks are read; payloads, passwords and key
 * material never are.
 */

import { type ApproverKeyCaller, type Caller, encodePrincipals } from '../../auth/caller.js';
import { TSB_ERRORS } from '../../errors.js';
import { type AuditRecord, SERVICE_CHAIN } from './audit-chain.js';

/** Body fields that name the key an operation uses, in the order they are looked for. */
const KEY_NAME_FIELDS = [
  'signKeyName',
  'encryptKeyName',
  'decryptKeyName',
  'wrapKeyName',
  'unwrapKeyName',
  'blockKeyName',
  'unblockKeyName',
  'modifyKeyName',
  'keyName',
  'label',
] as const;

/** The TSB's request envelopes: the key name stands one level down in them. */
const REQUEST_ENVELOPES = [
  'signRequest',
  'verifySignatureRequest',
  'verifyHmacRequest',
  'hmacRequest',
  'encryptRequest',
  'decryptRequest',
  'wrapKeyRequest',
  'unwrapKeyRequest',
  'blockRequest',
  'unblockRequest',
  'modifyRequest',
  'csrSignRequest',
  'selfSignCertificateRequest',
  'signCertificateRequest',
] as const;

const MAX_LABEL = 1024;
const MAX_ID = 128;
/** error bodies and request-id answers are small; anything longer is not parsed */
const MAX_PARSED_PAYLOAD = 4096;

export interface AuditedRequest {
  method: string;
  /** the route pattern, e.g. /v1/request/:id */
  route: string;
  caller: Caller | null;
  /** an approver route called without credential: the approver key, once its signature verified */
  approverKey?: ApproverKeyCaller | null;
  params: unknown;
  body: unknown;
  statusCode: number;
  /** the serialized answer, as the onSend hook sees it */
  payload: unknown;
  at: Date;
}

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);

/** Text PostgreSQL stores and hashes the same way: well-formed UTF-8, no NUL, bounded. */
function clean(value: string, max: number): string {
  return Buffer.from(value.slice(0, max), 'utf8').toString('utf8').replaceAll('\u0000', '\uFFFD');
}

function firstString(scopes: unknown[], fields: readonly string[], max: number): string | null {
  for (const scope of scopes) {
    if (!isFields(scope)) continue;
    for (const field of fields) {
      const value = scope[field];
      if (typeof value === 'string' && value !== '') return clean(value, max);
    }
  }
  return null;
}

function keyLabelOf(params: unknown, body: unknown): string | null {
  const envelopes = isFields(body) ? REQUEST_ENVELOPES.map((name) => body[name]) : [];
  return firstString([params, body, ...envelopes], KEY_NAME_FIELDS, MAX_LABEL);
}

function parsedPayload(payload: unknown): Fields | null {
  if (typeof payload !== 'string' || payload.length > MAX_PARSED_PAYLOAD) return null;
  try {
    const parsed: unknown = JSON.parse(payload);
    return isFields(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** Routes whose body `id` is an approval task id (elsewhere a body `id` may be, say, a key id). */
const TASK_ID_ROUTES: ReadonlySet<string> = new Set(['POST /v1/approval', 'DELETE /v1/task']);

/** The SKA request (or task) id: from the path, the body, or the 201 answer that created the request. */
function requestIdOf(request: AuditedRequest, action: string): string | null {
  const { params, body, statusCode, payload } = request;
  const named =
    firstString([params], ['requestId', 'id'], MAX_ID) ??
    firstString([body], TASK_ID_ROUTES.has(action) ? ['requestId', 'id'] : ['requestId'], MAX_ID);
  if (named !== null || statusCode !== 201) return named;
  const answer = parsedPayload(payload);
  if (!answer) return null;
  const field = Object.keys(answer).find((name) => name.endsWith('RequestId'));
  const value = field === undefined ? undefined : answer[field];
  return typeof value === 'string' ? clean(value, MAX_ID) : null;
}

function errorCodeOf(statusCode: number, payload: unknown): number | null {
  if (statusCode < 400) return null;
  const code = parsedPayload(payload)?.['errorCode'];
  return typeof code === 'number' && Number.isSafeInteger(code) ? code : null;
}

export function auditRecordOf(request: AuditedRequest): AuditRecord {
  const { caller, statusCode } = request;
  const action = `${request.method} ${request.route}`;
  const approverKey = caller ? null : verifiedApproverKey(request.approverKey);
  const partitionId = caller?.partitionId ?? approverKey?.partitionId ?? null;
  return {
    chain: partitionId ?? SERVICE_CHAIN,
    partitionId,
    at: request.at,
    credentialId:
      caller && caller.credentials.length > 0
        ? clean(encodePrincipals(caller.credentials.map((c) => `${c.method}:${c.principal}`)), MAX_LABEL)
        : approverKey
          ? `approverKey:${approverKey.fingerprint}`
          : null,
    roles: caller ? [...caller.roles].sort() : approverKey ? ['approver'] : [],
    action: clean(action, MAX_LABEL),
    keyLabel: keyLabelOf(request.params, request.body),
    requestId: requestIdOf(request, action),
    outcome: statusCode < 400 ? 'success' : 'failure',
    statusCode,
    errorCode: errorCodeOf(statusCode, request.payload),
  };
}

/** Status of a streamed answer the client left before its end (nginx's "client closed request"). */
export const CLIENT_LEFT_STATUS = 499;

/**
 * The second entry of a streamed answer that ended before its last byte went out: the request of `started` (its
 * entry as logged when the answer began) as a failure, 499 when the client left, 500 when the service broke it off.
 */
export function unfinishedStreamRecord(
  started: AuditRecord,
  { brokenOff, at }: { brokenOff: boolean; at: Date },
): AuditRecord {
  const technical = TSB_ERRORS.TECHNICAL;
  return {
    ...started,
    at,
    outcome: 'failure',
    statusCode: brokenOff ? technical.status : CLIENT_LEFT_STATUS,
    errorCode: brokenOff ? technical.code : null,
  };
}

/** The approver key of a request without credential, once its signature verified. */
export function verifiedApproverKey(
  approverKey: ApproverKeyCaller | null | undefined,
): { fingerprint: string; partitionId: string | null } | null {
  return approverKey?.fingerprint
    ? { fingerprint: approverKey.fingerprint, partitionId: approverKey.partitionId }
    : null;
}
