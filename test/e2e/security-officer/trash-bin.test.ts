import { verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule } from '../../helpers/approvers.js';
import {
  createSkaKey,
  P256,
  requestStatus,
  SIGN_ONLY,
  signRequest,
  workflowContext,
} from '../workflow/fixtures.js';
import {
  decide,
  expectTsbError,
  nodeOfficer,
  officerCall,
  propose,
  proposed,
  registerOfficer,
  statementOf,
} from './fixtures.js';

const P = 'binned';
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;
let ctx: TestContext;
const [alice, bob] = [nodeOfficer('alice', 'P-256'), nodeOfficer('bob', 'Ed25519')];
const approver = createApprover('P-256');
const DATA = Buffer.from('trash bin payload');

beforeAll(async () => {
  ctx = await workflowContext(P, { worker: false }, { keyInvalidation: true });
  await registerOfficer(ctx, P, alice);
  await registerOfficer(ctx, P, bob);
});
afterAll(async () => ctx?.close());

const createEc = (label: string) =>
  ctx.call(P, [...KM], {
    method: 'POST',
    url: '/v1/key',
    body: { label, algorithm: 'EC', curveOid: P256, attributes: { ...SIGN_ONLY, destroyable: true } },
  });
const sign = (label: string) =>
  ctx.call(P, [...KO], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: {
      signRequest: {
        payload: DATA.toString('base64'),
        signKeyName: label,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    },
  });
const trash = async () => {
  const response = await officerCall(ctx, P, 'reader', {
    method: 'GET',
    url: '/v1/securityOfficer/invalidatedKeys',
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().keys as { id: string; label: string; algorithm: string; invalidatedAt: string }[];
};
const fourEyes = async (action: string, label: string) => {
  const proposal = await proposed(ctx, P, alice, statementOf(action, { label }, P, ctx.hsm.clock.now()));
  return decide(ctx, P, bob, proposal);
};

describe('key invalidation: the trash bin', () => {
  it('a deleted key looks deleted to every key operation, keeps its label, and its open requests are cancelled', async () => {
    await createSkaKey(
      ctx,
      P,
      'hot',
      { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) },
      {
        attributes: { ...SIGN_ONLY, destroyable: true },
      },
    );
    const attributes = await ctx.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'hot' },
    });
    const { uuid, publicKey } = attributes.json().json;
    const requestId = await signRequest(ctx, P, 'hot');
    expect((await requestStatus(ctx, P, requestId)).status).toBe('PENDING');

    const deleted = await ctx.call(P, [...KM], { method: 'DELETE', url: '/v1/key/hot' });
    expect(deleted.statusCode, deleted.body).toBe(200);

    const cancelled = await requestStatus(ctx, P, requestId);
    expect(cancelled.status).toBe('CANCELLED');
    expect((await ctx.call(P, [...KM], { method: 'GET', url: '/v1/key' })).json()).not.toContain('hot');
    expectTsbError(
      await ctx.call(P, [...KM], { method: 'POST', url: '/v1/key/attributes', body: { label: 'hot' } }),
      404,
      650,
    );
    expectTsbError(await ctx.call(P, [...KM], { method: 'GET', url: '/v1/key/hot/attributes' }), 404, 650);
    expectTsbError(await sign('hot'), 404, 650);
    expectTsbError(
      await ctx.call(P, [...KO], {
        method: 'POST',
        url: '/v1/sign',
        body: {
          signRequest: { payload: 'AA==', signKeyName: 'hot', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
        },
      }),
      404,
      650,
    );
    expectTsbError(
      await ctx.call(P, [...KO], {
        method: 'POST',
        url: '/v1/synchronousBlock',
        body: { blockRequest: { blockKeyName: 'hot' } },
      }),
      404,
      650,
    );
    expectTsbError(
      await ctx.call(P, [...KO], {
        method: 'POST',
        url: '/v1/verify',
        body: {
          verifySignatureRequest: {
            signKeyName: 'hot',
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
            payload: DATA.toString('base64'),
            signature: 'AA==',
          },
        },
      }),
      404,
      650,
    );
    expectTsbError(await ctx.call(P, [...KM], { method: 'DELETE', url: '/v1/key/hot' }), 404, 650);
    expectTsbError(
      await ctx.call(P, [...KM], { method: 'POST', url: '/v1/key/export/plain', body: { label: 'hot' } }),
      404,
      650,
    );
    // the label stays taken
    expectTsbError(await createEc('hot'), 409, 608);

    const listed = await trash();
    expect(listed).toEqual([{ id: uuid, label: 'hot', algorithm: 'EC', invalidatedAt: expect.any(String) }]);
    expect(Math.abs(Date.parse(listed[0]!.invalidatedAt) - Date.now())).toBeLessThan(60_000);
    const stats = await ctx.call(P, ['service'], { method: 'GET', url: '/v1/keystore/statistics' });
    expect(stats.json()).toMatchObject({ invalidatedKeyCount: 1 });

    // restored: active again under a new version, signing with the same key pair
    const restored = await fourEyes('RESTORE_KEY', 'hot');
    expect(restored.json().status, restored.body).toBe('EXECUTED');
    expect(await trash()).toEqual([]);
    const again = await ctx.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'hot' },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().json).toMatchObject({ uuid, publicKey });
    expect(again.json().json.version).toBeGreaterThan(attributes.json().json.version + 1);
    const row = await ctx.prisma.key.findUniqueOrThrow({ where: { id: uuid } });
    expect(row).toMatchObject({ status: 'active', invalidatedAt: null });
  });

  it('purging deletes for good: the label is free again', async () => {
    expect((await createEc('cold')).statusCode).toBe(201);
    const signed = await sign('cold');
    expect(signed.statusCode).toBe(200);
    expect(
      (await ctx.call(P, [...KM], { method: 'POST', url: '/v1/key/deleteKey', body: { label: 'cold' } }))
        .statusCode,
    ).toBe(200);
    expect((await trash()).map((key) => key.label)).toEqual(['cold']);

    const purged = await fourEyes('PURGE_KEY', 'cold');
    expect(purged.json().status, purged.body).toBe('EXECUTED');
    expect(await trash()).toEqual([]);
    expect(await ctx.prisma.key.count({ where: { label: 'cold' } })).toBe(0);
    const recreated = await createEc('cold');
    expect(recreated.statusCode, recreated.body).toBe(201);
    // a new key: the old signature does not verify with it
    const spki = Buffer.from(recreated.json().json.publicKey, 'base64');
    expect(
      verify(
        'sha256',
        DATA,
        { key: spki, format: 'der', type: 'spki' },
        Buffer.from(signed.json().signature, 'base64'),
      ),
    ).toBe(false);
  });

  it('restore and purge refuse a key that is not in the trash (404 / 650), when proposed', async () => {
    expect((await createEc('alive')).statusCode).toBe(201);
    for (const action of ['RESTORE_KEY', 'PURGE_KEY']) {
      for (const label of ['alive', 'never-was']) {
        const statement = statementOf(action, { label }, P, ctx.hsm.clock.now());
        expectTsbError(await propose(ctx, P, alice, statement), 404, 650);
      }
    }
    expect((await sign('alive')).statusCode).toBe(200);
  });

  it('an approved action that can no longer run leaves the proposal FAILED with its error', async () => {
    expect((await createEc('twice')).statusCode).toBe(201);
    expect((await ctx.call(P, [...KM], { method: 'DELETE', url: '/v1/key/twice' })).statusCode).toBe(200);
    const restore = await proposed(
      ctx,
      P,
      alice,
      statementOf('RESTORE_KEY', { label: 'twice' }, P, ctx.hsm.clock.now()),
    );
    const purge = await proposed(
      ctx,
      P,
      alice,
      statementOf('PURGE_KEY', { label: 'twice' }, P, ctx.hsm.clock.now()),
    );
    expect((await decide(ctx, P, bob, purge)).json().status).toBe('EXECUTED');
    const failed = await decide(ctx, P, bob, restore);
    expectTsbError(failed, 404, 650);
    const row = await ctx.prisma.officerProposal.findUniqueOrThrow({ where: { id: restore.id } });
    expect(row).toMatchObject({ status: 'FAILED', errorCode: 650 });
    expect(await ctx.prisma.key.count({ where: { label: 'twice' } })).toBe(0);
  });

  it('purging obeys the policy: refused while object destruction is off (the proposal FAILS)', async () => {
    expect((await createEc('kept')).statusCode).toBe(201);
    expect((await ctx.call(P, [...KM], { method: 'DELETE', url: '/v1/key/kept' })).statusCode).toBe(200);
    const off = await proposed(
      ctx,
      P,
      alice,
      statementOf('SET_POLICY', { allowObjectDestruction: false }, P, ctx.hsm.clock.now()),
    );
    expect((await decide(ctx, P, bob, off)).json().status).toBe('EXECUTED');
    expectTsbError(await fourEyes('PURGE_KEY', 'kept'), 403, 400);
    expect((await trash()).map((key) => key.label)).toEqual(['kept']);
    const on = await proposed(
      ctx,
      P,
      alice,
      statementOf('SET_POLICY', { allowObjectDestruction: true }, P, ctx.hsm.clock.now()),
    );
    expect((await decide(ctx, P, bob, on)).json().status).toBe('EXECUTED');
    expect((await fourEyes('PURGE_KEY', 'kept')).json().status).toBe('EXECUTED');
  });

  it('restoring obeys the policy: refused while the partition is read-only', async () => {
    expect((await createEc('frozen')).statusCode).toBe(201);
    expect((await ctx.call(P, [...KM], { method: 'DELETE', url: '/v1/key/frozen' })).statusCode).toBe(200);
    const setReadOnly = async (readOnly: boolean) => {
      const statement = statementOf('SET_POLICY', { readOnly }, P, ctx.hsm.clock.now());
      const proposal = await proposed(ctx, P, alice, statement);
      expect((await decide(ctx, P, bob, proposal)).json().status).toBe('EXECUTED');
    };
    await setReadOnly(true);
    expectTsbError(await fourEyes('RESTORE_KEY', 'frozen'), 403, 400);
    expect((await trash()).map((key) => key.label)).toEqual(['frozen']);
    await setReadOnly(false);
    expect((await fourEyes('RESTORE_KEY', 'frozen')).json().status).toBe('EXECUTED');
    expect((await sign('frozen')).statusCode).toBe(200);
  });

  it('without key invalidation a deleted key is gone at once (nothing in the trash)', async () => {
    const partition = await ctx.partition('plain');
    await registerOfficer(ctx, 'plain', alice);
    const created = await ctx.call('plain', [...KM], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'gone',
        algorithm: 'EC',
        curveOid: P256,
        attributes: { ...SIGN_ONLY, destroyable: true },
      },
    });
    expect(created.statusCode).toBe(201);
    expect((await ctx.call('plain', [...KM], { method: 'DELETE', url: '/v1/key/gone' })).statusCode).toBe(
      200,
    );
    expect(await ctx.prisma.key.count({ where: { partitionId: partition.id } })).toBe(0);
  });
});
