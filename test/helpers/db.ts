/**
 * One PostgreSQL database per test file, copied from a migrated template (CREATE DATABASE …
 * TEMPLATE), so isolation costs a file copy instead of a migration run.
 *
 * test/global-setup.ts drops, recreates and migrates the template once per vitest run and provides
 * its coordinates; `createTestDatabase()` copies it. The server comes from TEST_DATABASE_URL (only
 * its scheme, credentials, host, port and query are used), default postgresql://postgres@127.0.0.1:5432/.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPrismaClient } from '../../src/db/prisma.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';

export interface TestDatabaseInfo {
  /** Server URL without a database, e.g. postgresql://postgres@127.0.0.1:5432/ */
  serverUrl: string;
  /** Name of the migrated template database. */
  template: string;
  /** Prefix of the databases this run creates (`t_<run>_`), dropped again at the end of the run. */
  prefix: string;
  /** Set when the global setup could not prepare the template; thrown by createTestDatabase(). */
  error: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    opentsbTestDatabase: TestDatabaseInfo;
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  /** Disconnects Prisma and drops the database (WITH (FORCE)). Safe to call twice. */
  drop(): Promise<void>;
}

export const DEFAULT_TEST_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/';

/** TEST_DATABASE_URL (or the default) with its path replaced by `database`. */
export function testDatabaseUrl(
  database: string,
  base = process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_SERVER_URL,
) {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function templateDatabaseName(): string {
  return process.env['TEST_TEMPLATE_DATABASE'] || 'opentsb_test_template';
}

/** Runs `fn` with a client on the server's `postgres` maintenance database. */
export async function withAdminClient<T>(
  fn: (client: pg.Client) => Promise<T>,
  serverUrl?: string,
): Promise<T> {
  const client = new pg.Client({
    connectionString: testDatabaseUrl('postgres', serverUrl),
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function info(): TestDatabaseInfo {
  let provided: TestDatabaseInfo | undefined;
  try {
    provided = inject('opentsbTestDatabase');
  } catch {
    provided = undefined; // not running under vitest's globalSetup
  }
  return (
    provided ?? {
      serverUrl: testDatabaseUrl(''),
      template: templateDatabaseName(),
      prefix: `t_${process.pid}_`,
      error: null,
    }
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh database copied from the migrated template, with a connected Prisma client. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { serverUrl, template, prefix, error } = info();
  if (error !== null) throw new Error(`The test database template is not available: ${error}`);
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  await withAdminClient(async (client) => {
    const sql = `CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE ${client.escapeIdentifier(template)}`;
    // 55006: the template is briefly in use (another vitest run on this server re-creating it).
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 20 || (code !== '55006' && code !== '3D000')) throw e;
        await sleep(100 * attempt);
      }
    }
  }, serverUrl);
  const url = testDatabaseUrl(name, serverUrl);
  const prisma = createPrismaClient(url);
  let dropped = false;
  return {
    name,
    url,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect().catch(() => {});
      await withAdminClient(
        (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
        serverUrl,
      );
    },
  };
}
