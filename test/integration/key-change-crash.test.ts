import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WorkflowEngine } from '../../src/features/approvals/engine.js';
import type { WorkflowQueue } from '../../src/features/approvals/queue.js';
import { RequestsRepository } from '../../src/features/approvals/requests.repository.js';
import type { Partition } from '../../src/generated/prisma/client.js';
import { SoftHsm } from '../../src/hsm/soft-hsm.js';
import { KeyChanges } from '../../src/keystore/keys/key-changes.js';
import { CHANGE_CHANNEL } from '../../src/keystore/metadata-cache.js';
import type { Logger } from '../../src/lib/logger.js';
import {
  decide,
  nodeOfficer,
  proposed,
  registerOfficer,
  statementOf,
} from '../e2e/security-officer/fixtures.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { approve, createApprover, rule, taskOf } from '../helpers/approvers.js';

/**
 * A key change whose process dies (SIGKILL) or loses its database connection after the change committed and
 * before it announced it: every other process must still hear of it at once, not serve its cached copy of the
 * key row for up to its 30 s TTL. The announcement after the commit is made to fail here, which is what such a
 * process leaves behind (the change committed, nothing announced, nothing cancelled).
 */
const P = 'crash-after-commit';
let t: TestContext;
let other: SoftHsm;
let partition: Partition;
let round = 0;

beforeAll(async () => {
  t = await createTestContext();
  await t.hsm.listenForChanges(t.databaseUrl);
  other = new SoftHsm({ prisma: t.prisma, masterKey: t.masterKey, keyCacheSize: 100 });
  await other.listenForChanges(t.databaseUrl);
  await t.partition(P, { allowObjectDestruction: true });
  partition = await other.partition((await other.partitions.requireByName(P)).id);
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  await other.close();
  await t.close();
});

const approverKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .publicKey.export({ format: 'der', type: 'spki' })
  .toString('base64');
const needsApproval = {
  tokens: [
    {
      name: 't',
      timelock: 0,
      timeout: 0,
      groups: [{ name: 'g', quorum: 1, approvals: [{ type: 'public_key', value: approverKey }] }],
    },
  ],
};

async function createKey(policy: unknown, password?: string): Promise<string> {
  const label = `k${++round}`;
  const created = await t.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false, destroyable: true },
      ...(policy === undefined ? {} : { policy }),
      ...(password === undefined ? {} : { password }),
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  return label;
}

/** The other process signs synchronously (no approvals): the signature, or the TSB error code of the refusal. */
const signElsewhere = (label: string, keyPassword?: string): Promise<'signed' | number> =>
  other
    .partition(partition.id)
    .then((current) =>
      other.operations.sign(
        current,
        {
          signKeyName: label,
          payload: Buffer.from('hello').toString('base64'),
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          ...(keyPassword === undefined ? {} : { keyPassword }),
        },
        null,
      ),
    )
    .then(
      () => 'signed' as const,
      (error: { errorCode?: number }) => error.errorCode ?? -1,
    );

/** The process making the change "dies" right after its commit: nothing it does after the commit runs. */
function dieAfterCommit(): void {
  const killed = new Error('process killed after the commit');
  vi.spyOn(t.hsm.metadata, 'announce').mockRejectedValue(killed);
  vi.spyOn(KeyChanges.prototype, 'forget').mockImplementation(() => {
    throw killed;
  });
}

/** What the other process answers within `ms` (it should refuse at once; before the fix it signed for 30 s). */
async function refusedWithin(label: string, ms: number, keyPassword?: string): Promise<'signed' | number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const outcome = await signElsewhere(label, keyPassword);
    if (outcome !== 'signed' || Date.now() > deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a key change committed by a process that dies before announcing it', () => {
  it('a block: the other process stops signing at once (403 / 614), not after its cache TTL', async () => {
    const label = await createKey(undefined);
    expect(await signElsewhere(label)).toBe('signed'); // the other process caches the key row
    dieAfterCommit();
    const blocked = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousBlock',
      body: { blockRequest: { blockKeyName: label } },
    });
    expect(blocked.statusCode).not.toBe(200);
    expect((await t.prisma.key.findFirstOrThrow({ where: { label } })).blocked).toBe(true);
    expect(await refusedWithin(label, 2_000)).toBe(614);
  });

  it('a policy change that makes use need approval: the other process refuses to sign without it (403 / 401)', async () => {
    const label = await createKey({ ruleUse: null, ruleBlock: null, ruleUnblock: null, ruleModify: null });
    expect(await signElsewhere(label)).toBe('signed');
    dieAfterCommit();
    const modified = await t.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/synchronousModify',
      body: {
        modifyRequest: {
          modifyKeyName: label,
          policy: { ruleUse: needsApproval, ruleBlock: null, ruleUnblock: null, ruleModify: null },
        },
      },
    });
    expect(modified.statusCode).not.toBe(200);
    const stored = await t.prisma.key.findFirstOrThrow({ where: { label } });
    expect((stored.policy as { ruleUse: unknown }).ruleUse).not.toBeNull();
    expect(await refusedWithin(label, 2_000)).toBe(401);
  });

  it('a new password: the other process no longer takes the old one', async () => {
    const label = await createKey(undefined, 'old password');
    expect(await signElsewhere(label, 'old password')).toBe('signed');
    dieAfterCommit();
    const changed = await t.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/changePassword',
      body: { label, password: 'old password', newPassword: 'new password' },
    });
    expect(changed.statusCode, changed.body).not.toBe(200);
    expect(await refusedWithin(label, 2_000, 'old password')).not.toBe('signed');
  });

  it('a block while a request’s quorum is complete: the other process’s executor does not run it (FAILED 614)', async () => {
    const approver = createApprover('P-256');
    const label = await createKey({
      ruleUse: rule([{ quorum: 1, approvers: [approver] }]),
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
    });
    const created = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: {
        signRequest: {
          payload: Buffer.from('pay').toString('base64'),
          signKeyName: label,
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id: string = created.json().signRequestId;
    // recorded, and left to the workers (this app runs no execution itself)
    const approved = await approve(t, P, approver, await taskOf(t, P, approver, id));
    expect(approved.statusCode, approved.body).toBe(200);
    expect(await signElsewhere(label)).toBe(401); // the other process has read (and cached) the key row
    dieAfterCommit();
    const blocked = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousBlock',
      body: { blockRequest: { blockKeyName: label } },
    });
    expect(blocked.statusCode).not.toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // the other process's worker moves the request on: its quorum is complete
    const log = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} } as unknown as Logger;
    const queue = {
      notify: async () => {},
      execute: async () => {},
      evaluate: async () => {},
    } as unknown as WorkflowQueue;
    await new WorkflowEngine(new RequestsRepository(t.prisma), other, queue, log).evaluate(id);
    const request = await t.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    expect([request.status, request.errorCode]).toEqual(['FAILED', 614]);
  });

  it.each([false, true])(
    'a destruction (key invalidation %s): the other process no longer signs with the key (404 / 650)',
    async (keyInvalidation) => {
      await t.hsm.partitions.updateFlags(partition.id, { keyInvalidation });
      const label = await createKey(undefined);
      expect(await signElsewhere(label)).toBe('signed');
      dieAfterCommit();
      const deleted = await t.call(P, ['keyManagement'], { method: 'DELETE', url: `/v1/key/${label}` });
      expect(deleted.statusCode).not.toBe(200);
      expect(await t.prisma.key.count({ where: { label, status: 'active' } })).toBe(0);
      expect(await refusedWithin(label, 2_000)).toBe(650);
    },
  );
});

describe('the notifications of key writes', () => {
  it('each key write is announced once, by its own transaction', async () => {
    const listener = new pg.Client({ connectionString: t.databaseUrl });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL) heard.push(JSON.parse(message.payload ?? '{}').label);
    });
    await listener.query(`LISTEN ${CHANGE_CHANNEL}`);
    try {
      const label = await createKey(
        { ruleUse: null, ruleBlock: null, ruleUnblock: null, ruleModify: null },
        'pw 1',
      );
      const write = async (method: 'POST', url: string, body: unknown) => {
        const response = await t.call(P, ['keyManagement', 'keyOperation'], { method, url, body });
        expect(response.statusCode, response.body).toBeLessThan(300);
      };
      await write('POST', '/v1/synchronousBlock', {
        blockRequest: { blockKeyName: label, keyPassword: 'pw 1' },
      });
      await write('POST', '/v1/synchronousUnblock', {
        unblockRequest: { unblockKeyName: label, keyPassword: 'pw 1' },
      });
      await write('POST', '/v1/synchronousModify', {
        modifyRequest: {
          modifyKeyName: label,
          keyPassword: 'pw 1',
          policy: { ruleUse: needsApproval, ruleBlock: null, ruleUnblock: null, ruleModify: null },
        },
      });
      await write('POST', '/v1/key/changePassword', { label, password: 'pw 1', newPassword: 'pw 2' });
      await write('POST', '/v1/key/deleteKey', { label, password: 'pw 2' });
      // a notification of each went out with its commit; none may follow later
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heard.filter((heardLabel) => heardLabel === label)).toHaveLength(5);
    } finally {
      await listener.end();
    }
  });
});

describe('a partition policy change committed by a process that dies before announcing it', () => {
  it('security officers turn key use off: the other process stops signing at once (403 / 400)', async () => {
    const label = await createKey(undefined);
    expect(await signElsewhere(label)).toBe('signed'); // the other process caches the partition row too
    const [alice, bob] = [nodeOfficer('alice'), nodeOfficer('bob')];
    await registerOfficer(t, P, alice);
    await registerOfficer(t, P, bob);
    const proposal = await proposed(
      t,
      P,
      alice,
      statementOf('SET_POLICY', { allowObjectUsage: false }, P, new Date()),
    );
    dieAfterCommit();
    const approved = await decide(t, P, bob, proposal);
    expect(approved.statusCode).not.toBe(200);
    expect(
      (await t.prisma.partition.findUniqueOrThrow({ where: { id: partition.id } })).allowObjectUsage,
    ).toBe(false);
    expect(await refusedWithin(label, 2_000)).toBe(400);
  });
});
