import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfficerRegistry } from '../../../src/features/officers/officer-registry.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { ManualClock } from '../../helpers/clock.js';
import {
  decide,
  expectTsbError,
  nodeOfficer,
  officerCall,
  opensslOfficer,
  propose,
  proposed,
  registerOfficer,
  statementOf,
  type TestOfficer,
} from './fixtures.js';

const P = 'guarded';
const P256 = '1.2.840.10045.3.1.7';
let ctx: TestContext;
let clock: ManualClock;
let dir: string;
let alice: TestOfficer; // P-256, signs with the openssl CLI
let bob: TestOfficer; // Ed25519, node:crypto
let carol: TestOfficer; // P-256, revoked in one test
let otherOfficer: TestOfficer; // an officer of another partition

beforeAll(async () => {
  clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  dir = await mkdtemp(path.join(tmpdir(), 'opentsb-officers-'));
  ctx = await createTestContext({ clock, env: { TSB_OFFICER_PROPOSAL_LIFETIME_SECONDS: '600' } });
  await ctx.partition(P);
  await ctx.partition('neighbour');
  [alice, bob, carol, otherOfficer] = [
    await opensslOfficer(dir, 'alice'),
    nodeOfficer('bob', 'Ed25519'),
    nodeOfficer('carol', 'P-256'),
    nodeOfficer('dave', 'P-256'),
  ];
  for (const officer of [alice, bob, carol]) await registerOfficer(ctx, P, officer);
  await registerOfficer(ctx, 'neighbour', otherOfficer);
});
afterAll(async () => {
  await ctx?.close();
  await rm(dir, { recursive: true, force: true });
});

const policy = async () => {
  const response = await officerCall(ctx, P, 'reader', { method: 'GET', url: '/v1/securityOfficer/policy' });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
};
const proposalStatus = async (id: string) => {
  const response = await officerCall(ctx, P, 'reader', {
    method: 'GET',
    url: '/v1/securityOfficer/proposals',
  });
  return (response.json().proposals as { id: string; status: string }[]).find(
    (proposal) => proposal.id === id,
  );
};
const setPolicy = (flags: Record<string, boolean>, at = clock.now(), partition = P) =>
  statementOf('SET_POLICY', flags, partition, at);

describe('four-eyes policy change', () => {
  it('alice (openssl, P-256) proposes, bob (Ed25519) approves: the flag changes and the API obeys it at once', async () => {
    const before = await policy();
    expect(before).toMatchObject({ partition: P, allowKeyExport: false, readOnly: false });
    const created = await ctx.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'before-ro',
        algorithm: 'EC',
        curveOid: P256,
        attributes: { sign: true, decrypt: false, unwrap: false },
      },
    });
    expect(created.statusCode).toBe(201);

    const proposal = await proposed(ctx, P, alice, setPolicy({ readOnly: true }));
    expect(proposal).toMatchObject({
      status: 'PENDING',
      action: 'SET_POLICY',
      parameters: { readOnly: true },
      proposedBy: 'alice',
      expiresAt: new Date(clock.now().getTime() + 600_000).toISOString(),
    });
    expect((await policy()).readOnly).toBe(false);

    const approved = await decide(ctx, P, bob, proposal);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'EXECUTED', decidedBy: 'bob' });
    expect((await policy()).readOnly).toBe(true);
    const refused = await ctx.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'after-ro',
        algorithm: 'EC',
        curveOid: P256,
        attributes: { sign: true, decrypt: false, unwrap: false },
      },
    });
    expectTsbError(refused, 403, 400);

    // and back, the other way round (bob proposes, alice approves with openssl)
    const undo = await proposed(ctx, P, bob, setPolicy({ readOnly: false }));
    const undone = await decide(ctx, P, alice, undo);
    expect(undone.json().status, undone.body).toBe('EXECUTED');
    expect((await policy()).readOnly).toBe(false);
  });

  it('lists proposals with the statement, what to sign, the status and the expiry', async () => {
    const statement = setPolicy({ allowKeyExport: true });
    const proposal = await proposed(ctx, P, alice, statement);
    const listed = await officerCall(ctx, P, 'reader', {
      method: 'GET',
      url: '/v1/securityOfficer/proposals',
    });
    const entry = listed.json().proposals.find((p: { id: string }) => p.id === proposal.id);
    expect(Buffer.from(entry.statement, 'base64')).toEqual(statement);
    expect(Buffer.from(entry.approvalToBeSigned, 'base64').toString()).toBe(`APPROVE:${statement}`);
    expect(Buffer.from(entry.rejectionToBeSigned, 'base64').toString()).toBe(`REJECT:${statement}`);
    expect(entry).toMatchObject({ status: 'PENDING', proposedBy: 'alice', decidedBy: null });
  });

  it('a rejection with a reason ends the proposal; it can no longer be approved', async () => {
    const proposal = await proposed(ctx, P, alice, setPolicy({ allowObjectUsage: false }));
    const rejected = await decide(ctx, P, bob, proposal, { reject: 'not during business hours' });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({ status: 'REJECTED', reason: 'not during business hours' });
    expectTsbError(await decide(ctx, P, carol, proposal), 409, 500);
    expect((await policy()).allowObjectUsage).toBe(true);
  });

  it('runs once: a second approval is 409', async () => {
    const proposal = await proposed(ctx, P, alice, setPolicy({ allowKeyImport: false }));
    expect((await decide(ctx, P, bob, proposal)).json().status).toBe('EXECUTED');
    expectTsbError(await decide(ctx, P, carol, proposal), 409, 500);
    expect((await policy()).allowKeyImport).toBe(false);
    const back = await proposed(ctx, P, alice, setPolicy({ allowKeyImport: true }));
    expect((await decide(ctx, P, bob, back)).json().status).toBe('EXECUTED');
  });

  it('expires after its lifetime: approving answers 409 and the status shows EXPIRED', async () => {
    const proposal = await proposed(ctx, P, alice, setPolicy({ allowKeyExport: true }));
    clock.advance(601);
    expect((await proposalStatus(proposal.id))?.status).toBe('EXPIRED');
    const late = await decide(ctx, P, bob, proposal);
    expectTsbError(late, 409, 500);
    expect(late.json().message).toMatch(/expired at/);
    expect((await policy()).allowKeyExport).toBe(false);
    const row = await ctx.prisma.officerProposal.findUniqueOrThrow({ where: { id: proposal.id } });
    expect(row.status).toBe('EXPIRED');
  });
});

describe('refusals: the right error, and nothing changes', () => {
  let pending: { id: string; statement: string };
  let before: string;

  beforeAll(async () => {
    pending = await proposed(ctx, P, alice, setPolicy({ allowObjectDestruction: false }));
  });

  const unchanged = async () => {
    expect((await proposalStatus(pending.id))?.status).toBe('PENDING');
    expect(JSON.stringify(await policy())).toBe(before);
  };

  it.each([
    ['the proposer approving their own proposal', 403, 400, () => decide(ctx, P, alice, pending)],
    [
      'another officer on the proposer’s credential (same principal)',
      403,
      400,
      () => decide(ctx, P, bob, pending, { subject: 'alice-login' }),
    ],
    ['a key that is no officer', 403, 413, () => decide(ctx, P, nodeOfficer('mallory', 'Ed25519'), pending)],
    ['an officer of another partition', 403, 413, () => decide(ctx, P, otherOfficer, pending)],
    [
      'a signature over something else',
      400,
      403,
      async () =>
        decide(ctx, P, bob, pending, { signature: await bob.sign(Buffer.from(pending.statement, 'base64')) }),
    ],
    [
      'an approval signature replayed from another proposal',
      400,
      403,
      async () => {
        const other = await proposed(ctx, P, alice, setPolicy({ allowKeyExport: true }));
        const signature = await bob.sign(
          Buffer.concat([Buffer.from('APPROVE:'), Buffer.from(other.statement, 'base64')]),
        );
        return decide(ctx, P, bob, pending, { signature });
      },
    ],
    [
      'a rejection signature offered as approval',
      400,
      403,
      async () => {
        const signature = await bob.sign(
          Buffer.concat([Buffer.from('REJECT:'), Buffer.from(pending.statement, 'base64')]),
        );
        return decide(ctx, P, bob, pending, { signature });
      },
    ],
  ] as const)('refuses %s (%i / %i)', async (_name, status, code, call) => {
    before = JSON.stringify(await policy());
    expectTsbError(await call(), status, code);
    await unchanged();
  });

  it('a subject holding a comma (an X.500 name) is one principal: the proposer’s credential cannot approve or reject (403 / 400)', async () => {
    const subject = 'CN=one person,O=acme';
    const response = await propose(ctx, P, alice, setPolicy({ allowKeyExport: true }), { subject });
    expect(response.statusCode, response.body).toBe(201);
    const byComma = response.json() as { id: string; statement: string };
    before = JSON.stringify(await policy());
    expectTsbError(await decide(ctx, P, bob, byComma, { subject }), 403, 400);
    expectTsbError(await decide(ctx, P, bob, byComma, { subject, reject: 'no' }), 403, 400);
    expect((await proposalStatus(byComma.id))?.status).toBe('PENDING');
    expect(JSON.stringify(await policy())).toBe(before);
    // a subject that is only a part of the proposer's is another person: here it rejects, and is recorded whole
    const byPart = await decide(ctx, P, bob, byComma, { subject: 'CN=one person', reject: 'not now' });
    expect(byPart.statusCode, byPart.body).toBe(200);
    expect((await proposalStatus(byComma.id))?.status).toBe('REJECTED');
    expect(JSON.stringify(await policy())).toBe(before);
    const stored = await ctx.prisma.officerProposal.findUniqueOrThrow({ where: { id: byComma.id } });
    expect([stored.proposerPrincipal, stored.deciderPrincipal]).toEqual([
      'sub:CN=one person%2CO=acme',
      'sub:CN=one person',
    ]);
  });

  it('refuses a revoked officer, as proposer and as approver (403 / 413)', async () => {
    const partition = await ctx.hsm.partitions.requireByName(P);
    const byCarol = await proposed(ctx, P, carol, setPolicy({ allowKeyExport: true }));
    expect(await new OfficerRegistry(ctx.prisma).revoke(partition.id, 'carol', clock.now())).toBe(true);
    before = JSON.stringify(await policy());
    expectTsbError(await propose(ctx, P, carol, setPolicy({ allowKeyExport: true })), 403, 413);
    expectTsbError(await decide(ctx, P, carol, pending), 403, 413);
    // a proposal of an officer revoked since can no longer pass
    const approved = await decide(ctx, P, bob, byCarol);
    expectTsbError(approved, 403, 413);
    expect(approved.json().message).toMatch(/proposing officer/);
    expect((await proposalStatus(byCarol.id))?.status).toBe('PENDING');
    await unchanged();
  });

  it.each([
    [
      'a stale proposedAt',
      401,
      404,
      () => setPolicy({ readOnly: true }, new Date(clock.now().getTime() - 301_000)),
    ],
    [
      'a proposedAt in the future',
      401,
      404,
      () => setPolicy({ readOnly: true }, new Date(clock.now().getTime() + 61_000)),
    ],
    [
      'a statement naming another partition',
      400,
      600,
      () => setPolicy({ readOnly: true }, clock.now(), 'neighbour'),
    ],
    [
      'a statement not in canonical form',
      400,
      600,
      () => Buffer.from(setPolicy({ readOnly: true }).toString().replace('"action":', '"action": ')),
    ],
    ['an unknown flag', 400, 600, () => setPolicy({ sessionObjects: true })],
    ['an unknown action', 400, 600, () => statementOf('DROP_PARTITION', {}, P, clock.now())],
  ] as const)('refuses a proposal with %s (%i / %i)', async (_name, status, code, statement) => {
    const count = await ctx.prisma.officerProposal.count();
    before = JSON.stringify(await policy());
    expectTsbError(await propose(ctx, P, alice, statement()), status, code);
    expect(await ctx.prisma.officerProposal.count()).toBe(count);
    await unchanged();
  });

  it('refuses a proposal whose signature does not verify (400 / 403), and a reused nonce (409 / 500)', async () => {
    const statement = setPolicy({ readOnly: true });
    const forged = await propose(ctx, P, alice, statement, { signature: await bob.sign(statement) });
    expectTsbError(forged, 400, 403);
    const first = await proposed(ctx, P, alice, statement);
    expectTsbError(await propose(ctx, P, bob, statement), 409, 500);
    const rejected = await decide(ctx, P, bob, first, { reject: 'cleanup' });
    expect(rejected.json().status).toBe('REJECTED');
  });

  it("answers 404 for another partition's proposal and refuses a non-officer role", async () => {
    const foreign = await officerCall(ctx, 'neighbour', 'dave-login', {
      method: 'POST',
      url: '/v1/securityOfficer/proposal/approve',
      body: {
        id: pending.id,
        officerPublicKey: otherOfficer.publicKey,
        signature: (await otherOfficer.sign(Buffer.from('x'))).toString('base64'),
      },
    });
    expectTsbError(foreign, 404, 653);
    const asKeyManager = await ctx.call(P, ['keyManagement'], {
      method: 'GET',
      url: '/v1/securityOfficer/proposals',
    });
    expectTsbError(asKeyManager, 403, 400);
  });

  it('refuses an RSA key below 2048 bits as officer key at registration', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'pem',
      type: 'spki',
    });
    await expect(
      registerOfficer(ctx, P, { ...nodeOfficer('weak'), publicKeyPem: weak.toString() }),
    ).rejects.toMatchObject({ errorCode: 601 });
  });
});
