import { verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { approve, createApprover, rule, taskOf, waitForStatus } from '../../helpers/approvers.js';

describe('SKA workflow smoke', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ worker: true });
    await ctx.partition('p1');
  });
  afterAll(async () => ctx?.close());

  it('signs after 2 of 3 approvals', async () => {
    const approvers = [createApprover('P-256'), createApprover('Ed25519'), createApprover('RSA-2048')];
    const created = await ctx.call('p1', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'ska-1',
        algorithm: 'EC',
        curveOid: '1.2.840.10045.3.1.7',
        attributes: { decrypt: false, sign: true, unwrap: false },
        policy: { ruleUse: rule([{ quorum: 2, approvers }]), keyStatus: { blocked: false } },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const payload = Buffer.from('pay 100 CHF').toString('base64');
    const sign = await ctx.call('p1', ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: { signRequest: { payload, signKeyName: 'ska-1', signatureAlgorithm: 'SHA256_WITH_ECDSA' } },
    });
    expect(sign.statusCode, sign.body).toBe(201);
    const { signRequestId } = sign.json();
    const first = await approve(
      ctx,
      'p1',
      approvers[0]!,
      await taskOf(ctx, 'p1', approvers[0]!, signRequestId),
    );
    expect(first.statusCode, first.body).toBe(200);
    expect((await waitForStatus(ctx, 'p1', signRequestId, ['PENDING']))['approvedBy']).toHaveLength(1);
    const second = await approve(
      ctx,
      'p1',
      approvers[2]!,
      await taskOf(ctx, 'p1', approvers[2]!, signRequestId),
    );
    expect(second.statusCode, second.body).toBe(200);
    const done = await waitForStatus(ctx, 'p1', signRequestId, ['EXECUTED', 'FAILED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    const keyInfo = await ctx.call('p1', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'ska-1' },
    });
    const spki = Buffer.from(keyInfo.json().json.publicKey, 'base64');
    const publicKey = { key: spki, format: 'der' as const, type: 'spki' as const };
    expect(
      verify(
        'sha256',
        Buffer.from(payload, 'base64'),
        publicKey,
        Buffer.from(String(done['result']), 'base64'),
      ),
    ).toBe(true);
  });
});
