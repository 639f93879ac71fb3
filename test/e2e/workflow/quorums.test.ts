import { verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  type ListedTask,
  rule,
  type TestApprover,
  taskOf,
  tokenOf,
  waitForStatus,
} from '../../helpers/approvers.js';
import { openssl, withScratch } from '../../helpers/openssl.js';
import {
  approvalBody,
  approveTask,
  type CertificateApprover,
  certificateRule,
  createCertificateApprover,
  createSkaKey,
  evaluated,
  expectTsbError,
  keyPublicKey,
  listWith,
  openTasks,
  postApproval,
  requestStatus,
  signRequest,
  taskFilter,
  unb64,
  verifiesWithKey,
  wholeSecondClock,
  workflowContext,
} from './fixtures.js';

const P = 'quorums';

describe('SKA quorums over HTTP', () => {
  let ctx: TestContext;
  const clock = wholeSecondClock();
  const [a, b, c, d] = [
    createApprover('P-256'),
    createApprover('Ed25519'),
    createApprover('P-256'),
    createApprover('Ed25519'),
  ] as [TestApprover, TestApprover, TestApprover, TestApprover];

  beforeAll(async () => {
    ctx = await workflowContext(P, { clock });
  });
  afterAll(async () => ctx?.close());

  const task = (approver: TestApprover, requestId: string) =>
    taskOf(ctx, P, approver, requestId, { now: clock.now() });
  const approveOk = (approver: TestApprover, requestId: string) =>
    approveTask(ctx, P, approver, requestId, clock.now());
  const executed = async (requestId: string) => {
    const done = await waitForStatus(ctx, P, requestId, ['EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    return done;
  };

  it('2 of 3 in one group: one approval leaves it PENDING, the second signs what node:crypto verifies', async () => {
    await createSkaKey(ctx, P, 'two-of-three', { ruleUse: rule([{ quorum: 2, approvers: [a, b, c] }]) });
    const payload = 'transfer 2 of 3';
    const id = await signRequest(ctx, P, 'two-of-three', payload);
    const fresh = await requestStatus(ctx, P, id);
    expect(fresh.status).toBe('PENDING');
    expect(fresh.notYetApprovedBy.sort()).toEqual([a, b, c].map((x) => x.publicKey).sort());
    expect(fresh.result).toBeNull();

    await approveOk(a, id);
    const half = await evaluated(ctx, P, id);
    expect(half.status).toBe('PENDING');
    expect(half.approvedBy).toEqual([a.publicKey]);
    expect(half.notYetApprovedBy.sort()).toEqual([b.publicKey, c.publicKey].sort());
    expect(half.result).toBeNull();

    await approveOk(b, id);
    const done = await executed(id);
    expect((done['approvedBy'] as string[]).sort()).toEqual([a.publicKey, b.publicKey].sort());
    expect(done['notYetApprovedBy']).toEqual([c.publicKey]);
    expect(done['executionTime']).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/));
    const spki = await keyPublicKey(ctx, P, 'two-of-three');
    const signature = unb64(String(done['result']));
    const key = { key: spki, format: 'der' as const, type: 'spki' as const };
    expect(verify('sha256', Buffer.from(payload), key, signature)).toBe(true);
    expect(verify('sha256', Buffer.from(`${payload}!`), key, signature)).toBe(false);
    // the third approver's task is gone with the request
    expect(await openTasks(ctx, P, c, clock.now(), { requestId: id })).toEqual([]);
  });

  it('two groups are AND-ed: one complete group is not enough', async () => {
    await createSkaKey(ctx, P, 'two-groups', {
      ruleUse: rule([
        { quorum: 2, approvers: [a, b] },
        { quorum: 1, approvers: [c, d] },
      ]),
    });
    const id = await signRequest(ctx, P, 'two-groups');
    await approveOk(a, id);
    await approveOk(b, id);
    const firstGroupDone = await evaluated(ctx, P, id);
    expect(firstGroupDone.status).toBe('PENDING');
    expect(firstGroupDone.approvedBy).toHaveLength(2);
    await approveOk(d, id);
    await executed(id);
  });

  it('two tokens are OR-ed: either token alone completes the request', async () => {
    await createSkaKey(ctx, P, 'two-tokens', {
      ruleUse: {
        tokens: [
          tokenOf([{ quorum: 1, approvers: [a] }], { name: 'first' }),
          tokenOf([{ quorum: 2, approvers: [b, c] }], { name: 'second' }),
        ],
      },
    });
    const byFirst = await signRequest(ctx, P, 'two-tokens', 'first token');
    await approveOk(a, byFirst);
    await executed(byFirst);

    const bySecond = await signRequest(ctx, P, 'two-tokens', 'second token');
    await approveOk(b, bySecond);
    expect((await evaluated(ctx, P, bySecond)).status).toBe('PENDING');
    await approveOk(c, bySecond);
    const done = await executed(bySecond);
    expect(done['notYetApprovedBy']).toEqual([a.publicKey]);
  });

  it('an approver in two groups has one task, and its approval counts once in each group', async () => {
    await createSkaKey(ctx, P, 'shared-approver', {
      ruleUse: rule([
        { quorum: 2, approvers: [a, b] },
        { quorum: 1, approvers: [a, c] },
      ]),
    });
    const id = await signRequest(ctx, P, 'shared-approver');
    const tasksOfA = await openTasks(ctx, P, a, clock.now(), { requestId: id });
    expect(tasksOfA).toHaveLength(1);
    expect((await requestStatus(ctx, P, id)).notYetApprovedBy).toHaveLength(3);
    await approveOk(a, id);
    // group 2 is met by a; group 1 has a's one approval of the two it needs
    expect((await evaluated(ctx, P, id)).status).toBe('PENDING');
    await approveOk(b, id);
    const done = await executed(id);
    expect(done['notYetApprovedBy']).toEqual([c.publicKey]);
  });

  it('P-256, P-384, secp256k1, Ed25519 and RSA-2048 approvers each approve (5 of 5)', async () => {
    const mixed = (['P-256', 'P-384', 'secp256k1', 'Ed25519', 'RSA-2048'] as const).map((kind) =>
      createApprover(kind),
    );
    await createSkaKey(ctx, P, 'mixed-kinds', { ruleUse: rule([{ quorum: 5, approvers: mixed }]) });
    const id = await signRequest(ctx, P, 'mixed-kinds');
    for (const [index, approver] of mixed.entries()) {
      await approveOk(approver, id);
      if (index < mixed.length - 1) {
        const status = await evaluated(ctx, P, id);
        expect(status.status, approver.kind).toBe('PENDING');
        expect(status.approvedBy, approver.kind).toHaveLength(index + 1);
        expect(status.approvedBy, approver.kind).toContain(approver.publicKey);
      }
    }
    const done = await executed(id);
    expect((done['approvedBy'] as string[]).sort()).toEqual(mixed.map((x) => x.publicKey).sort());
  });

  it('concurrent approvals and evaluations run the operation exactly once', async () => {
    await createSkaKey(ctx, P, 'once', { ruleUse: rule([{ quorum: 1, approvers: [a, b, c] }]) });
    const id = await signRequest(ctx, P, 'once');
    const approvers = [a, b, c];
    const tasks = await Promise.all(approvers.map((approver) => task(approver, id)));
    const responses = await Promise.all(
      approvers.map((approver, index) => approve(ctx, P, approver, tasks[index]!)),
    );
    // the first decision met the rule; the others were taken or found the request no longer pending
    expect(responses.some((response) => response.statusCode === 200)).toBe(true);
    for (const response of responses) expect([200, 409], response.body).toContain(response.statusCode);
    const { engine } = ctx.app.workflow;
    await Promise.all([engine.evaluate(id), engine.evaluate(id), engine.execute(id), engine.sweep()]);
    const done = await executed(id);
    await Promise.all([engine.evaluate(id), engine.execute(id)]);
    expect((await requestStatus(ctx, P, id)).result).toBe(done['result']);
    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    const key = await ctx.prisma.key.findFirstOrThrow({
      where: { partitionId: partition.id, label: 'once' },
    });
    expect(Number(key.useCount)).toBe(1);
  });

  describe('a certificate approver', () => {
    let cert: CertificateApprover;
    beforeAll(async () => {
      cert = await createCertificateApprover(2, 'quorum-cert-approver');
      await createSkaKey(ctx, P, 'cert-approved', { ruleUse: certificateRule(cert, 'cert approver') });
    });

    /** The certificate approver's task, listed with approverCertificate. */
    const certificateTask = async (requestId: string): Promise<ListedTask> => {
      const filter = taskFilter(cert, clock.now(), {
        approverPublicKey: null,
        approverCertificate: cert.certificate,
        requestId,
      });
      const response = await listWith(ctx, P, filter);
      expect(response.statusCode, response.body).toBe(200);
      const tasks = response.json().tasks as ListedTask[];
      expect(tasks).toHaveLength(1);
      // the task names the certificate's public key
      expect(tasks[0]!['approverPublicKey']).toBe(cert.publicKey);
      return tasks[0]!;
    };
    const certificateApproval = (found: ListedTask) =>
      approvalBody(cert, found, { approverPublicKey: null, approverCertificate: cert.certificate });

    it('approves with approverCertificate within the validity', async () => {
      clock.set(new Date(Math.floor(Date.now() / 1000) * 1000));
      const id = await signRequest(ctx, P, 'cert-approved', 'certified payload');
      const response = await postApproval(ctx, P, certificateApproval(await certificateTask(id)));
      expect(response.statusCode, response.body).toBe(200);
      const done = await executed(id);
      expect(done['approvedBy']).toEqual([cert.publicKey]);
      expect(
        await verifiesWithKey(
          ctx,
          P,
          'cert-approved',
          Buffer.from('certified payload'),
          unb64(String(done['result'])),
        ),
      ).toBe(true);
    });

    it('is refused with errorCode 402 when the clock is after notAfter or before notBefore; nothing is recorded', async () => {
      const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      clock.set(createdAt);
      const id = await signRequest(ctx, P, 'cert-approved', 'late or early');
      const found = await certificateTask(id);

      for (const moment of [
        new Date(cert.notAfter.getTime() + 60_000),
        new Date(cert.notBefore.getTime() - 60_000),
      ]) {
        clock.set(moment);
        const refused = await postApproval(ctx, P, certificateApproval(found));
        expectTsbError(refused, 400, 402);
        // the same key named by approverPublicKey does not get around the check
        expectTsbError(await postApproval(ctx, P, approvalBody(cert, found)), 400, 402);
        const status = await evaluated(ctx, P, id);
        expect(status.status).toBe('PENDING');
        expect(status.approvedBy).toEqual([]);
      }

      // nor does a certificate of the approver's own making, for the same key and valid now
      clock.set(new Date(cert.notAfter.getTime() + 60_000));
      const ownMade = await withScratch(async (dir) => {
        await writeFile(path.join(dir, 'key.pem'), cert.privateKey.export({ format: 'pem', type: 'pkcs8' }));
        await openssl(
          [
            'req',
            '-x509',
            '-new',
            '-key',
            'key.pem',
            '-days',
            '30',
            '-subj',
            '/CN=own',
            '-outform',
            'DER',
            '-out',
            'own.der',
          ],
          dir,
        );
        return (await readFile(path.join(dir, 'own.der'))).toString('base64');
      });
      const bypass = { ...certificateApproval(found), approverCertificate: ownMade };
      expectTsbError(await postApproval(ctx, P, bypass), 400, 402);
      expect((await evaluated(ctx, P, id)).approvedBy).toEqual([]);

      clock.set(new Date(createdAt.getTime() + 60_000));
      const accepted = await postApproval(ctx, P, certificateApproval(found));
      expect(accepted.statusCode, accepted.body).toBe(200);
      expect((await executed(id))['approvedBy']).toEqual([cert.publicKey]);
    });
  });
});
