import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  rule,
  type TestApprover,
  taskOf,
  waitForStatus,
} from '../../helpers/approvers.js';
import {
  approveTask,
  asyncRequest,
  b64,
  createSkaKey,
  expectTsbError,
  keyAttributes,
  requestStatus,
  signRequest,
  synchronousSign,
  workflowContext,
} from './fixtures.js';

const P = 'status-changes';

describe('block, unblock and modify through their SKA rules', () => {
  let ctx: TestContext;
  const [user, guard, admin, newcomer] = [
    createApprover('P-256'),
    createApprover('Ed25519'),
    createApprover('P-256'),
    createApprover('Ed25519'),
  ] as [TestApprover, TestApprover, TestApprover, TestApprover];
  const one = (approver: TestApprover) => rule([{ quorum: 1, approvers: [approver] }]);

  beforeAll(async () => {
    ctx = await workflowContext(P);
  });
  afterAll(async () => ctx?.close());

  const syncSign = (keyName: string) => synchronousSign(ctx, P, keyName);
  const approveOk = (approver: TestApprover, id: string) => approveTask(ctx, P, approver, id);
  const executed = async (id: string) => {
    const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED', 'CANCELLED', 'REJECTED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
  };
  const policyNow = async (label: string) => {
    const response = await keyAttributes(ctx, P, label);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().json.policy;
  };
  const block = (keyName: string) =>
    asyncRequest(ctx, P, '/v1/block', { blockRequest: { blockKeyName: keyName } }, 'blockKeyRequestId');
  const unblock = (keyName: string) =>
    asyncRequest(
      ctx,
      P,
      '/v1/unblock',
      { unblockRequest: { unblockKeyName: keyName } },
      'unblockKeyRequestId',
    );
  const modify = (keyName: string, policy: unknown) =>
    asyncRequest(
      ctx,
      P,
      '/v1/modify',
      { modifyRequest: { modifyKeyName: keyName, policy } },
      'modifyKeyRequestId',
      ['keyManagement'],
    );
  const sync = (url: string, body: unknown, roles: ('keyOperation' | 'keyManagement')[] = ['keyOperation']) =>
    ctx.call(P, roles, { method: 'POST', url, body });

  it('POST /v1/block under ruleBlock blocks after approval (sync sign then 614, open requests cancelled); /v1/unblock likewise', async () => {
    await createSkaKey(ctx, P, 'guarded', {
      ruleBlock: one(guard),
      ruleUnblock: one(guard),
      ruleModify: one(admin),
    });
    expect((await syncSign('guarded')).statusCode).toBe(200);
    const openModify = await modify('guarded', {
      ruleUse: null,
      ruleBlock: null,
      ruleUnblock: one(guard),
      ruleModify: one(admin),
    });

    const blockId = await block('guarded');
    expect((await requestStatus(ctx, P, blockId)).status).toBe('PENDING');
    expect((await syncSign('guarded')).statusCode).toBe(200); // not blocked before the approval
    await approveOk(guard, blockId);
    await executed(blockId);

    expectTsbError(await syncSign('guarded'), 403, 614);
    expect((await policyNow('guarded')).keyStatus).toEqual({ blocked: true });
    const cancelled = await requestStatus(ctx, P, openModify);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.errorMessage).toMatch(/blocked/);
    // no new sign request on a blocked key
    const refused = await ctx.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: {
        signRequest: { payload: b64('x'), signKeyName: 'guarded', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
      },
    });
    expectTsbError(refused, 403, 614);

    const unblockId = await unblock('guarded');
    expect((await requestStatus(ctx, P, unblockId)).status).toBe('PENDING');
    expectTsbError(await syncSign('guarded'), 403, 614);
    await approveOk(guard, unblockId);
    await executed(unblockId);
    expect((await syncSign('guarded')).statusCode).toBe(200);
    expect((await policyNow('guarded')).keyStatus).toEqual({ blocked: false });
  });

  it('POST /v1/modify under ruleModify changes the policy after approval and cancels the other open requests', async () => {
    await createSkaKey(ctx, P, 'modified', { ruleUse: one(user), ruleModify: one(admin) });
    const openSign = await signRequest(ctx, P, 'modified');
    const newPolicy = {
      ruleUse: rule([{ quorum: 1, approvers: [user, newcomer] }]),
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: one(admin),
    };
    const id = await modify('modified', newPolicy);
    expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
    // nothing changes before the approval
    expect((await policyNow('modified')).ruleUse.tokens[0].groups[0].approvals).toHaveLength(1);
    await approveOk(admin, id);
    await executed(id);

    const policy = await policyNow('modified');
    expect(policy.ruleUse.tokens[0].groups[0].approvals.map((x: { value: string }) => x.value)).toEqual([
      user.publicKey,
      newcomer.publicKey,
    ]);
    expect(policy.ruleModify.tokens[0].groups[0].approvals[0].value).toBe(admin.publicKey);
    expect(policy.keyStatus).toEqual({ blocked: false });

    const cancelled = await requestStatus(ctx, P, openSign);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.errorMessage).toMatch(/policy changed/);
    // a new request follows the new policy: the newcomer alone can approve it
    const fresh = await signRequest(ctx, P, 'modified');
    await approveOk(newcomer, fresh);
    await executed(fresh);
  });

  it('empty rules execute at once: block, unblock and modify are EXECUTED when POST answers 201', async () => {
    await createSkaKey(ctx, P, 'free', {});
    const blockId = await block('free');
    const blocked = await requestStatus(ctx, P, blockId);
    expect(blocked.status).toBe('EXECUTED');
    expect(blocked.notYetApprovedBy).toEqual([]);
    expectTsbError(await syncSign('free'), 403, 614);

    const unblockId = await unblock('free');
    expect((await requestStatus(ctx, P, unblockId)).status).toBe('EXECUTED');
    expect((await syncSign('free')).statusCode).toBe(200);

    const modifyId = await modify('free', {
      ruleUse: one(user),
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
    });
    expect((await requestStatus(ctx, P, modifyId)).status).toBe('EXECUTED');
    expect((await policyNow('free')).ruleUse.tokens[0].groups[0].approvals[0].value).toBe(user.publicKey);
    expectTsbError(await syncSign('free'), 403, 401);
  });

  it('synchronousBlock / Unblock / Modify succeed on empty rules and are refused (403 / 401) when the rule needs approval', async () => {
    await createSkaKey(ctx, P, 'sync-free', {});
    await createSkaKey(ctx, P, 'sync-gated', {
      ruleBlock: one(guard),
      ruleUnblock: one(guard),
      ruleModify: one(admin),
    });
    const blockBody = (name: string) => ({ blockRequest: { blockKeyName: name } });
    const unblockBody = (name: string) => ({ unblockRequest: { unblockKeyName: name } });
    const modifyBody = (name: string, ruleUse: unknown) => ({
      modifyRequest: {
        modifyKeyName: name,
        policy: { ruleUse, ruleBlock: null, ruleUnblock: null, ruleModify: null },
      },
    });

    expect((await sync('/v1/synchronousBlock', blockBody('sync-free'))).statusCode).toBe(200);
    expectTsbError(await syncSign('sync-free'), 403, 614);
    expect((await sync('/v1/synchronousUnblock', unblockBody('sync-free'))).statusCode).toBe(200);
    expect((await syncSign('sync-free')).statusCode).toBe(200);
    const modified = await sync('/v1/synchronousModify', modifyBody('sync-free', one(user)), [
      'keyManagement',
    ]);
    expect(modified.statusCode, modified.body).toBe(200);
    expect((await policyNow('sync-free')).ruleUse.tokens[0].groups[0].approvals[0].value).toBe(
      user.publicKey,
    );

    const before = await ctx.keySnapshot();
    expectTsbError(await sync('/v1/synchronousBlock', blockBody('sync-gated')), 403, 401);
    expectTsbError(await sync('/v1/synchronousUnblock', unblockBody('sync-gated')), 403, 401);
    expectTsbError(
      await sync('/v1/synchronousModify', modifyBody('sync-gated', null), ['keyManagement']),
      403,
      401,
    );
    expect(await ctx.keySnapshot()).toBe(before);
    expect((await syncSign('sync-gated')).statusCode).toBe(200);
  });

  it('synchronousBlock cancels the key’s open requests', async () => {
    await createSkaKey(ctx, P, 'sync-blocked', { ruleUse: one(user) });
    const open = await signRequest(ctx, P, 'sync-blocked');
    expect(
      (await sync('/v1/synchronousBlock', { blockRequest: { blockKeyName: 'sync-blocked' } })).statusCode,
    ).toBe(200);
    const cancelled = await requestStatus(ctx, P, open);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.errorMessage).toMatch(/blocked/);
  });

  it('deleting the key (POST /v1/key/deleteKey) cancels its open requests', async () => {
    await createSkaKey(
      ctx,
      P,
      'doomed',
      { ruleUse: one(user) },
      {
        attributes: { decrypt: false, sign: true, unwrap: false, destroyable: true },
      },
    );
    const open = await signRequest(ctx, P, 'doomed');
    const found = await taskOf(ctx, P, user, open);
    const deleted = await ctx.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/deleteKey',
      body: { label: 'doomed' },
    });
    expect(deleted.statusCode, deleted.body).toBe(200);
    const cancelled = await requestStatus(ctx, P, open);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.errorMessage).toMatch(/destroyed/);
    expectTsbError(await approve(ctx, P, user, found), 409, 500);
    expect((await requestStatus(ctx, P, open)).status).toBe('CANCELLED');
  });
});
