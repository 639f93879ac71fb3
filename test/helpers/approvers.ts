/**
 * Approvers for workflow tests: key pairs made with node:crypto, and the HTTP steps an approver takes
 * (sign a fresh timestamp and list tasks, sign a challenge and approve, sign the rejection message).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { type SelfComputedInput, selfComputedChallenge } from '../../src/ska/challenge-encoder.js';
import { encodeSignedApproval } from '../../src/ska/signed-approval.js';
import type { TestContext } from './app.js';

export type ApproverKind = 'P-256' | 'P-384' | 'secp256k1' | 'Ed25519' | 'RSA-2048';

export interface TestApprover {
  kind: ApproverKind;
  privateKey: KeyObject;
  /** base64 SPKI DER, as the policy and the API carry it */
  publicKey: string;
  /** the digest name sent with its signatures */
  digest: string;
  sign(data: Uint8Array): Buffer;
}

export function createApprover(kind: ApproverKind = 'P-256'): TestApprover {
  const { publicKey, privateKey } =
    kind === 'Ed25519'
      ? generateKeyPairSync('ed25519')
      : kind === 'RSA-2048'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', {
            namedCurve: kind === 'P-256' ? 'prime256v1' : kind === 'P-384' ? 'secp384r1' : 'secp256k1',
          });
  const algorithm = kind === 'Ed25519' ? null : 'sha256';
  return {
    kind,
    privateKey,
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    digest: kind === 'Ed25519' ? 'EdDSA' : 'SHA-256',
    sign: (data) => sign(algorithm, data, privateKey),
  };
}

/** A rule of one token with the given groups (each a quorum and its approvers). */
export function rule(
  groups: { quorum: number; approvers: TestApprover[] }[],
  token: { timelock?: number; timeout?: number; name?: string } = {},
) {
  return { tokens: [tokenOf(groups, token)] };
}

export function tokenOf(
  groups: { quorum: number; approvers: TestApprover[] }[],
  { timelock = 0, timeout = 0, name = 'main' }: { timelock?: number; timeout?: number; name?: string } = {},
) {
  return {
    name,
    timelock,
    timeout,
    groups: groups.map((group, index) => ({
      name: `group${index + 1}`,
      quorum: group.quorum,
      approvals: group.approvers.map((approver, n) => ({
        type: 'public_key',
        name: `approver${index + 1}.${n + 1}`,
        value: approver.publicKey,
      })),
    })),
  };
}

export const APPROVER_ROLE = ['approver'] as const;

/**
 * One `signedApprovals` entry (docs/approval-challenge.md, "Pre-signed approvals"): the approver's
 * signature over a self-computed challenge with a fresh nonce; `signer` signs instead (a forgery).
 */
export function presignedApproval(
  approver: TestApprover,
  input: SelfComputedInput,
  signer: TestApprover = approver,
): string {
  const challenge = selfComputedChallenge(input);
  return encodeSignedApproval({
    approvalToBeSigned: challenge,
    signature: signer.sign(challenge),
    approvalDigestAlgorithm: signer.digest,
    approverPublicKey: Buffer.from(approver.publicKey, 'base64'),
  });
}

/** Lists the approver's tasks through `path`, signing a fresh timestamp. */
export async function listTasks(
  ctx: TestContext,
  partition: string,
  approver: TestApprover,
  options: { path?: string; detailLevel?: string; now?: Date; requestId?: string } = {},
): Promise<LightMyRequestResponse> {
  const timestamp = (options.now ?? new Date()).toISOString();
  return ctx.call(partition, ['approver'], {
    method: 'POST',
    url: options.path ?? '/v1/filteredAllApprovalTask',
    body: {
      timestamp,
      timestampSignature: approver.sign(Buffer.from(timestamp, 'utf8')).toString('base64'),
      timestampDigestAlgorithm: approver.digest,
      approverPublicKey: approver.publicKey,
      detailLevel: options.detailLevel ?? 'level1',
      ...(options.requestId ? { requestId: options.requestId } : {}),
      paging: { pageNumber: 0, pageSize: 100, sortOrder: 'CREATION_DATE_ASC' },
    },
  });
}

export interface ListedTask {
  id: string;
  requestId: string;
  approvalToBeSigned: string;
  rejectionToBeSigned: string;
  [field: string]: unknown;
}

/** The approver's open task of `requestId` (fails the test when there is none). */
export async function taskOf(
  ctx: TestContext,
  partition: string,
  approver: TestApprover,
  requestId: string,
  options: { now?: Date } = {},
): Promise<ListedTask> {
  const response = await listTasks(ctx, partition, approver, { requestId, ...options });
  if (response.statusCode !== 200) throw new Error(`listing tasks: ${response.statusCode} ${response.body}`);
  const task = (response.json().tasks as ListedTask[])[0];
  if (!task) throw new Error(`no open task of request ${requestId} for this approver`);
  return task;
}

export async function approve(
  ctx: TestContext,
  partition: string,
  approver: TestApprover,
  task: ListedTask,
): Promise<LightMyRequestResponse> {
  return ctx.call(partition, ['approver'], {
    method: 'POST',
    url: '/v1/approval',
    body: {
      id: task.id,
      approvalToBeSigned: task.approvalToBeSigned,
      signature: approver.sign(Buffer.from(task.approvalToBeSigned, 'base64')).toString('base64'),
      approvalDigestAlgorithm: approver.digest,
      approverPublicKey: approver.publicKey,
    },
  });
}

export async function reject(
  ctx: TestContext,
  partition: string,
  approver: TestApprover,
  task: ListedTask,
  reason: string,
): Promise<LightMyRequestResponse> {
  return ctx.call(partition, ['approver'], {
    method: 'DELETE',
    url: '/v1/task',
    body: {
      id: task.id,
      signature: approver.sign(Buffer.from(task.rejectionToBeSigned, 'base64')).toString('base64'),
      approvalDigestAlgorithm: approver.digest,
      approverPublicKey: approver.publicKey,
      reason,
    },
  });
}

/** Polls GET /v1/request/{id} until its status is one of `statuses` (or throws after `timeoutMs`). */
export async function waitForStatus(
  ctx: TestContext,
  partition: string,
  requestId: string,
  statuses: string[],
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await ctx.call(partition, ['keyOperation'], {
      method: 'GET',
      url: `/v1/request/${requestId}`,
    });
    const body = response.json() as Record<string, unknown>;
    if (statuses.includes(String(body['status']))) return body;
    if (Date.now() > deadline)
      throw new Error(`request ${requestId} is ${String(body['status'])}, not ${statuses.join('/')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
