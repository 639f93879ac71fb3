import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../src/auth/roles.js';
import type { TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  reject,
  rule,
  type TestApprover,
  taskOf,
  tokenOf,
  waitForStatus,
} from '../../helpers/approvers.js';
import { issueTestToken } from '../../helpers/tokens.js';
import {
  approveTask,
  b64,
  createSkaKey,
  evaluated,
  expectTsbError,
  openTasks,
  requestStatus,
  signRequest,
  workflowContext,
} from './fixtures.js';

const P = 'decisions';

describe('rejection and cancellation', () => {
  let ctx: TestContext;
  const [a, b, c] = [createApprover('P-256'), createApprover('Ed25519'), createApprover('P-256')] as [
    TestApprover,
    TestApprover,
    TestApprover,
  ];

  beforeAll(async () => {
    ctx = await workflowContext(P);
    await ctx.partition('elsewhere');
    await createSkaKey(ctx, P, 'two-of-three', { ruleUse: rule([{ quorum: 2, approvers: [a, b, c] }]) });
    await createSkaKey(ctx, P, 'either', {
      ruleUse: {
        tokens: [
          tokenOf([{ quorum: 1, approvers: [a] }], { name: 'by-a' }),
          tokenOf([{ quorum: 1, approvers: [b] }], { name: 'by-b' }),
        ],
      },
    });
  });
  afterAll(async () => ctx?.close());

  const task = (approver: TestApprover, id: string) => taskOf(ctx, P, approver, id);
  const rejectOk = async (approver: TestApprover, id: string, reason: string) => {
    const response = await reject(ctx, P, approver, await task(approver, id), reason);
    expect(response.statusCode, response.body).toBe(200);
  };
  const approveOk = (approver: TestApprover, id: string) => approveTask(ctx, P, approver, id);
  const cancel = (id: string, partition = P) =>
    ctx.call(partition, ['keyOperation'], { method: 'DELETE', url: `/v1/request/${id}` });

  describe('rejection', () => {
    it('REJECTED once rejections leave no token able to reach its quorum; reasons are shown', async () => {
      const id = await signRequest(ctx, P, 'two-of-three');
      const remaining = await task(c, id);
      await rejectOk(a, id, 'amount too high');
      const first = await evaluated(ctx, P, id);
      // b and c can still make 2 of 3
      expect(first.status).toBe('PENDING');
      expect(first.rejectedBy).toEqual([a.publicKey]);
      expect(first.rejections).toEqual([{ approverPublicKey: a.publicKey, reason: 'amount too high' }]);
      expect(first.notYetApprovedBy.sort()).toEqual([b.publicKey, c.publicKey].sort());

      await rejectOk(b, id, 'unknown beneficiary');
      const done = await waitForStatus(ctx, P, id, ['REJECTED', 'EXECUTED']);
      expect(done['status']).toBe('REJECTED');
      // in the order the decisions were made, whatever order the database returns the tasks in
      expect(done['rejectedBy']).toEqual([a.publicKey, b.publicKey]);
      expect(done['rejections']).toEqual([
        { approverPublicKey: a.publicKey, reason: 'amount too high' },
        { approverPublicKey: b.publicKey, reason: 'unknown beneficiary' },
      ]);
      expect(done['approvedBy']).toEqual([]);
      expect(done['notYetApprovedBy']).toEqual([c.publicKey]);
      expect(done['result']).toBeNull();
      // the request takes no further decision, and its tasks are gone
      expectTsbError(await approve(ctx, P, c, remaining), 409, 500);
      expect(await openTasks(ctx, P, c, new Date(), { requestId: id })).toEqual([]);
      expect((await requestStatus(ctx, P, id)).status).toBe('REJECTED');
    });

    it('a rejection that leaves the quorum reachable keeps it PENDING; the others can still approve it', async () => {
      const id = await signRequest(ctx, P, 'two-of-three');
      await approveOk(a, id);
      await rejectOk(b, id, 'not me');
      const status = await evaluated(ctx, P, id);
      expect(status.status).toBe('PENDING');
      expect(status.approvedBy).toEqual([a.publicKey]);
      expect(status.rejectedBy).toEqual([b.publicKey]);
      await approveOk(c, id);
      const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'REJECTED', 'FAILED']);
      expect(done['status']).toBe('EXECUTED');
      expect(done['rejections']).toEqual([{ approverPublicKey: b.publicKey, reason: 'not me' }]);
    });

    it('rejecting one of two OR-ed tokens keeps it PENDING; the other token completes it', async () => {
      const id = await signRequest(ctx, P, 'either');
      await rejectOk(a, id, 'no');
      expect((await evaluated(ctx, P, id)).status).toBe('PENDING');
      await approveOk(b, id);
      expect((await waitForStatus(ctx, P, id, ['EXECUTED', 'REJECTED']))['status']).toBe('EXECUTED');
    });

    it('a rejection without a valid signature is refused and changes nothing', async () => {
      const id = await signRequest(ctx, P, 'either');
      const found = await task(a, id);
      const forged = await ctx.call(P, ['approver'], {
        method: 'DELETE',
        url: '/v1/task',
        body: {
          id: found.id,
          // a signature over the challenge, not over the rejection message
          signature: b64(a.sign(Buffer.from(found.approvalToBeSigned, 'base64'))),
          approvalDigestAlgorithm: a.digest,
          approverPublicKey: a.publicKey,
          reason: 'forged',
        },
      });
      expectTsbError(forged, 400, 403);
      const status = await evaluated(ctx, P, id);
      expect(status.status).toBe('PENDING');
      expect(status.rejectedBy).toEqual([]);
      // b's rejection of a's task is refused too
      const foreign = await reject(ctx, P, b, found, 'not mine');
      expectTsbError(foreign, 403, 413);
      expect((await evaluated(ctx, P, id)).rejectedBy).toEqual([]);
    });
  });

  describe('cancellation (DELETE /v1/request/{id})', () => {
    it('cancels: CANCELLED, tasks gone, approving then is refused with 409 / 500 and changes nothing', async () => {
      const id = await signRequest(ctx, P, 'two-of-three');
      const found = await task(a, id);
      const response = await cancel(id);
      expect(response.statusCode, response.body).toBe(200);
      const cancelled = await requestStatus(ctx, P, id);
      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.errorMessage).toMatch(/cancelled/);
      expect(await openTasks(ctx, P, a, new Date(), { requestId: id })).toEqual([]);

      expectTsbError(await approve(ctx, P, a, found), 409, 500);
      expectTsbError(await reject(ctx, P, a, found, 'too late'), 409, 500);
      const after = await evaluated(ctx, P, id);
      expect(after.status).toBe('CANCELLED');
      expect(after.approvedBy).toEqual([]);
      expect(after.rejectedBy).toEqual([]);
      expect(after.result).toBeNull();
    });

    it('removing an ended request (cancelled or executed) answers 200, keeps its status and drops its result', async () => {
      const id = await signRequest(ctx, P, 'either');
      expect((await cancel(id)).statusCode).toBe(200);
      expect((await cancel(id)).statusCode).toBe(200);
      expect((await requestStatus(ctx, P, id)).status).toBe('CANCELLED');

      const executed = await signRequest(ctx, P, 'either');
      await approveOk(a, executed);
      await waitForStatus(ctx, P, executed, ['EXECUTED']);
      expect((await requestStatus(ctx, P, executed)).result).not.toBeNull();
      // tsb-client-go RemoveRequest and the Vault plugin remove a request once they have read its result
      expect((await cancel(executed)).statusCode).toBe(200);
      const removed = await requestStatus(ctx, P, executed);
      expect(removed.status).toBe('EXECUTED');
      expect(removed.result).toBeNull();
      const row = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id: executed } });
      expect(row.result).toBeNull();
    });

    it('another credential cannot remove an ended request: its result stays', async () => {
      const executed = await signRequest(ctx, P, 'either');
      await approveOk(a, executed);
      await waitForStatus(ctx, P, executed, ['EXECUTED']);
      const byOther = await ctx.app.inject({
        method: 'DELETE',
        url: `/v1/request/${executed}`,
        headers: {
          authorization: `Bearer ${await issueTestToken(ctx.config, P, ['keyOperation'], 'eve')}`,
        },
      });
      expectTsbError(byOther, 403, 400);
      expect((await requestStatus(ctx, P, executed)).result).not.toBeNull();
    });

    /** a fresh token of `subject` (each is a credential of its own; one subject is one principal) */
    const as = async (subject: string, roles: Role[]) => ({
      authorization: `Bearer ${await issueTestToken(ctx.config, P, roles, subject)}`,
    });
    const signRequestAs = async (subject: string, keyName: string) => {
      const created = await ctx.app.inject({
        method: 'POST',
        url: '/v1/sign',
        headers: await as(subject, ['keyOperation']),
        payload: {
          signRequest: {
            payload: b64('pay 5 CHF'),
            signKeyName: keyName,
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      return created.json().signRequestId as string;
    };
    const cancelAs = async (id: string, subject: string, roles: Role[]) =>
      ctx.app.inject({ method: 'DELETE', url: `/v1/request/${id}`, headers: await as(subject, roles) });

    it('another credential of the partition cannot cancel (403 / 400), a keyManagement caller can and is named', async () => {
      const id = await signRequestAs('alice', 'two-of-three');
      expectTsbError(await cancelAs(id, 'mallory', ['keyOperation']), 403, 400);
      expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
      // a caller holding only a role that reads no requests is refused before anything is looked up
      expect((await cancelAs(id, 'mallory', ['approver'])).statusCode).toBe(403);

      const byManager = await cancelAs(id, 'officer-bob', ['keyManagement']);
      expect(byManager.statusCode, byManager.body).toBe(200);
      const cancelled = await requestStatus(ctx, P, id);
      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.errorMessage).toBe('cancelled by keyManagement caller sub:officer-bob');

      const audited = await ctx.prisma.auditEntry.findMany({
        where: { requestId: id, action: 'DELETE /v1/request/:id' },
        orderBy: { sequence: 'asc' },
      });
      expect(audited.map((entry) => [entry.credentialId, entry.statusCode, entry.roles])).toEqual([
        ['jwt:sub:mallory', 403, ['keyOperation']],
        ['jwt:sub:mallory', 403, ['approver']],
        ['jwt:sub:officer-bob', 200, ['keyManagement']],
      ]);
    });

    it('the creator cancels with another token of the same subject (one principal)', async () => {
      const id = await signRequestAs('carol', 'either');
      const again = await cancelAs(id, 'carol', ['keyOperation']);
      expect(again.statusCode, again.body).toBe(200);
      expect((await requestStatus(ctx, P, id)).errorMessage).toBe('cancelled by the requester');
    });

    it('a subject holding a comma is one principal: its creator cancels, a subject that is a part of it cannot', async () => {
      const id = await signRequestAs('CN=carol,O=acme', 'either');
      expectTsbError(await cancelAs(id, 'CN=carol', ['keyOperation']), 403, 400);
      expectTsbError(await cancelAs(id, 'O=acme', ['keyOperation']), 403, 400);
      expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
      const byCreator = await cancelAs(id, 'CN=carol,O=acme', ['keyOperation']);
      expect(byCreator.statusCode, byCreator.body).toBe(200);
      expect((await requestStatus(ctx, P, id)).errorMessage).toBe('cancelled by the requester');
      const audited = await ctx.prisma.auditEntry.findMany({
        where: { requestId: id, action: 'DELETE /v1/request/:id' },
        orderBy: { sequence: 'asc' },
      });
      expect(audited.map((entry) => [entry.credentialId, entry.statusCode])).toEqual([
        ['jwt:sub:CN=carol', 403],
        ['jwt:sub:O=acme', 403],
        ['jwt:sub:CN=carol%2CO=acme', 200],
      ]);
    });

    it('an unknown id is 404 / 651, a malformed one 400 / 609, another partition’s request 404 / 651', async () => {
      expectTsbError(await cancel(randomUUID()), 404, 651);
      expectTsbError(await cancel('not-a-uuid'), 400, 609);
      const id = await signRequest(ctx, P, 'either');
      expectTsbError(await cancel(id, 'elsewhere'), 404, 651);
      const status = await ctx.call('elsewhere', ['keyOperation'], {
        method: 'GET',
        url: `/v1/request/${id}`,
      });
      expectTsbError(status, 404, 651);
      expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
    });
  });
});
