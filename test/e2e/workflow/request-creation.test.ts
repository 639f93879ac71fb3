import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { createApprover, rule } from '../../helpers/approvers.js';
import { b64, createSkaKey, expectTsbError } from './fixtures.js';

const P = 'creation';

/** What can be known before a request is stored is answered at once, and no request is stored. */
describe('refusals when a request is created', () => {
  let ctx: TestContext;
  const approver = createApprover('P-256');
  const gated = { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) };

  beforeAll(async () => {
    ctx = await createTestContext();
    await ctx.partition(P);
    const frozen = await ctx.partition('frozen');
    await createSkaKey(ctx, P, 'ec-key', gated);
    await createSkaKey(ctx, P, 'locked', gated, { password: 'correct horse' });
    await createSkaKey(ctx, 'frozen', 'ec-key', { ruleBlock: gated.ruleUse });
    await ctx.hsm.partitions.updateFlags(frozen.id, { readOnly: true });
  });
  afterAll(async () => ctx?.close());

  const post = (url: string, body: unknown, partition = P) =>
    ctx.call(partition, ['keyOperation', 'keyManagement'], { method: 'POST', url, body });
  const sign = (fields: Record<string, unknown>) =>
    post('/v1/sign', {
      signRequest: {
        payload: b64('data'),
        signKeyName: 'ec-key',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        ...fields,
      },
    });
  const storedRequests = async () => ctx.prisma.skaRequest.count();

  it.each([
    ['an unknown signature algorithm', { signatureAlgorithm: 'SHA256_WITH_MAGIC' }, 400, 600],
    ['an algorithm of another key type', { signatureAlgorithm: 'SHA256_WITH_RSA' }, 400, 607],
    ['an unknown signature type', { signatureType: 'PEM' }, 400, 600],
    ['a payload that is not base64', { payload: '***' }, 400, 612],
    ['a missing key', { signKeyName: 'nothing-here' }, 404, 650],
    ['a wrong password', { signKeyName: 'locked', keyPassword: 'wrong' }, 403, 620],
  ])('sign with %s is refused', async (_what, fields, status, errorCode) => {
    const before = await storedRequests();
    expectTsbError(await sign(fields), status, errorCode);
    expect(await storedRequests()).toBe(before);
  });

  it('decrypt with an unknown cipher, and modify with an invalid policy, are refused', async () => {
    const before = await storedRequests();
    const decrypt = await post('/v1/decrypt', {
      decryptRequest: { encryptedPayload: b64('x'), decryptKeyName: 'ec-key', cipherAlgorithm: 'ROT13' },
    });
    // the EC key does not decrypt at all: its attribute is checked first
    expectTsbError(decrypt, 403, 614);
    const modify = await post('/v1/modify', {
      modifyRequest: {
        modifyKeyName: 'ec-key',
        policy: { ruleUse: { tokens: [{ name: 't', timelock: 30, timeout: 0, groups: [] }] } },
      },
    });
    expectTsbError(modify, 400, 606);
    expect(await storedRequests()).toBe(before);
  });

  it('a read-only partition refuses block, unblock and modify requests', async () => {
    const block = await post('/v1/block', { blockRequest: { blockKeyName: 'ec-key' } }, 'frozen');
    expectTsbError(block, 403, 400);
    expect(await ctx.prisma.skaRequest.count({ where: { keyLabel: 'ec-key', operation: 'BLOCK' } })).toBe(0);
  });
});
