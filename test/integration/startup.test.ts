/**
 * Start-up as an operator meets it, on real processes: `bin/tsb.js` run from another directory, the API and
 * the worker refusing a master key that is not the database's, exit codes, and the worker's log and shutdown
 * while Redis refuses connections.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ROOT, serviceEnvironment } from '../helpers/processes.js';

const BIN = path.join(ROOT, 'bin', 'tsb.js');
/** relative: taken from the OpenTSB folder, whatever the current directory */
const DATA_DIR = path.join('test', 'artifacts', `startup-${randomBytes(4).toString('hex')}`);
/** nothing listens on port 1 */
const CLOSED_REDIS = 'redis://127.0.0.1:1';

let db: TestDatabase;
let elsewhere: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/tsb.js …` started in a scratch directory, not the OpenTSB folder. */
function tsb(env: Record<string, string>, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: elsewhere, env: serviceEnvironment({ DATABASE_URL: db.url, TSB_DATA_DIR: DATA_DIR, ...env }) },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `script` (src/server.ts or src/worker.ts) until it exits or `stopAfterMs` passes (then SIGTERM). */
function run(
  script: string,
  env: Record<string, string>,
  stopAfterMs: number,
): Promise<{ code: number | null; lines: string[]; stoppedInMs: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    env: serviceEnvironment({ DATABASE_URL: db.url, TSB_DATA_DIR: DATA_DIR, LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let stoppedAt: number | null = null;
  const timer = setTimeout(() => {
    stoppedAt = performance.now();
    child.kill('SIGTERM');
  }, stopAfterMs);
  const killer = setTimeout(() => child.kill('SIGKILL'), stopAfterMs + 30_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code, lines, stoppedInMs: stoppedAt === null ? null : performance.now() - stoppedAt });
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  elsewhere = mkdtempSync(path.join(tmpdir(), 'opentsb-elsewhere-'));
});

afterAll(async () => {
  await db?.drop();
  rmSync(elsewhere, { recursive: true, force: true });
  rmSync(path.join(ROOT, DATA_DIR), { recursive: true, force: true });
});

describe('tsb from another directory', () => {
  it('finds its data folder in the OpenTSB folder, and refuses a second master key for the database', async () => {
    const created = await tsb({}, 'partition', 'create', 'first');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('USING A DEVELOPMENT MASTER KEY');
    expect(existsSync(path.join(ROOT, DATA_DIR, 'master.key'))).toBe(true);
    expect(existsSync(path.join(elsewhere, DATA_DIR))).toBe(false);

    const [wrongKey, otherDir] = await Promise.all([
      tsb({ TSB_MASTER_KEY: randomBytes(32).toString('base64') }, 'partition', 'create', 'second'),
      tsb({ TSB_DATA_DIR: path.join(elsewhere, 'data') }, 'partition', 'create', 'second'),
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain(
      'the master key of TSB_MASTER_KEY / TSB_MASTER_KEY_FILE is not the master key the database',
    );
    expect(otherDir.code).toBe(1);
    expect(otherDir.stderr).toMatch(/TSB_DATA_DIR \(.*\) holds no master\.key/);
    expect(existsSync(path.join(elsewhere, 'data', 'master.key'))).toBe(false);
    expect(await db.prisma.partition.count({ where: { name: 'second' } })).toBe(0);
  }, 60_000);

  it('exits 0 on success, 1 on a failure, 2 on a wrong command line; prints its version', async () => {
    const [version, bare, unknownOption, unknownCommand, failure] = await Promise.all([
      tsb({}, '--version'),
      tsb({}),
      tsb({}, 'partition', 'list', '--frobnicate'),
      tsb({}, 'partitoin', 'list'),
      tsb({}, 'token', 'issue', '--partition', 'nobody', '--roles', 'service'),
    ]);
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `tsb (OpenTSB) ${manifest.version}\n` });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: tsb <command>');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^tsb partition list: unknown option --frobnicate\n/);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command "partitoin"');
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('unknown partition "nobody"');
  }, 60_000);
});

describe('the service processes', () => {
  it('the API refuses to start with a master key that is not the database’s, naming the setting', async () => {
    const { code, lines } = await run(
      'src/server.ts',
      { TSB_MASTER_KEY: randomBytes(32).toString('base64'), PORT: '0', REDIS_URL: CLOSED_REDIS },
      60_000,
    );
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(
      /OpenTSB failed to start: the master key of TSB_MASTER_KEY \/ TSB_MASTER_KEY_FILE is not the master key/,
    );
  }, 90_000);

  it('the worker logs Redis refusing once, in ISO time, and stops at once on SIGTERM', async () => {
    const { code, lines, stoppedInMs } = await run(
      'src/worker.ts',
      { REDIS_URL: CLOSED_REDIS, TSB_SHUTDOWN_GRACE_MS: '20000' },
      // start-up takes seconds on a busy machine; the worker retries Redis every ≤ 2 s meanwhile
      15_000,
    );
    const entries = lines.map((line) => JSON.parse(line) as { time: string; msg: string; err?: unknown });
    expect(entries.some((entry) => entry.msg.startsWith('USING A DEVELOPMENT MASTER KEY'))).toBe(true);
    const redis = entries.filter((entry) => entry.msg.includes('Redis'));
    expect(redis.map((entry) => entry.msg)).toEqual([
      'Redis (workflow worker) unreachable; retrying (reminders once a minute)',
    ]);
    expect(lines.join('\n')).not.toContain('stack');
    for (const entry of entries) expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(code).toBe(0);
    expect(stoppedInMs).toBeLessThan(8_000);
  }, 90_000);
});
