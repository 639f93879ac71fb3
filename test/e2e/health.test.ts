import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { commandPartitions } from '../../src/command-services.js';
import { SoftHsm } from '../../src/hsm/soft-hsm.js';
import { MASTER_KEY_MISMATCH } from '../../src/observability/readiness.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { approve, createApprover, rule, taskOf } from '../helpers/approvers.js';

describe('/readyz reports Redis without taking the API out of service', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    // nothing listens on port 1: Redis is unreachable from the start
    ctx = await createTestContext({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    await ctx.partition('no-redis');
  });
  afterAll(async () => ctx?.close());

  it('is degraded (200) with redis unreachable, and synchronous operations still work', async () => {
    const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'degraded',
      checks: { database: 'ok', redis: 'unreachable', masterKey: 'loaded' },
    });
    const created = await ctx.call('no-redis', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: { label: 'k', algorithm: 'ED', attributes: { decrypt: false, sign: true, unwrap: false } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const signed = await ctx.call('no-redis', ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: { signRequest: { payload: 'AA==', signKeyName: 'k', signatureAlgorithm: 'EDDSA' } },
    });
    expect(signed.statusCode, signed.body).toBe(200);
  });

  it('moves an approved request on without Redis: the approval handler evaluates it itself', async () => {
    const approver = createApprover('Ed25519');
    const created = await ctx.call('no-redis', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'ska',
        algorithm: 'ED',
        attributes: { decrypt: false, sign: true, unwrap: false },
        policy: { ruleUse: rule([{ quorum: 1, approvers: [approver] }]), keyStatus: { blocked: false } },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const requested = await ctx.call('no-redis', ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: { signRequest: { payload: 'AA==', signKeyName: 'ska', signatureAlgorithm: 'EDDSA' } },
    });
    expect(requested.statusCode, requested.body).toBe(201);
    const { signRequestId } = requested.json();
    const approved = await approve(
      ctx,
      'no-redis',
      approver,
      await taskOf(ctx, 'no-redis', approver, signRequestId),
    );
    expect(approved.statusCode, approved.body).toBe(200);
    const status = await ctx.call('no-redis', ['keyOperation'], {
      method: 'GET',
      url: `/v1/request/${signRequestId}`,
    });
    expect(status.json().status).toBe('EXECUTED');
  });

  it('is unavailable (503) when the master key does not open the stored partition keys', async () => {
    const wrongKey = new SoftHsm({ prisma: ctx.prisma, masterKey: randomBytes(32), keyCacheSize: 10 });
    const app = await buildApp({ config: ctx.config, prisma: ctx.prisma, hsm: wrongKey, logger: false });
    try {
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({
        status: 'unavailable',
        checks: { database: 'ok', redis: 'unreachable', masterKey: `${MASTER_KEY_MISMATCH}: no-redis` },
      });
      // the right key over the same database is loaded
      expect((await ctx.app.inject({ method: 'GET', url: '/readyz' })).json().checks.masterKey).toBe(
        'loaded',
      );
    } finally {
      await app.close();
      await wrongKey.close();
    }
  });

  it('is unavailable (503) when one partition was sealed under a second master key, naming it', async () => {
    // what a tsb run with another data folder did before the master key check: a partition the service cannot open
    await commandPartitions(ctx.prisma, randomBytes(32)).create('stray');
    const hsm = new SoftHsm({ prisma: ctx.prisma, masterKey: ctx.masterKey, keyCacheSize: 10 });
    const app = await buildApp({ config: ctx.config, prisma: ctx.prisma, hsm, logger: false });
    try {
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.masterKey).toBe(`${MASTER_KEY_MISMATCH}: stray`);
    } finally {
      await app.close();
      await hsm.close();
      await ctx.prisma.partition.delete({ where: { name: 'stray' } });
    }
  });

  it('is ready with every check ok when Redis answers', async () => {
    const healthy = await createTestContext();
    try {
      const ready = await healthy.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', redis: 'ok', masterKey: 'loaded' },
      });
    } finally {
      await healthy.close();
    }
  });
});
