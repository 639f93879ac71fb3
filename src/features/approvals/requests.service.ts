/**
 * Creating, reading, listing and cancelling SKA requests (reference §2.4). A request freezes the rule
 * that governs it and the approvers named there, gets its challenge signed by the partition's timestamp
 * key, and runs at once when the rule needs no approval.
 */
import { randomUUID } from 'node:crypto';
import { encodePrincipals, sharesPrincipal } from '../../auth/caller.js';
import { TsbError } from '../../errors.js';
import type { Partition } from '../../generated/prisma/client.js';
import type { DecryptInput, SignInput } from '../../hsm/key-operations/key-operations.types.js';
import { MAX_PAYLOAD_BYTES } from '../../hsm/key-operations/operation-inputs.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { normalizeLabel } from '../../keystore/key-label.js';
import { normalizePassword, type PasswordInput } from '../../keystore/key-password.js';
import { assertWritable } from '../../keystore/keys/key-input-rules.js';
import { UUID_PATTERN } from '../../lib/encoding.js';
import { isoSeconds, wholeSeconds } from '../../lib/time.js';
import { parseApproverValuesAhead } from '../../ska/approver-keys-pool.js';
import { ruleDigest, type SkaOperation } from '../../ska/challenge.js';
import { approverEntries, ruleDeadline } from '../../ska/evaluator.js';
import { parametersDigest } from '../../ska/operation-parameters.js';
import { isEmptyRule, type NormalizedApproval } from '../../ska/policy-normalized.js';
import { openResult, type WorkflowEngine } from './engine.js';
import { OPERATIONS, prepareBody, type StoredBody } from './request-operations.js';
import { isOpen, REQUEST_STATUSES, type RequestStatus } from './request-status.js';
import type { RequestsRepository, RequestWithTasks } from './requests.repository.js';

/** `GET /v1/request/{id}`: the TSB fields, then OpenTSB's additions. */
export interface RequestStatusView {
  id: string;
  status: string;
  executionTime: string | null;
  approvedBy: string[];
  notYetApprovedBy: string[];
  rejectedBy: string[];
  result: string | null;
  operation: string;
  keyName: string;
  createdAt: string;
  executableAt: string | null;
  expiresAt: string | null;
  rejections: { approverPublicKey: string; reason: string | null }[];
  errorCode: number | null;
  errorMessage: string | null;
}

export interface RequestPage {
  pageNumber: number;
  pageSize: number;
  ascending: boolean;
}

const WRITING_OPERATIONS: ReadonlySet<SkaOperation> = new Set([
  'UNWRAP',
  'BLOCK',
  'UNBLOCK',
  'MODIFY',
  // both store a certificate on the key
  'CERTIFICATE_REQUEST',
  'SELF_SIGN_CERTIFICATE',
]);

/** Who asks to cancel a request: the principals behind its credentials and whether it holds keyManagement. */
export interface Canceller {
  principals: readonly string[];
  keyManagement: boolean;
}

export class RequestsService {
  constructor(
    private readonly repository: RequestsRepository,
    private readonly hsm: SoftHsm,
    private readonly engine: WorkflowEngine,
    /** open requests a partition may have (TSB_MAX_OPEN_REQUESTS); 0 = no limit */
    private readonly maxOpenRequests = 0,
  ) {}

  /** Stores a request and returns its id; a rule that needs no approval runs before this returns. */
  async create(
    partition: Partition,
    createdBy: string,
    operation: SkaOperation,
    inner: Record<string, unknown>,
  ): Promise<string> {
    const spec = OPERATIONS[operation];
    if (WRITING_OPERATIONS.has(operation)) assertWritable(partition);
    // key names compare in NFC (keystore/key-label.ts): the challenge and the stored request name the key so
    const keyName = normalizeLabel(String(inner[spec.keyField]));
    const password = normalizePassword(inner[spec.passwordField] as PasswordInput);
    const key = spec.use
      ? await this.hsm.operations.checkUse(partition, keyName, password, spec.use)
      : await this.hsm.keys.unlock(partition, keyName, password);
    const received: StoredBody = Object.fromEntries(
      Object.entries({ ...inner, [spec.keyField]: keyName }).filter(
        ([name, value]) => name !== spec.passwordField && value !== undefined,
      ),
    );
    assertPayloadSize(received, spec.payloadField);
    if (operation === 'SIGN') this.hsm.operations.checkSignRequest(key, received as unknown as SignInput);
    if (operation === 'DECRYPT')
      this.hsm.operations.checkDecryptRequest(key, received as unknown as DecryptInput);
    if (operation === 'MODIFY') await parseApproverValuesAhead(received['policy']);
    const { body, digest, rule } = prepareBody(this.hsm, operation, key, received);
    const id = randomUUID();
    const createdAt = wholeSeconds(this.hsm.clock.now());
    const frozenRuleDigest = ruleDigest(rule);
    const challenge = await this.hsm.approvalChallenge(partition, {
      operation,
      keyLabel: keyName,
      keyId: key.id,
      keyVersion: key.version,
      payloadDigest: digest,
      // from the body as stored: the approval gate recomputes it from the request as it runs
      parametersDigest: parametersDigest(operation, body),
      createdAt,
      requestId: id,
      nonce: null,
      ruleDigest: frozenRuleDigest,
    });
    const frozen = isEmptyRule(rule) ? null : rule;
    const expiresAt = ruleDeadline(frozen, createdAt);
    const stored = await this.repository.create(
      {
        id,
        partitionId: partition.id,
        keyId: key.id,
        keyLabel: keyName,
        operation,
        body,
        passwordSealed:
          password === null
            ? null
            : this.hsm.sealRequestSecret(partition, id, 'password', Buffer.from(password, 'utf8')),
        metaData: typeof body['metaData'] === 'string' ? body['metaData'] : null,
        metaDataSignature: typeof body['metaDataSignature'] === 'string' ? body['metaDataSignature'] : null,
        rule: frozen ?? { tokens: [] },
        ruleDigest: frozenRuleDigest,
        payloadDigest: digest,
        challenge,
        createdBy,
        createdAt,
        expiresAt,
        tasks: [...approverEntries(frozen).values()].map((entries) => {
          const [approver] = entries as [NormalizedApproval];
          // the certificate the rule pins for this approver, in whichever group names it by one
          const pinned = entries.find((entry) => entry.type === 'certificate');
          return {
            id: randomUUID(),
            fingerprint: approver.fingerprint,
            approverPublicKey: Buffer.from(approver.publicKey, 'base64'),
            approverCertificate: pinned ? Buffer.from(pinned.value, 'base64') : null,
            approverName: approver.name,
          };
        }),
      },
      // one that waits for approvals stays open: it holds its payload, its tasks and a timer in Redis
      frozen === null ? 0 : this.maxOpenRequests,
    );
    if (!stored) throw tooManyOpenRequests(this.maxOpenRequests);
    if (frozen === null) {
      await this.engine.evaluate(id);
    } else {
      // nothing to evaluate before the first decision; only the expiry needs a timer
      await this.engine.armExpiry(id, expiresAt);
      await this.engine.notify({ id, partitionId: partition.id }, 'created');
    }
    return id;
  }

  async status(partition: Partition, id: string): Promise<RequestStatusView> {
    const request = await this.require(partition, id);
    return statusView(request, openResult(this.hsm, partition, request));
  }

  /**
   * Cancels an open request. Only its creator (a credential of the same principal) cancels it as the
   * requester; a keyManagement caller may cancel anyone's, and the status says so.
   */
  async cancel(partition: Partition, id: string, canceller: Canceller): Promise<void> {
    const request = await this.require(partition, id);
    const byCreator = sharesPrincipal(request.createdBy, canceller.principals);
    if (!byCreator && !canceller.keyManagement) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        `request ${id} was created by another credential; only its creator or a keyManagement caller can cancel it`,
      );
    }
    const reason = byCreator
      ? 'cancelled by the requester'
      : `cancelled by keyManagement caller ${encodePrincipals(canceller.principals)}`;
    if (await this.engine.cancel(request, reason)) return;
    const now = await this.repository.find(request.id);
    if (now && !isOpen(now.status)) {
      // the TSB's clients remove a request once they have read it (tsb-client-go RemoveRequest, the Vault
      // plugin's request delete): an ended request is removed by dropping its result; its status stays
      await this.repository.eraseResult(now.id);
      return;
    }
    throw new TsbError(
      'REQUEST_NOT_OPEN',
      now?.status === 'APPROVED'
        ? `request ${id} is being executed and can no longer be cancelled`
        : `request ${id} is gone and can no longer be cancelled`,
    );
  }

  async list(
    partition: Partition,
    statuses: readonly string[] | null,
    page: RequestPage,
  ): Promise<{ requests: RequestStatusView[]; totalCount: number }> {
    for (const status of statuses ?? []) {
      if (!(REQUEST_STATUSES as readonly string[]).includes(status)) {
        throw new TsbError(
          'INVALID_VALUE_FOR_ENUM',
          `status "${status}" is not one of ${REQUEST_STATUSES.join(', ')}`,
        );
      }
    }
    const { total, requests } = await this.repository.list(
      partition.id,
      statuses && statuses.length > 0 ? statuses : null,
      page,
    );
    return {
      requests: requests.map((request) => statusView(request, openResult(this.hsm, partition, request))),
      totalCount: total,
    };
  }

  private async require(partition: Partition, id: string): Promise<RequestWithTasks> {
    if (!UUID_PATTERN.test(id)) throw new TsbError('INVALID_UUID', `"${id}" is not a request id (UUID)`);
    const request = await this.repository.findInPartition(partition.id, id);
    if (!request) throw new TsbError('REQUEST_NOT_EXISTENT', `request ${id} does not exist`);
    return request;
  }
}

/** The status of a request; `result` is passed opened (a decryption result is stored sealed). */
export function statusView(request: RequestWithTasks, result: string | null): RequestStatusView {
  const key = (task: { approverPublicKey: Uint8Array }) =>
    Buffer.from(task.approverPublicKey).toString('base64');
  // decisions in the order they were made; the database returns the tasks in no particular order
  const tasks = [...request.tasks].sort(
    (a, b) =>
      (a.decidedAt?.getTime() ?? Number.POSITIVE_INFINITY) -
        (b.decidedAt?.getTime() ?? Number.POSITIVE_INFINITY) || a.fingerprint.localeCompare(b.fingerprint),
  );
  const decided = (decision: string | null) => tasks.filter((task) => task.decision === decision);
  return {
    id: request.id,
    status: request.status as RequestStatus,
    executionTime: request.executedAt ? isoSeconds(request.executedAt) : null,
    approvedBy: decided('APPROVED').map(key),
    notYetApprovedBy: decided(null).map(key),
    rejectedBy: decided('REJECTED').map(key),
    result,
    operation: request.operation,
    keyName: request.keyLabel,
    createdAt: isoSeconds(request.createdAt),
    executableAt: request.executableAt ? isoSeconds(request.executableAt) : null,
    expiresAt: request.expiresAt ? isoSeconds(request.expiresAt) : null,
    rejections: decided('REJECTED').map((task) => ({ approverPublicKey: key(task), reason: task.reason })),
    errorCode: request.errorCode,
    errorMessage: request.errorMessage,
  };
}

function assertPayloadSize(body: StoredBody, field: string | null): void {
  const text = field ? body[field] : null;
  // base64 of MAX_PAYLOAD_BYTES; the exact limit is checked on the decoded bytes when it runs
  if (typeof text === 'string' && text.length > Math.ceil(MAX_PAYLOAD_BYTES / 3) * 4 + 4) {
    throw new TsbError('INVALID_PAYLOAD', `${field} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
}

const tooManyOpenRequests = (max: number): TsbError =>
  new TsbError(
    'RATE_LIMITED',
    `the partition has ${max} open requests, as many as it may have (TSB_MAX_OPEN_REQUESTS): wait until ` +
      'some are decided or expire, or cancel some',
  );
