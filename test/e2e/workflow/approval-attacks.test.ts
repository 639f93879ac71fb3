import { createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../../src/auth/api-keys.js';
import type { Role } from '../../../src/auth/roles.js';
import { readDerSignature, writeDerSignature } from '../../../src/crypto/signatures/signature-encoding.js';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import { decodeChallenge } from '../../../src/ska/challenge-decoder.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  type ListedTask,
  listTasks,
  rule,
  type TestApprover,
  taskOf,
  waitForStatus,
} from '../../helpers/approvers.js';
import { issueTestToken } from '../../helpers/tokens.js';
import {
  approvalBody,
  approveTask,
  asyncRequest,
  b64,
  createSkaKey,
  evaluated,
  expectTsbError,
  openTasks,
  postApproval,
  type RequestView,
  requestStatus,
  signRequest,
  unb64,
} from './fixtures.js';

const P = 'attacked';
const OTHER = 'other-partition';

/**
 * Each attack is refused with its status and errorCode, and stores nothing: the request stays PENDING
 * with the same approvals.
 */
describe('approval attacks', () => {
  let ctx: TestContext;
  const [a, b, c, stranger] = [
    createApprover('P-256'),
    createApprover('Ed25519'),
    createApprover('P-256'),
    createApprover('P-256'),
  ] as [TestApprover, TestApprover, TestApprover, TestApprover];

  beforeAll(async () => {
    ctx = await createTestContext({ worker: true });
    await ctx.partition(P);
    await ctx.partition(OTHER);
    await createSkaKey(ctx, P, 'target', { ruleUse: rule([{ quorum: 2, approvers: [a, b, c] }]) });
    await createSkaKey(ctx, OTHER, 'target', { ruleUse: rule([{ quorum: 1, approvers: [a] }]) });
  });
  afterAll(async () => ctx?.close());

  const task = (approver: TestApprover, id: string) => taskOf(ctx, P, approver, id);
  /** The request looks exactly as before the attack (after the engine looked at it again). */
  const unchanged = async (id: string, before: RequestView) => {
    const after = await evaluated(ctx, P, id);
    expect(after.status).toBe('PENDING');
    expect(after.approvedBy.sort()).toEqual(before.approvedBy.sort());
    expect(after.rejectedBy).toEqual(before.rejectedBy);
    expect(after.notYetApprovedBy.sort()).toEqual(before.notYetApprovedBy.sort());
  };
  const refused = async (
    id: string,
    attack: () => Promise<LightMyRequestResponse>,
    status: number,
    errorCode: number,
  ) => {
    const before = await requestStatus(ctx, P, id);
    const logged = await auditedFailures(status, errorCode);
    expectTsbError(await attack(), status, errorCode);
    await unchanged(id, before);
    // the refusal is in the audit log, with its status and errorCode, before the answer is sent
    expect(await auditedFailures(status, errorCode)).toBe(logged + 1);
  };
  const auditedFailures = (statusCode: number, errorCode: number) =>
    ctx.prisma.auditEntry.count({ where: { outcome: 'failure', statusCode, errorCode } });
  /** The row of key `label` in partition P. */
  const keyRow = async (label: string) => {
    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    return ctx.prisma.key.findFirstOrThrow({ where: { partitionId: partition.id, label } });
  };
  const usesOf = async (label: string) => Number((await keyRow(label)).useCount);
  /** A sign request on `keyName` created with `headers`: its id. */
  const signRequestAs = async (headers: Record<string, string>, keyName: string) => {
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/sign',
      headers,
      payload: {
        signRequest: { payload: b64('mine'), signKeyName: keyName, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    return created.json().signRequestId as string;
  };

  it('replaying an approval (same signature and challenge) onto another request’s task is refused', async () => {
    const first = await signRequest(ctx, P, 'target', 'first');
    const second = await signRequest(ctx, P, 'target', 'second');
    const firstTask = await task(a, first);
    const secondTask = await task(a, second);
    const firstApproval = approvalBody(a, firstTask);
    // the whole approval of the first request, aimed at a's task of the second
    await refused(second, () => postApproval(ctx, P, { ...firstApproval, id: secondTask.id }), 400, 403);
    // the first request's signature with the second request's challenge
    await refused(
      second,
      () =>
        postApproval(ctx, P, {
          ...firstApproval,
          id: secondTask.id,
          approvalToBeSigned: secondTask.approvalToBeSigned,
        }),
      400,
      403,
    );
    expect(firstTask.approvalToBeSigned).not.toBe(secondTask.approvalToBeSigned);
    // the approval itself is good for the request it was made for
    expect((await postApproval(ctx, P, firstApproval)).statusCode).toBe(200);
    expect((await evaluated(ctx, P, first)).approvedBy).toEqual([a.publicKey]);
  });

  it('a forged signature is refused', async () => {
    const id = await signRequest(ctx, P, 'target');
    const found = await task(a, id);
    await refused(
      id,
      () => postApproval(ctx, P, approvalBody(a, found, { signature: b64(randomBytes(72)) })),
      400,
      403,
    );
    // signed by another key but claiming a's public key
    await refused(
      id,
      () => postApproval(ctx, P, approvalBody(stranger, found, { approverPublicKey: a.publicKey })),
      400,
      403,
    );
  });

  it('a key outside the frozen policy sees no task and cannot approve one', async () => {
    const id = await signRequest(ctx, P, 'target');
    expect(await openTasks(ctx, P, stranger, new Date())).toEqual([]);
    const found = await task(a, id);
    await refused(id, () => postApproval(ctx, P, approvalBody(stranger, found)), 403, 413);
  });

  it('an approver cannot approve another approver’s task', async () => {
    const id = await signRequest(ctx, P, 'target');
    const tasksOfA = await task(a, id);
    await refused(id, () => postApproval(ctx, P, approvalBody(b, tasksOfA)), 403, 413);
  });

  it('an empty or malformed task id is 400 / 609; an unknown one 404 / 652', async () => {
    const id = await signRequest(ctx, P, 'target');
    const found = await task(a, id);
    await refused(id, () => postApproval(ctx, P, approvalBody(a, found, { id: '' })), 400, 609);
    await refused(id, () => postApproval(ctx, P, approvalBody(a, found, { id: 'task-1' })), 400, 609);
    await refused(id, () => postApproval(ctx, P, approvalBody(a, found, { id: randomUUID() })), 404, 652);
    const rejection = (taskId: string) =>
      ctx.call(P, ['approver'], {
        method: 'DELETE',
        url: '/v1/task',
        body: {
          id: taskId,
          signature: b64(a.sign(unb64(found.rejectionToBeSigned))),
          approvalDigestAlgorithm: a.digest,
          approverPublicKey: a.publicKey,
        },
      });
    await refused(id, () => rejection(''), 400, 609);
    await refused(id, () => rejection(randomUUID()), 404, 652);
  });

  it('a duplicate approval is 409 / 500 and counts once', async () => {
    const id = await signRequest(ctx, P, 'target');
    const found = await task(a, id);
    expect((await approve(ctx, P, a, found)).statusCode).toBe(200);
    expect((await evaluated(ctx, P, id)).approvedBy).toEqual([a.publicKey]);
    await refused(id, () => approve(ctx, P, a, found), 409, 500);
    // and the decided task is no longer listed
    expect(await openTasks(ctx, P, a, new Date(), { requestId: id })).toEqual([]);
  });

  it('an ECDSA approval re-encoded (trailing byte, long-form length) is refused; its mirror (r, n − s) counts once', async () => {
    const id = await signRequest(ctx, P, 'target');
    const found = await task(a, id);
    const der = unb64(approvalBody(a, found).signature);
    const { r, s } = readDerSignature(der)!;
    // the same (r, s) in encodings that are not DER: each is refused as a bad signature
    const longForm = Buffer.concat([Buffer.of(0x30, 0x81, der[1]!), der.subarray(2)]);
    for (const signature of [Buffer.concat([der, Buffer.of(0)]), longForm]) {
      await refused(
        id,
        () => postApproval(ctx, P, approvalBody(a, found, { signature: b64(signature) })),
        400,
        403,
      );
    }
    // ECDSA's mirror signature is valid for the same challenge, so it may decide the task once, not twice
    const mirror = b64(writeDerSignature({ r, s: p256.Point.Fn.ORDER - s }));
    const challenge = unb64(found.approvalToBeSigned);
    expect(
      verify(
        'sha256',
        challenge,
        createPublicKey({ key: unb64(a.publicKey), format: 'der', type: 'spki' }),
        unb64(mirror),
      ),
    ).toBe(true);
    expect((await postApproval(ctx, P, approvalBody(a, found))).statusCode).toBe(200);
    await refused(id, () => postApproval(ctx, P, approvalBody(a, found, { signature: mirror })), 409, 500);
    expect((await evaluated(ctx, P, id)).approvedBy).toEqual([a.publicKey]);
  });

  it('the JWT that created a request cannot approve it (403 / 400); another credential can', async () => {
    const headers = await ctx.as(P, ['keyOperation', 'approver']);
    const id = await signRequestAs(headers, 'target');
    const body = approvalBody(a, await task(a, id));
    await refused(
      id,
      () => ctx.app.inject({ method: 'POST', url: '/v1/approval', headers, payload: body }),
      403,
      400,
    );
    expect((await postApproval(ctx, P, body)).statusCode).toBe(200);
    expect((await evaluated(ctx, P, id)).approvedBy).toEqual([a.publicKey]);
  });

  it('another token of the same subject cannot approve either; a token of another subject can', async () => {
    const bearer = async (roles: Role[], subject: string) => ({
      authorization: `Bearer ${await issueTestToken(ctx.config, P, roles, subject)}`,
    });
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/sign',
      headers: await bearer(['keyOperation'], 'alice'),
      payload: {
        signRequest: {
          payload: b64('alice pays'),
          signKeyName: 'target',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().signRequestId as string;
    const body = approvalBody(c, await task(c, id));
    const post = async (subject: string) =>
      ctx.app.inject({
        method: 'POST',
        url: '/v1/approval',
        headers: await bearer(['approver'], subject),
        payload: body,
      });
    await refused(id, () => post('alice'), 403, 400);
    expect((await post('bob')).statusCode).toBe(200);
  });

  it('a subject holding a comma (an X.500 name) is one principal: the token that created a request cannot approve it (403 / 400)', async () => {
    // the creator's principals are stored as one string; "CN=alice,O=acme" must not read back as "CN=alice" and "O=acme"
    const headers = {
      authorization: `Bearer ${await issueTestToken(ctx.config, P, ['keyOperation', 'approver'], 'CN=alice,O=acme')}`,
    };
    const id = await signRequestAs(headers, 'target');
    const body = approvalBody(a, await task(a, id));
    await refused(
      id,
      () => ctx.app.inject({ method: 'POST', url: '/v1/approval', headers, payload: body }),
      403,
      400,
    );
    const stored = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    expect(stored.createdBy).toBe('sub:CN=alice%2CO=acme');
    // a subject that is only a part of the creator's is somebody else, and may approve
    const part = await ctx.app.inject({
      method: 'POST',
      url: '/v1/approval',
      headers: { authorization: `Bearer ${await issueTestToken(ctx.config, P, ['approver'], 'CN=alice')}` },
      payload: body,
    });
    expect(part.statusCode, part.body).toBe(200);
    expect((await evaluated(ctx, P, id)).approvedBy).toEqual([a.publicKey]);
  });

  it('a challenge whose partition signature was changed in the database does not run, though its approvers signed it', async () => {
    // the HSM's gate remembers the partition signatures this process made and verified: a changed one must
    // be verified afresh, and fail
    const id = await signRequest(ctx, P, 'target', 'tampered');
    const stored = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    const challenge = Buffer.from(stored.challenge);
    const signature = decodeChallenge(challenge).timestampSignature!;
    const at = challenge.indexOf(signature);
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(challenge);
    tampered[at + signature.length - 1]! ^= 0x01;
    await ctx.prisma.skaRequest.update({ where: { id }, data: { challenge: tampered } });

    await approveTask(ctx, P, a, id);
    await approveTask(ctx, P, b, id);
    const ended = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']);
    expect(ended['status']).toBe('FAILED');
    expect(String(ended['errorMessage'])).toContain('not signed by this partition');
    expect(ended['result'] ?? null).toBeNull();
  });

  it('an API key that created a request cannot approve it, even beside another key (403 / 400)', async () => {
    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    const operator = await createApiKey(ctx.prisma, partition.id, 'keyOperation');
    const approverKey = await createApiKey(ctx.prisma, partition.id, 'approver');
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/sign',
      headers: { 'x-api-key': operator.key },
      payload: {
        signRequest: {
          payload: b64('by api key'),
          signKeyName: 'target',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().signRequestId as string;
    const body = approvalBody(b, await task(b, id));
    await refused(
      id,
      () =>
        ctx.app.inject({
          method: 'POST',
          url: '/v1/approval',
          headers: { 'x-api-key': `${approverKey.key}, ${operator.key}` },
          payload: body,
        }),
      403,
      400,
    );
    const accepted = await ctx.app.inject({
      method: 'POST',
      url: '/v1/approval',
      headers: { 'x-api-key': approverKey.key },
      payload: body,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
  });

  it('listing tasks with a stale or a future timestamp is 401 / 404; with a foreign signature 400 / 403', async () => {
    const id = await signRequest(ctx, P, 'target');
    expect(await openTasks(ctx, P, a, new Date(), { requestId: id })).toHaveLength(1);
    expectTsbError(await listTasks(ctx, P, a, { now: new Date(Date.now() - 601_000) }), 401, 404);
    expectTsbError(await listTasks(ctx, P, a, { now: new Date(Date.now() + 5_000) }), 401, 404);
    const timestamp = new Date().toISOString();
    const foreign = await ctx.call(P, ['approver'], {
      method: 'POST',
      url: '/v1/filteredAllApprovalTask',
      body: {
        timestamp,
        timestampSignature: b64(stranger.sign(Buffer.from(timestamp))),
        timestampDigestAlgorithm: 'SHA-256',
        approverPublicKey: a.publicKey,
      },
    });
    expectTsbError(foreign, 400, 403);
  });

  it('another partition’s request: its tasks are invisible here, and approving its task id is 404 / 652', async () => {
    const elsewhere = await signRequest(ctx, OTHER, 'target', 'elsewhere');
    const foreignTask: ListedTask = await taskOf(ctx, OTHER, a, elsewhere);
    const here = await openTasks(ctx, P, a, new Date());
    expect(here.map((t) => t.requestId)).not.toContain(elsewhere);
    expect(here.map((t) => t.id)).not.toContain(foreignTask.id);
    expectTsbError(await approve(ctx, P, a, foreignTask), 404, 652);
    expectTsbError(
      await ctx.call(P, ['keyOperation'], { method: 'GET', url: `/v1/request/${elsewhere}` }),
      404,
      651,
    );
    const there = await evaluated(ctx, OTHER, elsewhere);
    expect(there.status).toBe('PENDING');
    expect(there.approvedBy).toEqual([]);
  });

  describe('the approver set is frozen when the request is created', () => {
    /** the key's ruleModify approver: policy changes of "frozen" run after its approval */
    const keeper = createApprover('P-256');
    const ruleModify = rule([{ quorum: 1, approvers: [keeper] }]);
    const modifyNow = async (ruleUse: unknown) => {
      const id = await asyncRequest(
        ctx,
        P,
        '/v1/modify',
        { modifyRequest: { modifyKeyName: 'frozen', policy: { ruleUse, ruleModify } } },
        'modifyKeyRequestId',
        ['keyManagement'],
      );
      await approveTask(ctx, P, keeper, id);
      expect((await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']))['status']).toBe('EXECUTED');
    };

    it('adding an approver to the policy cancels the open request instead of letting the newcomer in', async () => {
      await createSkaKey(ctx, P, 'frozen', { ruleUse: rule([{ quorum: 1, approvers: [a] }]), ruleModify });
      const id = await signRequest(ctx, P, 'frozen');
      const taskOfA = await task(a, id);
      await modifyNow(rule([{ quorum: 1, approvers: [a, stranger] }]));
      const status = await requestStatus(ctx, P, id);
      expect(status.status).toBe('CANCELLED');
      expect(status.notYetApprovedBy).toEqual([a.publicKey]);
      expect(await openTasks(ctx, P, stranger, new Date(), { requestId: id })).toEqual([]);
      expectTsbError(await postApproval(ctx, P, approvalBody(stranger, taskOfA)), 409, 500);
      expectTsbError(await approve(ctx, P, a, taskOfA), 409, 500);
      expect((await requestStatus(ctx, P, id)).approvedBy).toEqual([]);
    });

    it('an approver removed from the policy gets no task of a new request and cannot approve it', async () => {
      await modifyNow(rule([{ quorum: 1, approvers: [stranger] }]));
      const id = await signRequest(ctx, P, 'frozen');
      expect(await openTasks(ctx, P, a, new Date(), { requestId: id })).toEqual([]);
      const newcomerTask = await task(stranger, id);
      await refused(id, () => postApproval(ctx, P, approvalBody(a, newcomerTask)), 403, 413);
      expect((await approve(ctx, P, stranger, newcomerTask)).statusCode).toBe(200);
      expect((await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']))['status']).toBe('EXECUTED');
    });
  });
  describe('attacks on the workflow shortcuts', () => {
    const usesOfTarget = () => usesOf('target');

    it('a decision whose read-back shows the quorum complete does not run a request cancelled meanwhile', async () => {
      const id = await signRequest(ctx, P, 'target', 'stale read-back');
      await approveTask(ctx, P, a, id);
      // b's decision, recorded as the approve route records it: its read-back shows 2 of 2, PENDING
      const body = approvalBody(b, await task(b, id));
      const seen = await new RequestsRepository(ctx.prisma).decide(body.id, {
        decision: 'APPROVED',
        signature: unb64(body.signature),
        digestAlgorithm: body.approvalDigestAlgorithm,
        decidedAt: new Date(),
      });
      expect(seen?.status).toBe('PENDING');
      expect(seen?.tasks.filter((t) => t.decision === 'APPROVED')).toHaveLength(2);
      // the request is cancelled before the approving request goes on from its read-back
      const { engine } = ctx.app.workflow;
      expect(
        await engine.cancel({ id, partitionId: seen!.partitionId }, 'cancelled during the approval'),
      ).toBe(true);
      const uses = await usesOfTarget();
      // the operation must not even run (its result would be refused by the completion's own condition)
      const completions = vi.spyOn(RequestsRepository.prototype, 'completeExecution');
      try {
        await engine.evaluate(id, seen!);
        expect(completions).not.toHaveBeenCalled();
      } finally {
        completions.mockRestore();
      }
      const after = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
      expect(after.status).toBe('CANCELLED');
      expect(after.result).toBeNull();
      expect(after.executedAt).toBeNull();
      expect(await usesOfTarget()).toBe(uses);
    });

    it('a forged ending notification only ends a wait: the request stays as it is, and its status says so', async () => {
      const id = await signRequest(ctx, P, 'target', 'forged ending');
      const repository = new RequestsRepository(ctx.prisma);
      const claimedAt = new Date();
      // about to run: approved and claimed by a worker elsewhere (which has not stored anything yet)
      expect(
        await repository.transition(id, 'PENDING', {
          status: 'APPROVED',
          executableAt: claimedAt,
          executionClaimedAt: claimedAt,
        }),
      ).toBe(true);
      const { engine } = ctx.app.workflow;
      try {
        // the first wait only starts listening
        await engine.awaitExecution(randomUUID(), 50);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const started = performance.now();
        const waited = engine.awaitExecution(id, 10_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
        // anyone with a database connection can send one
        await ctx.prisma.$executeRaw`SELECT pg_notify('opentsb_request_ended', ${id})`;
        await waited;
        expect(performance.now() - started).toBeLessThan(5_000);
        const status = await requestStatus(ctx, P, id);
        expect(status.status).toBe('APPROVED');
        expect(status.result ?? null).toBeNull();
        const row = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
        expect(row.executionClaimedAt?.getTime()).toBe(claimedAt.getTime());
        expect(row.executedAt).toBeNull();
      } finally {
        await repository.transition(
          id,
          'APPROVED',
          { status: 'CANCELLED', errorMessage: 'end of test' },
          { executionClaimedAt: claimedAt },
        );
      }
    });
  });

  describe('attacks on an approval that approves and runs its request by itself (its own statement)', () => {
    // either a or b alone approves "solo": each approval goes through the statement that approves and claims
    beforeAll(async () => {
      await createSkaKey(ctx, P, 'solo', { ruleUse: rule([{ quorum: 1, approvers: [a, b] }]) });
    });
    const useCount = () => usesOf('solo');

    it('a replayed approval, or a valid one aimed at the other approver’s task, approves nothing', async () => {
      const [first, second] = [
        await signRequest(ctx, P, 'solo', 'one'),
        await signRequest(ctx, P, 'solo', 'two'),
      ];
      const [firstOfA, secondOfA, secondOfB] = [
        await task(a, first),
        await task(a, second),
        await task(b, second),
      ];
      const used = await useCount();
      // the first request's whole approval, aimed at the second request's task
      await refused(
        second,
        () => postApproval(ctx, P, { ...approvalBody(a, firstOfA), id: secondOfA.id }),
        400,
        403,
      );
      // a's valid approval of the second request, with b's task id
      await refused(
        second,
        () => postApproval(ctx, P, { ...approvalBody(a, secondOfA), id: secondOfB.id }),
        403,
        413,
      );
      // signed by a stranger, claiming a's key
      await refused(
        second,
        () => postApproval(ctx, P, approvalBody(stranger, secondOfA, { approverPublicKey: a.publicKey })),
        400,
        403,
      );
      expect(await useCount()).toBe(used);
      // the approval is good for its own request only: that one runs, the other stays as it was
      expect((await postApproval(ctx, P, approvalBody(a, firstOfA))).statusCode).toBe(200);
      expect((await requestStatus(ctx, P, first)).status).toBe('EXECUTED');
      expect((await evaluated(ctx, P, second)).status).toBe('PENDING');
      expect(await useCount()).toBe(used + 1);
    });

    it('a credential without the approver role, or the one that created the request, approves nothing', async () => {
      const id = await signRequest(ctx, P, 'solo', 'roles');
      const body = approvalBody(b, await task(b, id));
      await refused(
        id,
        () => ctx.call(P, ['keyOperation'], { method: 'POST', url: '/v1/approval', body }),
        403,
        400,
      );
      const headers = await ctx.as(P, ['keyOperation', 'approver']);
      const own = await signRequestAs(headers, 'solo');
      const ownBody = approvalBody(a, await task(a, own));
      await refused(
        own,
        () => ctx.app.inject({ method: 'POST', url: '/v1/approval', headers, payload: ownBody }),
        403,
        400,
      );
      // another credential's approval of the same body runs it
      expect((await postApproval(ctx, P, ownBody)).statusCode).toBe(200);
      expect((await requestStatus(ctx, P, own)).status).toBe('EXECUTED');
    });

    it('both approvers, each enough alone, approving at once: the request runs once', async () => {
      for (let round = 0; round < 4; round++) {
        const payload = `both at once ${round}`;
        const id = await signRequest(ctx, P, 'solo', payload);
        const tasks = [await task(a, id), await task(b, id)];
        const used = await useCount();
        const responses = await Promise.all([
          postApproval(ctx, P, approvalBody(a, tasks[0]!)),
          postApproval(ctx, P, approvalBody(b, tasks[1]!)),
        ]);
        const codes = responses.map((response) => response.statusCode);
        expect(
          codes.every((code) => code === 200 || code === 409),
          responses.map((r) => r.body).join('\n'),
        ).toBe(true);
        expect(codes).toContain(200);
        const done = await requestStatus(ctx, P, id);
        expect(done.status).toBe('EXECUTED');
        expect(await useCount()).toBe(used + 1);
        const signature = unb64(String(done.result));
        const key = await keyRow('solo');
        expect(
          verify(
            'sha256',
            Buffer.from(payload),
            createPublicKey({ key: Buffer.from(key.publicKey!), format: 'der', type: 'spki' }),
            signature,
          ),
        ).toBe(true);
      }
    });
  });
});
