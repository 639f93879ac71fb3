import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signingLaneStats } from '../../../src/crypto/signatures/signing-lane.js';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule, type TestApprover, taskOf } from '../../helpers/approvers.js';
import {
  approvalBody,
  createSkaKey,
  evaluated,
  postApproval,
  requestStatus,
  signRequest,
  unb64,
  workflowContext,
} from './fixtures.js';

// every cheap signature and approver-signature check goes to the signing lane, as under load
vi.mock('../../../src/crypto/signatures/sign-placement.js', () => ({
  signOnCallingThread: () => false,
  signedOnCallingThread: () => {},
}));

const P = 'lane';

/**
 * Approvals checked in the signing lane, where the verifications of one turn share a batch: a forged
 * approval must not borrow the verdict of a valid one beside it.
 */
describe('approvals verified in the signing lane', () => {
  let ctx: TestContext;
  const [a, b, stranger] = [createApprover('P-256'), createApprover('Ed25519'), createApprover('P-256')] as [
    TestApprover,
    TestApprover,
    TestApprover,
  ];

  beforeAll(async () => {
    ctx = await workflowContext(P);
    await createSkaKey(ctx, P, 'solo', { ruleUse: rule([{ quorum: 1, approvers: [a, b] }]) });
  });
  afterAll(async () => ctx?.close());

  it('valid and forged approvals sent at once: each valid one runs its request once, no forged one counts', async () => {
    const before = signingLaneStats().worker;
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) => signRequest(ctx, P, 'solo', `lane ${i}`)),
    );
    const tasksOfA = await Promise.all(ids.map((id) => taskOf(ctx, P, a, id)));
    // even requests: a's valid approval; odd ones: forgeries of a's approval, sent in the same turn
    const forgeries = (i: number) =>
      i % 4 === 1
        ? approvalBody(stranger, tasksOfA[i]!, { approverPublicKey: a.publicKey }) // a stranger signs as a
        : { ...approvalBody(a, tasksOfA[i]!), signature: approvalBody(a, tasksOfA[i - 1]!).signature }; // a's signature of another request
    const responses = await Promise.all(
      ids.map((_, i) => postApproval(ctx, P, i % 2 === 0 ? approvalBody(a, tasksOfA[i]!) : forgeries(i))),
    );
    expect(signingLaneStats().worker).toBeGreaterThan(before);

    const key = await ctx.prisma.key.findFirstOrThrow({ where: { label: 'solo' } });
    expect(Number(key.useCount)).toBe(3);
    for (const [i, id] of ids.entries()) {
      if (i % 2 === 0) {
        expect(responses[i]!.statusCode, responses[i]!.body).toBe(200);
        const done = await requestStatus(ctx, P, id);
        expect(done.status).toBe('EXECUTED');
        const publicKey = createPublicKey({ key: Buffer.from(key.publicKey!), format: 'der', type: 'spki' });
        expect(verify('sha256', Buffer.from(`lane ${i}`), publicKey, unb64(String(done.result)))).toBe(true);
      } else {
        expect(responses[i]!.statusCode, responses[i]!.body).toBe(400);
        const view = await evaluated(ctx, P, id);
        expect(view.status).toBe('PENDING');
        expect(view.approvedBy).toEqual([]);
      }
    }
  });
});
