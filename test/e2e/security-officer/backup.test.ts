import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKeyBinding, unseal } from '../../../src/crypto/seal.js';
import { SoftHsm } from '../../../src/hsm/soft-hsm.js';
import { canonicalJson } from '../../../src/lib/canonical-json.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { runTsb } from '../../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { opensslVerifies } from '../../helpers/openssl.js';
import { nodeOfficer, officerCall, registerOfficer } from './fixtures.js';

const P = 'vault';
const P256 = '1.2.840.10045.3.1.7';
const DATA = Buffer.from('signed after the restore');
const aesSecret = randomBytes(32);
let ctx: TestContext;
let dir: string;
let target: TestDatabase;
let other: TestDatabase;
const publicKeys: Record<string, Buffer> = {};

const envFor = (db: TestDatabase, masterKey: Buffer) => ({
  DATABASE_URL: db.url,
  TSB_DATA_DIR: dir,
  TSB_MASTER_KEY: masterKey.toString('base64'),
});

beforeAll(async () => {
  ctx = await createTestContext();
  dir = await mkdtemp(path.join(tmpdir(), 'opentsb-backup-'));
  [target, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await ctx.partition(P, { keyInvalidation: true, allowKeyExport: true });
  await registerOfficer(ctx, P, nodeOfficer('alice', 'P-256'));
  const create = async (body: object) => {
    const response = await ctx.call(P, ['keyManagement'], { method: 'POST', url: '/v1/key', body });
    expect(response.statusCode, response.body).toBe(201);
    return Buffer.from(response.json().json.publicKey ?? '', 'base64');
  };
  const signKey = { sign: true, decrypt: false, unwrap: false, destroyable: true };
  publicKeys['ec'] = await create({ label: 'ec', algorithm: 'EC', curveOid: P256, attributes: signKey });
  publicKeys['rsa'] = await create({ label: 'rsa', algorithm: 'RSA', keySize: 2048, attributes: signKey });
  await create({ label: 'binned', algorithm: 'EC', curveOid: P256, attributes: signKey });
  const imported = await ctx.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key/import/plain',
    body: {
      label: 'aes',
      algorithm: 'AES',
      secretKey: aesSecret.toString('base64'),
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
    },
  });
  expect(imported.statusCode, imported.body).toBe(201);
  expect((await ctx.call(P, ['keyManagement'], { method: 'DELETE', url: '/v1/key/binned' })).statusCode).toBe(
    200,
  );
});
afterAll(async () => {
  await ctx?.close();
  await target?.drop();
  await other?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function apiBackup(): Promise<Record<string, unknown>> {
  const response = await officerCall(ctx, P, 'alice-login', {
    method: 'GET',
    url: '/v1/securityOfficer/backup',
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

describe('partition backup', () => {
  it('holds the partition, every key sealed exactly as stored, and the officers; no secret in the clear', async () => {
    const backup = await apiBackup();
    const text = JSON.stringify(backup);
    expect(backup).toMatchObject({
      format: 'opentsb-partition-backup',
      version: 2,
      partition: { name: P, keyInvalidation: true },
    });
    const keys = backup['keys'] as Record<string, unknown>[];
    expect(keys.map((key) => `${key['label']}:${key['status']}`).sort()).toEqual([
      'aes:active',
      'binned:invalidated',
      'ec:active',
      'rsa:active',
    ]);
    const rows = await ctx.prisma.key.findMany();
    for (const row of rows) {
      const entry = keys.find((key) => key['id'] === row.id)!;
      expect(entry['materialSealed']).toBe(Buffer.from(row.materialSealed!).toString('base64'));
    }
    expect((backup['officers'] as { name: string }[]).map((officer) => officer.name)).toEqual(['alice']);
    for (const form of [
      aesSecret.toString('base64'),
      aesSecret.toString('hex'),
      aesSecret.toString('base64url'),
    ]) {
      expect(text).not.toContain(form);
    }
    expect(text).not.toContain('scrypt$');
    expect(typeof backup['mac']).toBe('string');
  });
});

describe('partition restore (tsb partition restore)', () => {
  it('refuses a backup under a different master key, writing nothing', async () => {
    const file = path.join(dir, 'api.json');
    await writeFile(file, JSON.stringify(await apiBackup()));
    const refused = await runTsb(envFor(other, randomBytes(32)), 'partition', 'restore', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/different master key, or changed/);
    expect(await other.prisma.partition.count()).toBe(0);
    expect(await other.prisma.key.count()).toBe(0);
    // that run was the first against this empty database: it stored its master key's check value, which the
    // next tests (another master key on the same database) must not meet
    await other.prisma.masterKeyCheck.deleteMany();
  });

  it('refuses a changed backup (a policy flag turned on), writing nothing', async () => {
    const backup = await apiBackup();
    (backup['partition'] as Record<string, unknown>)['allowObjectUsage'] = false;
    const file = path.join(dir, 'changed.json');
    await writeFile(file, JSON.stringify(backup));
    const refused = await runTsb(envFor(other, ctx.masterKey), 'partition', 'restore', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/different master key, or changed/);
    expect(await other.prisma.partition.count()).toBe(0);
  });

  it.each([
    [
      'a null made 1e999 (which JSON.stringify writes as null)',
      '"certificate":null',
      '"certificate":1e999',
      /no canonical form/,
    ],
    [
      'a key row given a member "__proto__"',
      '"keys":[{',
      '"keys":[{"__proto__":{"passwordHash":"x"},',
      /changed since/,
    ],
  ])('refuses a backup with %s, writing nothing', async (_what, genuine, forged, why) => {
    const response = await officerCall(ctx, P, 'alice-login', {
      method: 'GET',
      url: '/v1/securityOfficer/backup',
    });
    expect(response.body).toContain(genuine);
    const file = path.join(dir, 'forged.json');
    await writeFile(file, response.body.replace(genuine, forged));
    const refused = await runTsb(envFor(other, ctx.masterKey), 'partition', 'restore', file);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(why);
    expect(await other.prisma.partition.count()).toBe(0);
  });

  it('restores into a service with the same master key: the keys sign, and openssl verifies with the old public keys', async () => {
    const file = path.join(dir, 'api.json');
    const restored = await runTsb(envFor(target, ctx.masterKey), 'partition', 'restore', file);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored partition vault .*4 keys \(1 in the trash bin\), 1 officers/);

    const hsm = new SoftHsm({ prisma: target.prisma, masterKey: ctx.masterKey, keyCacheSize: 10 });
    try {
      const partition = await hsm.partitions.requireByName(P);
      expect(partition).toMatchObject({ keyInvalidation: true, allowKeyExport: true });
      for (const [label, algorithm] of [
        ['ec', 'SHA256_WITH_ECDSA'],
        ['rsa', 'SHA256_WITH_RSA'],
      ] as const) {
        const signature = await hsm.operations.sign(
          partition,
          { payload: DATA.toString('base64'), signKeyName: label, signatureAlgorithm: algorithm },
          null,
        );
        expect(await opensslVerifies(publicKeys[label]!, DATA, signature), label).toBe(true);
      }
      const exported = await hsm.keys.exportPlain(partition, 'aes');
      expect(exported.secretKey).toBe(aesSecret.toString('base64'));
      expect((await hsm.trash.list(partition)).map((key) => key.label)).toEqual(['binned']);
      await expect(hsm.keys.requireKey(partition, 'binned')).rejects.toMatchObject({ errorCode: 650 });
      expect(await target.prisma.securityOfficer.count({ where: { partitionId: partition.id } })).toBe(1);
    } finally {
      await hsm.close();
    }
  });

  it('refuses a partition id or name that exists already, writing nothing', async () => {
    const file = path.join(dir, 'api.json');
    const keys = await ctx.prisma.key.count();
    const same = await runTsb(envFor(target, ctx.masterKey), 'partition', 'restore', file);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/exists already/);
    const renamed = await runTsb(
      envFor(target, ctx.masterKey),
      'partition',
      'restore',
      file,
      '--name',
      'copy',
    );
    expect(renamed.code).toBe(1);
    expect(renamed.stderr).toMatch(/partition [0-9a-f-]+ exists already \(as "vault"\)/);
    expect(await target.prisma.partition.count()).toBe(1);
    expect(await ctx.prisma.key.count()).toBe(keys);
  });

  it('tsb partition backup writes a file that restores under another name', async () => {
    const file = path.join(dir, 'cli.json');
    const written = await runTsb(
      envFor({ url: ctx.databaseUrl } as TestDatabase, ctx.masterKey),
      'partition',
      'backup',
      P,
      '--out',
      file,
    );
    expect(written.code, written.stderr).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ format: 'opentsb-partition-backup' });
    await other.prisma.partition.create({
      data: {
        name: P,
        partitionKeySealed: new Uint8Array(1),
        attestationKeySealed: new Uint8Array(1),
        attestationPublicKey: new Uint8Array(1),
      },
    });
    const taken = await runTsb(envFor(other, ctx.masterKey), 'partition', 'restore', file);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/a partition named "vault" exists already/);
    const restored = await runTsb(
      envFor(other, ctx.masterKey),
      'partition',
      'restore',
      file,
      '--name',
      'vault-2',
    );
    expect(restored.code, restored.stderr).toBe(0);
    expect(await other.prisma.key.count()).toBe(4);
    expect(restored.stderr).toMatch(/certificates will be issued anew/);
  });

  it('brings a lost partition back into the same service, keeping its attestation certificates', async () => {
    const before = await ctx.call(P, ['securityOfficer'], {
      method: 'GET',
      url: '/v1/attestation/certificates',
    });
    expect(before.statusCode, before.body).toBe(200);
    const file = path.join(dir, 'same-service.json');
    await writeFile(file, JSON.stringify(await apiBackup()));
    const { id } = await ctx.hsm.partitions.requireByName(P);
    await ctx.prisma.partition.delete({ where: { id } });
    await ctx.hsm.metadata.announce({ kind: 'partition', id });
    expect(await ctx.prisma.key.count({ where: { partitionId: id } })).toBe(0);

    const env = {
      DATABASE_URL: ctx.databaseUrl,
      TSB_DATA_DIR: dir,
      TSB_MASTER_KEY: ctx.masterKey.toString('base64'),
    };
    const restored = await runTsb(env, 'partition', 'restore', file);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).not.toMatch(/issued anew/);
    const after = await ctx.call(P, ['securityOfficer'], {
      method: 'GET',
      url: '/v1/attestation/certificates',
    });
    expect(after.json()).toEqual(before.json());
    const signed = await ctx.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: {
          payload: DATA.toString('base64'),
          signKeyName: 'ec',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    expect(signed.statusCode, signed.body).toBe(200);
    expect(
      await opensslVerifies(publicKeys['ec']!, DATA, Buffer.from(signed.json().signature, 'base64')),
    ).toBe(true);
  });
});

/**
 * A key password is the key owner's: a security officer, who takes backups, must not learn it. The backup
 * carries each key's password verifier (scrypt, which would let its holder test passwords offline) only sealed
 * under the partition key; a restore opens it again, and still reads backups of the previous format (version 1,
 * verifier in clear).
 */
describe('a password-protected key in a backup', () => {
  const LOCKED = 'locked';
  const KEY_PASSWORD = 'owner-only-key-password';
  const verifiers: Record<string, string | null> = {};
  let lockedId: string;
  let backup: Record<string, unknown>;

  /** The backup MAC as docs/security-officers.md gives it, to write a backup as another release would. */
  const withMac = (document: Record<string, unknown>): Record<string, unknown> => {
    const { mac: _mac, ...body } = document;
    const macKey = Buffer.from(
      hkdfSync('sha256', ctx.masterKey, Buffer.alloc(0), 'opentsb:partition-backup-mac:v1', 32),
    );
    return {
      ...body,
      mac: createHmac('sha256', macKey).update(canonicalJson(body), 'utf8').digest('base64'),
    };
  };
  /** The AAD of a sealed verifier (docs/security-officers.md): partition, key id and column name. */
  const verifierBinding = (keyId: unknown) => `opentsb:key-column:${lockedId}:${String(keyId)}:passwordHash`;
  const keysOf = (document: Record<string, unknown>) => document['keys'] as Record<string, unknown>[];
  const attributes = (password?: string) =>
    ctx.call(LOCKED, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'guarded', ...(password === undefined ? {} : { password }) },
    });
  const env = () => ({
    DATABASE_URL: ctx.databaseUrl,
    TSB_DATA_DIR: dir,
    TSB_MASTER_KEY: ctx.masterKey.toString('base64'),
  });

  /** Deletes the partition from the service and restores it from `document` with `tsb partition restore`. */
  async function restoreLost(document: Record<string, unknown>, fileName: string): Promise<void> {
    const file = path.join(dir, fileName);
    await writeFile(file, JSON.stringify(document));
    await ctx.prisma.partition.delete({ where: { id: lockedId } });
    await ctx.hsm.metadata.announce({ kind: 'partition', id: lockedId });
    ctx.hsm.metadata.clear();
    expect(await ctx.prisma.key.count({ where: { partitionId: lockedId } })).toBe(0);
    const restored = await runTsb(env(), 'partition', 'restore', file);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored partition locked .*2 keys/);
    ctx.hsm.metadata.clear();
  }

  async function expectPasswordProtected(): Promise<void> {
    expect((await attributes()).statusCode).toBe(403);
    const wrong = await attributes('not-the-password');
    expect(wrong.statusCode, wrong.body).toBe(403);
    expect(wrong.json().errorCode).toBe(620);
    const right = await attributes(KEY_PASSWORD);
    expect(right.statusCode, right.body).toBe(200);
    for (const row of await ctx.prisma.key.findMany({ where: { partitionId: lockedId } })) {
      expect(row.passwordHash, row.label).toBe(verifiers[row.label]);
    }
  }

  beforeAll(async () => {
    lockedId = (await ctx.partition(LOCKED, {})).id;
    await registerOfficer(ctx, LOCKED, nodeOfficer('bob', 'P-256'));
    for (const [label, password] of [
      ['guarded', KEY_PASSWORD],
      ['open', undefined],
    ] as const) {
      const created = await ctx.call(LOCKED, ['keyManagement'], {
        method: 'POST',
        url: '/v1/key',
        body: {
          label,
          algorithm: 'EC',
          curveOid: P256,
          ...(password === undefined ? {} : { password }),
          attributes: { sign: true, decrypt: false, unwrap: false },
        },
      });
      expect(created.statusCode, created.body).toBe(201);
    }
    for (const row of await ctx.prisma.key.findMany({ where: { partitionId: lockedId } })) {
      verifiers[row.label] = row.passwordHash;
    }
    expect(verifiers['guarded']).toMatch(/^scrypt\$/);
    expect(verifiers['open']).toBeNull();
    const response = await officerCall(ctx, LOCKED, 'bob-login', {
      method: 'GET',
      url: '/v1/securityOfficer/backup',
    });
    expect(response.statusCode, response.body).toBe(200);
    backup = response.json();
  });

  it('holds no password verifier in clear, nor the password: only sealed under the partition key', async () => {
    const cliFile = path.join(dir, 'locked-cli.json');
    const written = await runTsb(env(), 'partition', 'backup', LOCKED, '--out', cliFile);
    expect(written.code, written.stderr).toBe(0);
    const [, , salt, hash] = verifiers['guarded']!.split('$');
    for (const text of [JSON.stringify(backup), await readFile(cliFile, 'utf8')]) {
      for (const needle of ['scrypt$', verifiers['guarded']!, salt!, hash!, KEY_PASSWORD]) {
        expect(text).not.toContain(needle);
      }
      expect(text).not.toMatch(/"passwordHash"/);
    }
    expect(backup['version']).toBe(2);
    const guarded = keysOf(backup).find((key) => key['label'] === 'guarded')!;
    const open = keysOf(backup).find((key) => key['label'] === 'open')!;
    expect(open['passwordHashSealed']).toBeNull();
    // sealed as docs/security-officers.md says: under the partition key, bound to partition, key id and column
    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { id: lockedId } });
    const partitionKey = unseal(ctx.masterKey, partition.partitionKeySealed, partitionKeyBinding(lockedId));
    const sealed = Buffer.from(String(guarded['passwordHashSealed']), 'base64');
    const binding = verifierBinding(guarded['id']);
    expect(unseal(partitionKey, sealed, binding).toString('utf8')).toBe(verifiers['guarded']);
    expect(() => unseal(partitionKey, sealed, verifierBinding(open['id']))).toThrow();
  });

  it('refuses a sealed verifier moved to another key, even under a valid MAC, writing nothing', async () => {
    const moved = structuredClone(backup);
    const [guarded, open] = ['guarded', 'open'].map(
      (label) => keysOf(moved).find((key) => key['label'] === label)!,
    );
    open!['passwordHashSealed'] = guarded!['passwordHashSealed'];
    const file = path.join(dir, 'locked-moved.json');
    await writeFile(file, JSON.stringify(withMac(moved)));
    const keys = await ctx.prisma.key.count();
    const refused = await runTsb(env(), 'partition', 'restore', file, '--name', 'locked-copy');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/password verifier of key "open" does not open/);
    expect(await ctx.prisma.key.count()).toBe(keys);
  });

  it('restores with the password protection intact: wrong password 403, right password 200', async () => {
    await expectPasswordProtected();
    await restoreLost(backup, 'locked.json');
    await expectPasswordProtected();
  });

  it('restores a backup of the previous format (version 1, verifier in clear) with the protection intact', async () => {
    // as the previous release wrote it: every key column as stored, so passwordHash in clear, and version 1
    const previous = structuredClone(backup);
    previous['version'] = 1;
    for (const key of keysOf(previous)) {
      expect(key).toHaveProperty('passwordHashSealed');
      delete key['passwordHashSealed'];
      key['passwordHash'] = verifiers[String(key['label'])];
    }
    await restoreLost(withMac(previous), 'locked-v1.json');
    await expectPasswordProtected();
    // a version 2 backup with the verifier in clear is refused: the new format carries it sealed only
    const mixed = structuredClone(previous);
    mixed['version'] = 2;
    const file = path.join(dir, 'locked-mixed.json');
    await writeFile(file, JSON.stringify(withMac(mixed)));
    const refused = await runTsb(env(), 'partition', 'restore', file, '--name', 'locked-copy');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no passwordHash in clear/);
  });
});
