import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftHsm } from '../../src/hsm/soft-hsm.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { runTsb } from '../helpers/cli.js';

/**
 * Two HSM instances on one database stand for two service processes: a change made through one must
 * be seen by the other at once (PostgreSQL LISTEN/NOTIFY), although both keep key rows in memory.
 */
let t: TestContext;
let other: SoftHsm;

const until = async (condition: () => Promise<boolean>) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met within 2 s');
};

beforeAll(async () => {
  t = await createTestContext();
  await t.hsm.listenForChanges(t.databaseUrl);
  other = new SoftHsm({ prisma: t.prisma, masterKey: t.masterKey, keyCacheSize: 100 });
  await other.listenForChanges(t.databaseUrl);
  await t.partition('shared');
});
afterAll(async () => {
  await other.close();
  await t.close();
});

describe('metadata cache across processes', () => {
  it('serves a cached key row without a database read, and drops it when another process deletes the key', async () => {
    const response = await t.call('shared', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'k',
        algorithm: 'AES',
        keySize: 256,
        attributes: { decrypt: true, sign: false, unwrap: false, destroyable: true },
      },
    });
    expect(response.statusCode).toBe(201);
    const partition = await other.partition((await other.partitions.requireByName('shared')).id);
    const first = await other.keys.requireKey(partition, 'k', { cached: true });
    const second = await other.keys.requireKey(partition, 'k', { cached: true });
    expect(second).toBe(first); // the same object: served from memory

    const deleted = await t.call('shared', ['keyManagement'], { method: 'DELETE', url: '/v1/key/k' });
    expect(deleted.statusCode).toBe(200);
    await until(async () =>
      other.keys.requireKey(partition, 'k', { cached: true }).then(
        () => false,
        (error) => error.errorCode === 650,
      ),
    );
  });

  it('sees a partition policy change made by another process', async () => {
    const id = (await t.hsm.partitions.requireByName('shared')).id;
    expect((await t.hsm.partition(id)).readOnly).toBe(false);
    await other.partitions.updateFlags(id, { readOnly: true });
    await until(async () => (await t.hsm.partition(id)).readOnly);
    const refused = await t.call('shared', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: `x${randomBytes(4).toString('hex')}`,
        algorithm: 'AES',
        keySize: 128,
        attributes: { decrypt: true, sign: false, unwrap: false },
      },
    });
    expect(refused.statusCode).toBe(403);
  });

  it('sees a webhook set or removed with `tsb partition webhook` at once (the CLI announces the change)', async () => {
    const id = (await t.hsm.partitions.requireByName('shared')).id;
    expect((await t.hsm.partition(id)).webhookUrl).toBeNull();
    const env = { DATABASE_URL: t.databaseUrl };
    const url = 'https://approvals.example/hook';
    const set = await runTsb(env, 'partition', 'webhook', 'shared', '--url', url);
    expect(set.code, set.stderr).toBe(0);
    await until(async () => (await t.hsm.partition(id)).webhookUrl === url);
    expect((await runTsb(env, 'partition', 'webhook', 'shared', '--remove')).code).toBe(0);
    await until(async () => (await t.hsm.partition(id)).webhookUrl === null);
  });

  it('sees `tsb partition approver-keys --off/--on` at once (the CLI announces the change)', async () => {
    const id = (await t.hsm.partitions.requireByName('shared')).id;
    expect((await t.hsm.partition(id)).approverKeyAuthentication).toBe(true);
    const env = { DATABASE_URL: t.databaseUrl };
    const off = await runTsb(env, 'partition', 'approver-keys', 'shared', '--off');
    expect(off.code, off.stderr).toBe(0);
    await until(async () => (await t.hsm.partition(id)).approverKeyAuthentication === false);
    expect((await runTsb(env, 'partition', 'approver-keys', 'shared', '--on')).code).toBe(0);
    await until(async () => (await t.hsm.partition(id)).approverKeyAuthentication === true);
    expect((await runTsb(env, 'partition', 'approver-keys', 'shared')).code).not.toBe(0);
  });
});
