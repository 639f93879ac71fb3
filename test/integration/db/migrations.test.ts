import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatabaseError,
  deployMigrations,
  describeDatabaseUrl,
  ensureDatabase,
  migrationStatus,
} from '../../../src/db/migrations.js';
import { testDatabaseUrl, withAdminClient } from '../../helpers/db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');

const created: string[] = [];
let counter = 0;
/** A database name of this file that no one has created yet. */
function freshName(suffix = ''): string {
  counter += 1;
  const name = `t_mig_${process.pid}_${Date.now().toString(36)}_${counter}${suffix}`;
  created.push(name);
  return name;
}

async function createEmptyDatabase(): Promise<string> {
  const name = freshName();
  await withAdminClient((client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  return testDatabaseUrl(name);
}

async function diskMigrations(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await withAdminClient(async (client) => {
    for (const name of created) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    }
  });
});

describe('deployMigrations', () => {
  it('applies every migration to an empty database once, and records them as Prisma does', async () => {
    const url = await createEmptyDatabase();
    const names = await diskMigrations();
    expect(names.length).toBeGreaterThan(0);
    expect(names.some((n) => /^\d{14}_init$/.test(n))).toBe(true);

    const before = await migrationStatus(url, MIGRATIONS_DIR);
    expect(before).toMatchObject({
      upToDate: false,
      hasMigrationsTable: false,
      unappliedMigrationNames: names,
    });

    expect(await deployMigrations(url, MIGRATIONS_DIR)).toEqual(names);
    expect(await deployMigrations(url, MIGRATIONS_DIR)).toEqual([]);

    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
      logs: string | null;
    }>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at');
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      const sql = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }
    const tables = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['ApiKey', 'ClientCertificate', 'Key', 'Partition', '_prisma_migrations']),
    );

    const after = await migrationStatus(url, MIGRATIONS_DIR);
    expect(after).toMatchObject({
      upToDate: true,
      hasMigrationsTable: true,
      history: null,
      unappliedMigrationNames: [],
      failedMigrationNames: [],
      editedMigrationNames: [],
      migrations: names,
    });
  });

  it('applies each migration once when two deploys run at the same time', async () => {
    const url = await createEmptyDatabase();
    const names = await diskMigrations();
    const results = await Promise.all([
      deployMigrations(url, MIGRATIONS_DIR),
      deployMigrations(url, MIGRATIONS_DIR),
    ]);
    expect(results.flat().sort()).toEqual(names);
    expect(results.some((applied) => applied.length === 0)).toBe(true);
    const rows = await query<{ n: string }>(url, 'SELECT count(*)::text AS n FROM _prisma_migrations');
    expect(rows[0]?.n).toBe(String(names.length));
  });

  it('is safe when two processes run `migrate deploy` at once, creating the database too', async () => {
    const name = freshName();
    const url = testDatabaseUrl(name);
    const run = () =>
      new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(ROOT, 'scripts', 'migrate.ts'), 'deploy'],
          {
            cwd: ROOT,
            env: { ...process.env, DATABASE_URL: url },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        child.stdout.on('data', (chunk) => {
          output += chunk;
        });
        child.stderr.on('data', (chunk) => {
          output += chunk;
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    const names = await diskMigrations();
    const rows = await query<{ migration_name: string }>(
      url,
      'SELECT migration_name FROM _prisma_migrations',
    );
    expect(rows.map((r) => r.migration_name).sort()).toEqual(names);
    expect(`${a.output}\n${b.output}`).toContain('No pending migrations to apply.');
  }, 90_000);

  it('reports a database that is not reachable with its host and port, without the password', async () => {
    const url = 'postgresql://postgres:s3cret-pw@127.0.0.1:1/opentsb';
    const error = await deployMigrations(url, MIGRATIONS_DIR).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).not.toContain('s3cret-pw');
    await expect(ensureDatabase(url)).rejects.toThrow(/not reachable at 127\.0\.0\.1:1\b/);
    await expect(migrationStatus(url, MIGRATIONS_DIR)).rejects.toThrow(/not reachable at 127\.0\.0\.1:1\b/);
  });

  it('reports a database that does not exist by name', async () => {
    const url = testDatabaseUrl(freshName());
    await expect(deployMigrations(url, MIGRATIONS_DIR)).rejects.toThrow(/Database "t_mig_.*" does not exist/);
  });
});

describe('ensureDatabase', () => {
  it('creates a missing database once, quoting its name safely', async () => {
    const name = freshName(`_Odd "name"; DROP`);
    const url = testDatabaseUrl(name);
    expect(describeDatabaseUrl(url).database).toBe(name);
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
    const rows = await withAdminClient((client) =>
      client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]),
    );
    expect(rows.rowCount).toBe(1);
  });

  it('tolerates concurrent creation of the same database', async () => {
    const url = testDatabaseUrl(freshName());
    const results = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
