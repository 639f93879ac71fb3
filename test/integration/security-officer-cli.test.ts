import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTsb } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { openssl, selfSignedP256 } from '../helpers/openssl.js';

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const tsb = (...args: string[]) => runTsb(env, ...args);

/** The lower-case hex SHA-256 of a DER file: the fingerprint the service gives an officer key. */
async function sha256Of(file: string): Promise<string> {
  const out = await openssl(['dgst', '-sha256', '-r', file]);
  return out.split(' ')[0]!.trim();
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'opentsb-officer-cli-'));
  env = { DATABASE_URL: db.url, TSB_DATA_DIR: dir, TSB_MASTER_KEY: randomBytes(32).toString('base64') };
  expect((await tsb('partition', 'create', 'hq')).code).toBe(0);
  expect((await tsb('partition', 'create', 'branch')).code).toBe(0);
  const key = (name: string, ...options: string[]) =>
    openssl(['genpkey', ...options, '-out', path.join(dir, `${name}.pem`)]);
  await key('p256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
  await key('ed', '-algorithm', 'Ed25519');
  await openssl([
    'pkey',
    '-in',
    path.join(dir, 'p256.pem'),
    '-pubout',
    '-out',
    path.join(dir, 'p256.pub.pem'),
  ]);
  await openssl([
    'pkey',
    '-in',
    path.join(dir, 'p256.pem'),
    '-pubout',
    '-outform',
    'DER',
    '-out',
    path.join(dir, 'p256.pub.der'),
  ]);
  await openssl([
    'pkey',
    '-in',
    path.join(dir, 'ed.pem'),
    '-pubout',
    '-outform',
    'DER',
    '-out',
    path.join(dir, 'ed.pub.der'),
  ]);
  const { certFile } = await selfSignedP256(dir, {
    subject: '/CN=carol',
    keyFile: 'carol.key',
    certFile: 'carol.crt',
  });
  await openssl(['x509', '-in', certFile, '-pubkey', '-noout', '-out', path.join(dir, 'carol.pub.pem')]);
  await openssl([
    'pkey',
    '-pubin',
    '-in',
    path.join(dir, 'carol.pub.pem'),
    '-outform',
    'DER',
    '-out',
    path.join(dir, 'carol.pub.der'),
  ]);
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('tsb officer', () => {
  it('adds officers from a PEM public key, a DER public key and a certificate; fingerprints are the SPKI SHA-256', async () => {
    const alice = await tsb(
      'officer',
      'add',
      'hq',
      '--name',
      'alice',
      '--public-key',
      path.join(dir, 'p256.pub.pem'),
    );
    expect(alice.code, alice.stderr).toBe(0);
    expect(alice.stdout).toContain('key: P-256');
    expect(alice.stdout).toContain(`fingerprint: ${await sha256Of(path.join(dir, 'p256.pub.der'))}`);
    const bob = await tsb(
      'officer',
      'add',
      'hq',
      '--name',
      'bob',
      '--public-key',
      path.join(dir, 'ed.pub.der'),
    );
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.stdout).toContain('key: Ed25519');
    const carol = await tsb(
      'officer',
      'add',
      'hq',
      '--name',
      'carol',
      '--public-key',
      path.join(dir, 'carol.crt'),
    );
    expect(carol.code, carol.stderr).toBe(0);
    expect(carol.stdout).toContain(`fingerprint: ${await sha256Of(path.join(dir, 'carol.pub.der'))}`);
    const rows = await db.prisma.securityOfficer.findMany({ orderBy: { name: 'asc' } });
    expect(rows.map((row) => row.name)).toEqual(['alice', 'bob', 'carol']);
    expect(Buffer.from(rows[1]!.publicKey)).toEqual(await readFile(path.join(dir, 'ed.pub.der')));
    // the same key may be an officer of another partition
    const elsewhere = await tsb(
      'officer',
      'add',
      'branch',
      '--name',
      'alice',
      '--public-key',
      path.join(dir, 'p256.pub.pem'),
    );
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
  });

  it('lists officers, all or of one partition', async () => {
    const all = await tsb('officer', 'list');
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(5);
    const hq = await tsb('officer', 'list', '--partition', 'branch');
    expect(hq.stdout).toMatch(/^branch\s+alice\s+[0-9a-f]{64}\s+\S+\s+-$/m);
    expect(hq.stdout).not.toContain('bob');
  });

  it.each([
    [
      'a name taken in the partition',
      ['hq', '--name', 'alice', '--public-key', 'ed.pub.der'],
      /named "alice" is registered already/,
    ],
    [
      'a key registered already',
      ['hq', '--name', 'alice2', '--public-key', 'p256.pub.der'],
      /registered already, as officer "alice"/,
    ],
    [
      'a private key file',
      ['hq', '--name', 'dave', '--public-key', 'p256.pem'],
      /neither a PUBLIC KEY nor a CERTIFICATE/,
    ],
    [
      'an unknown partition',
      ['nowhere', '--name', 'dave', '--public-key', 'ed.pub.der'],
      /unknown partition "nowhere"/,
    ],
    ['a file that is no key', ['hq', '--name', 'dave', '--public-key', 'carol.key.missing'], /cannot read/],
    ['a bad name', ['hq', '--name', 'a b', '--public-key', 'ed.pub.der'], /invalid officer name/],
  ])('refuses %s', async (_name, args, message) => {
    const [partition, ...rest] = args as string[];
    const withPaths = rest.map((arg, index) =>
      rest[index - 1] === '--public-key' ? path.join(dir, arg) : arg,
    );
    const count = await db.prisma.securityOfficer.count();
    const result = await tsb('officer', 'add', partition!, ...withPaths);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(await db.prisma.securityOfficer.count()).toBe(count);
  });

  it('revokes an officer once; the name stays taken', async () => {
    const revoked = await tsb('officer', 'revoke', 'hq', 'bob');
    expect(revoked.code, revoked.stderr).toBe(0);
    const row = await db.prisma.securityOfficer.findFirstOrThrow({ where: { name: 'bob' } });
    expect(row.revokedAt).not.toBeNull();
    const again = await tsb('officer', 'revoke', 'hq', 'bob');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active officer "bob"/);
    expect((await tsb('officer', 'list', '--partition', 'hq')).stdout).toMatch(
      /^hq\s+bob\s+\S+\s+\S+\s+\d{4}-/m,
    );
    const reuse = await tsb(
      'officer',
      'add',
      'hq',
      '--name',
      'bob',
      '--public-key',
      path.join(dir, 'ed.pub.der'),
    );
    expect(reuse.stderr).toMatch(/registered already \(revoked\)/);
  });

  it('shows the commands in the help', async () => {
    const help = await tsb('--help');
    expect(help.stdout).toMatch(/officer add/);
    expect(help.stdout).toMatch(/partition backup/);
    const usage = await tsb('officer', 'add', '--help');
    expect(usage.stdout).toContain('--public-key');
  });
});
