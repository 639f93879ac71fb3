/**
 * Approvers without an API credential (issue 14): as in the TSB (the docs' SKA Python sample sends no
 * credential to the task listing and /v1/approval), the approver's signature authenticates it: over a fresh
 * timestamp (used once) to list, over the challenge to approve, over the rejection message to reject. It sees
 * exactly the tasks whose frozen approver set holds its key, in every partition that allows this (the default).
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { createApprover, rule, type TestApprover } from '../../helpers/approvers.js';
import {
  approvalBody,
  b64,
  createSkaKey,
  expectTsbError,
  listWith,
  postApproval,
  requestStatus,
  signRequest,
  taskFilter,
  unb64,
  verifiesWithKey,
  workflowContext,
} from './fixtures.js';

const A = 'keyless-a';
const B = 'keyless-b';
const C = 'keyless-c-credentials-only';
const JSON_ONLY = { 'content-type': 'application/json' };

/** What the docs' sample sends: JSON, no Authorization, no X-API-KEY. */
function withoutCredential(
  ctx: TestContext,
  method: 'POST' | 'DELETE',
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return ctx.app.inject({
    method,
    url,
    headers: { ...JSON_ONLY, ...headers },
    payload: JSON.stringify(body),
  });
}

/** The sample's listing body: a fresh timestamp with milliseconds and Z, signed by the approver key. */
function sampleFilter(approver: TestApprover, requestId?: string, at = new Date()) {
  return taskFilter(approver, at, {
    ...(requestId ? { requestId } : {}),
    detailLevel: 'level1',
    paging: { pageNumber: 0, pageSize: 10, sortOrder: 'CREATION_DATE_ASC' },
  });
}

async function listWithoutCredential(ctx: TestContext, approver: TestApprover, requestId?: string) {
  const response = await withoutCredential(
    ctx,
    'POST',
    '/v1/filteredSignApprovalTask',
    sampleFilter(approver, requestId),
  );
  expect(response.statusCode, response.body).toBe(200);
  return response.json().tasks as {
    id: string;
    requestId: string;
    approvalToBeSigned: string;
    partition: string;
  }[];
}

describe('approvers without an API credential', () => {
  let ctx: TestContext;
  const alice = createApprover('Ed25519');
  const bob = createApprover('P-256');
  beforeAll(async () => {
    ctx = await workflowContext(A);
    await ctx.partition(B);
    const c = await ctx.partition(C);
    await ctx.hsm.partitions.updateApproverKeyAuthentication(c.id, false);
    for (const partition of [A, B, C]) {
      await createSkaKey(ctx, partition, 'ska', { ruleUse: rule([{ quorum: 1, approvers: [alice, bob] }]) });
    }
  });
  afterAll(async () => ctx?.close());

  it('lists, approves and reads the result as the docs SKA sample does', async () => {
    const id = await signRequest(ctx, A, 'ska', 'Some Payload');
    const tasks = await listWithoutCredential(ctx, alice, id);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.partition).toBe(A);
    const approved = await withoutCredential(ctx, 'POST', '/v1/approval', approvalBody(alice, tasks[0]!));
    expect(approved.statusCode, approved.body).toBe(200);
    const status = await requestStatus(ctx, A, id);
    expect(status.status).toBe('EXECUTED');
    expect(await verifiesWithKey(ctx, A, 'ska', Buffer.from('Some Payload'), unb64(status.result!))).toBe(
      true,
    );
    const audited = await ctx.prisma.auditEntry.findFirst({
      where: { action: 'POST /v1/approval', requestId: tasks[0]!.id },
    });
    expect(audited?.credentialId).toMatch(/^approverKey:[0-9a-f]{64}$/);
    expect(audited?.partitionId).toBe((await ctx.hsm.partitions.findByName(A))!.id);
  });

  it('rejects without a credential (DELETE /v1/task signed over the rejection message)', async () => {
    const id = await signRequest(ctx, A, 'ska', 'no');
    const [task] = await listWithoutCredential(ctx, bob, id);
    const rejected = await withoutCredential(ctx, 'DELETE', '/v1/task', {
      id: task!.id,
      signature: b64(
        bob.sign(unb64((task as unknown as { rejectionToBeSigned: string }).rejectionToBeSigned)),
      ),
      approvalDigestAlgorithm: bob.digest,
      approverPublicKey: bob.publicKey,
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect((await requestStatus(ctx, A, id)).rejectedBy).toEqual([bob.publicKey]);
  });

  it('shows a key in two partitions the tasks of both, named, but none of a partition that wants credentials', async () => {
    const inA = await signRequest(ctx, A, 'ska', 'two-a');
    const inB = await signRequest(ctx, B, 'ska', 'two-b');
    const inC = await signRequest(ctx, C, 'ska', 'two-c');
    const listed = await listWithoutCredential(ctx, alice);
    const mine = new Map(listed.map((task) => [task.requestId, task.partition]));
    expect(mine.get(inA)).toBe(A);
    expect(mine.get(inB)).toBe(B);
    expect(mine.has(inC)).toBe(false);
    // deciding on the task of C without a credential is refused, with its own approver's valid signature
    const cTask = (await (await listWith(ctx, C, taskFilter(alice, new Date(), { requestId: inC }))).json())
      .tasks[0];
    expectTsbError(
      await withoutCredential(ctx, 'POST', '/v1/approval', approvalBody(alice, cTask)),
      401,
      406,
    );
    // with a credential of C it works as before
    expect((await postApproval(ctx, C, approvalBody(alice, cTask))).statusCode).toBe(200);
  });

  it('takes a signed timestamp once: a replayed listing is refused', async () => {
    const body = sampleFilter(alice);
    expect((await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', body)).statusCode).toBe(200);
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', body), 401, 404);
  });

  it('refuses unsigned, forged and stale listings', async () => {
    const mallory = createApprover('P-256');
    const forged = { ...sampleFilter(mallory), approverPublicKey: alice.publicKey };
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', forged), 400, 403);
    const unsigned = { ...sampleFilter(alice), timestampSignature: '' };
    expect((await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', unsigned)).statusCode).toBe(
      400,
    );
    const stale = sampleFilter(alice, undefined, new Date(Date.now() - 3_600_000));
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', stale), 401, 404);
    const { timestampSignature: _, ...withoutSignature } = sampleFilter(alice);
    expect(
      (await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', withoutSignature)).statusCode,
    ).toBe(400);
  });

  it('gives no way to probe task ids: unknown and foreign tasks answer alike, a bad signature decides nothing', async () => {
    const id = await signRequest(ctx, A, 'ska', 'probe');
    const [task] = await listWithoutCredential(ctx, alice, id);
    const mallory = createApprover('P-256');
    const unknown = await withoutCredential(
      ctx,
      'POST',
      '/v1/approval',
      approvalBody(mallory, { id: randomUUID(), approvalToBeSigned: task!.approvalToBeSigned }),
    );
    expectTsbError(unknown, 404, 652);
    const foreign = await withoutCredential(ctx, 'POST', '/v1/approval', approvalBody(mallory, task!));
    expectTsbError(foreign, 404, 652);
    expect(foreign.json().message).toBe(unknown.json().message.replace(/task \S+/, `task ${task!.id}`));
    // alice's public key with mallory's signature
    const forged = approvalBody(mallory, task!, { approverPublicKey: alice.publicKey });
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/approval', forged), 400, 403);
    expect((await requestStatus(ctx, A, id)).status).toBe('PENDING');
    expect((await requestStatus(ctx, A, id)).approvedBy).toEqual([]);
  });

  it('an outsider replaying or re-aiming a keyless approval decides nothing more', async () => {
    const key = await ctx.prisma.key.findFirstOrThrow({
      where: { label: 'ska', partition: { name: A } },
    });
    // alice's approval, replayed: the task is decided once, the key used once
    const first = await signRequest(ctx, A, 'ska', 'replayed');
    const [aliceTask] = await listWithoutCredential(ctx, alice, first);
    const body = approvalBody(alice, aliceTask!);
    expect((await withoutCredential(ctx, 'POST', '/v1/approval', body)).statusCode).toBe(200);
    const usesAfter = (await ctx.prisma.key.findUniqueOrThrow({ where: { id: key.id } })).useCount;
    const replayed = await withoutCredential(ctx, 'POST', '/v1/approval', body);
    expect([400, 404, 409]).toContain(replayed.statusCode);
    expect((await ctx.prisma.key.findUniqueOrThrow({ where: { id: key.id } })).useCount).toBe(usesAfter);

    // alice's signature aimed at bob's task of a new request: with alice's key it is not her task, with
    // bob's key the signature is not his
    const second = await signRequest(ctx, A, 'ska', 're-aimed');
    const [bobTask] = await listWithoutCredential(ctx, bob, second);
    const [aliceSecond] = await listWithoutCredential(ctx, alice, second);
    const aimed = approvalBody(alice, aliceSecond!, { id: bobTask!.id });
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/approval', aimed), 404, 652);
    const asBob = approvalBody(alice, aliceSecond!, {
      id: bobTask!.id,
      approverPublicKey: bob.publicKey,
      approvalDigestAlgorithm: bob.digest,
    });
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/approval', asBob), 400, 403);
    // alice's signature over the first request's challenge, sent for her task of the second request
    const stale = approvalBody(alice, aliceTask!, { id: aliceSecond!.id });
    const staleAnswer = await withoutCredential(ctx, 'POST', '/v1/approval', stale);
    expect(staleAnswer.statusCode).toBe(400);
    const status = await requestStatus(ctx, A, second);
    expect(status.status).toBe('PENDING');
    expect(status.approvedBy).toEqual([]);
  });

  it('gives a request without credential nothing beyond the approver endpoints', async () => {
    for (const url of ['/v1/synchronousSign', '/v1/sign', '/v1/filteredRequests', '/v1/key/attributes']) {
      const response = await withoutCredential(ctx, 'POST', url, {});
      expect(response.statusCode, url).toBe(401);
    }
  });

  it('never lets a timestamp signer work without a credential', async () => {
    const body = { ...sampleFilter(alice), timestampSigningCertificate: b64('not a certificate') };
    expectTsbError(await withoutCredential(ctx, 'POST', '/v1/filteredAllApprovalTask', body), 403, 405);
  });

  it('checks a credential that is presented: a bad one is 401, not a fall-back to the key', async () => {
    const response = await withoutCredential(
      ctx,
      'POST',
      '/v1/filteredAllApprovalTask',
      sampleFilter(alice),
      {
        'x-api-key': 'tsb-x-token_wrong',
      },
    );
    expect(response.statusCode).toBe(401);
  });

  it('keeps separation of duties for a requester that presents its credential', async () => {
    const id = await signRequest(ctx, A, 'ska', 'self');
    const [task] = await listWithoutCredential(ctx, alice, id);
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/approval',
      headers: { ...JSON_ONLY, ...(await ctx.as(A, ['keyOperation'])) },
      payload: JSON.stringify(approvalBody(alice, task!)),
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('approvers without an API credential: rate limit per client address', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({
      // a fixed window of an hour: five requests cannot straddle two windows on a slow machine
      env: { TSB_RATE_LIMIT_UNAUTHENTICATED_MAX: '3', TSB_RATE_LIMIT_WINDOW_SECONDS: '3600' },
    });
    // from another address: until the limiter's and the timestamps' Redis connections are up (a loaded
    // machine may take a moment), such a listing is 503 and the limiter counts nothing
    const warmUp = createApprover('P-256');
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/v1/filteredAllApprovalTask',
        remoteAddress: '198.51.100.99',
        headers: JSON_ONLY,
        payload: JSON.stringify(sampleFilter(warmUp, undefined, new Date(Date.now() - attempt * 1000))),
      });
      if (response.statusCode === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  afterAll(async () => ctx?.close());

  it('answers 429 past the unauthenticated budget of the address', async () => {
    const approver = createApprover('P-256');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await withoutCredential(
        ctx,
        'POST',
        '/v1/filteredAllApprovalTask',
        sampleFilter(approver, undefined, new Date(Date.now() - i * 1000)),
      );
      statuses.push(response.statusCode);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});
