/**
 * Once per vitest run: drop, recreate and migrate the template database that every test file copies
 * (see test/helpers/db.ts), and at the end drop any database of this run a test file left behind.
 * When PostgreSQL is unavailable the run goes on (unit tests need no database) and
 * createTestDatabase() throws the reason.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { deployMigrations } from '../src/db/migrations.js';
import {
  type TestDatabaseInfo,
  templateDatabaseName,
  testDatabaseUrl,
  withAdminClient,
} from './helpers/db.js';

const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'prisma',
  'migrations',
);
/** Serialises template preparation between vitest runs sharing one server. */
const TEMPLATE_LOCK_KEY = 0x4f545354; // "OTST"

async function prepareTemplate(template: string): Promise<void> {
  await withAdminClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const name = client.escapeIdentifier(template);
      const existing = await client.query('SELECT datistemplate FROM pg_database WHERE datname = $1', [
        template,
      ]);
      if (existing.rows[0]?.datistemplate === true)
        await client.query(`ALTER DATABASE ${name} IS_TEMPLATE false`);
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${name}`);
      await deployMigrations(testDatabaseUrl(template), MIGRATIONS_DIR);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {});
    }
  });
}

async function dropRunDatabases(prefix: string): Promise<void> {
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname ~ '^t_[0-9a-f_]+$'",
      [prefix],
    );
    for (const { datname } of rows) {
      await client
        .query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`)
        .catch(() => {});
    }
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const template = templateDatabaseName();
  const info: TestDatabaseInfo = {
    serverUrl: testDatabaseUrl(''),
    template,
    prefix: `t_${randomBytes(3).toString('hex')}_`,
    error: null,
  };
  try {
    await prepareTemplate(template);
  } catch (error) {
    info.error = error instanceof Error ? error.message : String(error);
    console.warn(`[global-setup] test database template "${template}" not prepared: ${info.error}`);
  }
  project.provide('opentsbTestDatabase', info);
  return async () => {
    if (info.error === null) await dropRunDatabases(info.prefix).catch(() => {});
  };
}
