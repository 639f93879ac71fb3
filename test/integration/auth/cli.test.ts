import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/auth/api-keys.js';
import { cachedPartitionResolver } from '../../../src/auth/authenticator.js';
import { parseClientCertificate } from '../../../src/auth/client-certificates.js';
import { createJwtVerifier } from '../../../src/auth/jwt-verifier.js';
import { loadConfig } from '../../../src/config.js';
import { createTestPki, type TestPki } from '../../helpers/certs.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'tsb.js');

let db: TestDatabase;
let dataDir: string;
let pki: TestPki;
let env: Record<string, string>;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function tsb(...args: string[]): Promise<Result> {
  return tsbWith({}, ...args);
}

function tsbWith(extraEnv: Record<string, string>, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const options = { cwd: ROOT, env: { ...env, ...extraEnv }, encoding: 'utf8' as const };
    execFile(process.execPath, [BIN, ...args], options, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  [db, dataDir, pki] = await Promise.all([
    createTestDatabase(),
    mkdtemp(path.join(tmpdir(), 'opentsb-cli-')),
    createTestPki(),
  ]);
  env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dataDir,
    DATABASE_URL: db.url,
    TSB_DATA_DIR: dataDir,
    TSB_MASTER_KEY: randomBytes(32).toString('base64'),
  };
});

afterAll(async () => {
  await db?.drop();
  await pki?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

describe('tsb CLI', () => {
  it('prints help', async () => {
    const help = await tsb('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('token issue');
    const command = await tsb('apikey', 'create', '--help');
    expect(command.code).toBe(0);
    expect(command.stdout).toContain('--partition');
  });

  it('creates a partition, issues a token the service verifies, creates and revokes an API key', async () => {
    const created = await tsb('partition', 'create', 'cli-tenant', '--key-export', '--no-key-import');
    expect(created.code, created.stderr).toBe(0);
    const id = /^id: (\S+)$/m.exec(created.stdout)?.[1];
    const row = await db.prisma.partition.findUniqueOrThrow({ where: { name: 'cli-tenant' } });
    expect(id).toBe(row.id);
    expect(created.stdout).toContain('name: cli-tenant');
    expect(row).toMatchObject({ allowKeyExport: true, allowKeyImport: false, readOnly: false });

    const listed = await tsb('partition', 'list');
    expect(listed.stdout).toContain(row.id);

    const issued = await tsb(
      'token',
      'issue',
      '--partition',
      'cli-tenant',
      '--roles',
      'keyManagement,service',
      '--ttl',
      '120',
    );
    expect(issued.code, issued.stderr).toBe(0);
    const token = issued.stdout.trim();
    expect(issued.stdout).toBe(`${token}\n`);
    const config = loadConfig({ DATABASE_URL: db.url, TSB_DATA_DIR: dataDir });
    const verified = await createJwtVerifier(config, {
      resolvePartition: cachedPartitionResolver(db.prisma),
    }).verify(token);
    expect(verified.partition).toEqual({ id: row.id, name: 'cli-tenant' });
    expect([...verified.roles].sort()).toEqual(['keyManagement', 'service']);
    expect(verified.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);

    const key = await tsb('apikey', 'create', '--partition', 'cli-tenant', '--role', 'keyOperation');
    expect(key.code, key.stderr).toBe(0);
    const plaintext = key.stdout.trim();
    expect(plaintext).toMatch(/^tsb-x-token_[A-Za-z0-9_-]{43}$/);
    expect(key.stderr).toMatch(/shown only this once/);
    const stored = await db.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: hashApiKey(plaintext) } });
    expect(stored).toMatchObject({ partitionId: row.id, role: 'keyOperation', revokedAt: null });
    expect(JSON.stringify(stored)).not.toContain(plaintext);

    const revoked = await tsb('apikey', 'revoke', stored.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await db.prisma.apiKey.findUniqueOrThrow({ where: { id: stored.id } })).revokedAt).not.toBeNull();
    expect((await tsb('apikey', 'revoke', stored.id)).code).toBe(1);

    const cert = await tsb(
      'cert',
      'register',
      '--partition',
      'cli-tenant',
      '--roles',
      'keyManagement,approver',
      pki.client.certFile,
    );
    expect(cert.code, cert.stderr).toBe(0);
    const fingerprint = parseClientCertificate(pki.client.cert).fingerprint;
    expect(cert.stdout).toContain(fingerprint);
    const certRow = await db.prisma.clientCertificate.findUniqueOrThrow({ where: { fingerprint } });
    expect(certRow.roles).toEqual(['keyManagement', 'approver']);
    // a dozen CLI runs, each applying migrations first: ≈ 18 s alone, more on a busy two-core machine
  }, 90_000);

  it('sets and removes the approver notification webhook of a partition', async () => {
    expect((await tsb('partition', 'create', 'hooked')).code).toBe(0);
    const set = await tsb('partition', 'webhook', 'hooked', '--url', 'https://approvals.example/hook');
    expect(set.code, set.stderr).toBe(0);
    const row = () => db.prisma.partition.findUniqueOrThrow({ where: { name: 'hooked' } });
    expect((await row()).webhookUrl).toBe('https://approvals.example/hook');
    const [notUrl, neither] = await Promise.all([
      tsb('partition', 'webhook', 'hooked', '--url', 'ftp://x'),
      tsb('partition', 'webhook', 'hooked'),
    ]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/not an http\(s\) URL/);
    expect(neither.code).toBe(2);
    expect((await row()).webhookUrl).toBe('https://approvals.example/hook');
    expect((await tsb('partition', 'webhook', 'hooked', '--remove')).code).toBe(0);
    expect((await row()).webhookUrl).toBeNull();
  });

  it('explains errors: exit code 1 for a failure, 2 for a wrong command line', async () => {
    const [unknownPartition, unknownRole, missing, badConfig] = await Promise.all([
      tsb('token', 'issue', '--partition', 'nobody', '--roles', 'service'),
      tsb('apikey', 'create', '--partition', 'cli-tenant', '--role', 'root'),
      tsb('token', 'issue', '--roles', 'service'),
      tsbWith({ TSB_MASTER_KEY: 'short' }, 'partition', 'list'),
    ]);
    expect(unknownPartition.code).toBe(1);
    expect(unknownPartition.stderr).toMatch(/unknown partition "nobody"/);
    expect(unknownPartition.stdout).toBe('');

    expect(unknownRole.code).toBe(2);
    expect(unknownRole.stderr).toMatch(/unknown role "root"/);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--partition is required/);

    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/Invalid configuration[\s\S]*TSB_MASTER_KEY/);
  });
});
