/**
 * Database creation and migration, used by `scripts/migrate.ts` and by the service at start-up.
 *
 * Migrations are the folders of `prisma/migrations`, applied by Prisma's schema engine (WASM
 * build, see ./schema-engine.ts) through `@prisma/adapter-pg`. The engine records them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does, so the Prisma CLI agrees with the
 * history. Deploys are serialised with a PostgreSQL advisory lock, so several processes may start
 * at once.
 */
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { HistoryDiagnostic } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { PROJECT_ROOT } from '../lib/project-root.js';
import {
  listMigrations,
  NO_SCHEMA_FILTER,
  openSchemaEngine,
  runEngineCommand,
  type SchemaEngine,
} from './schema-engine.js';

export { SchemaEngineError } from './schema-engine.js';

/** prisma/migrations of this OpenTSB folder, wherever the process was started from. */
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma', 'migrations');

/**
 * Advisory lock key held (on its own connection) around a whole deploy. It is deliberately not
 * Prisma's own key (72707369), which the engine takes itself on a pooled connection.
 */
export const MIGRATION_LOCK_KEY = 0x4f545342; // "OTSB"

const CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

export class DatabaseError extends Error {
  /** PostgreSQL SQLSTATE or Node error code of the cause, when known. */
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseError';
    this.code = code;
  }
}

export interface MigrationOptions {
  /** Receives progress lines (and the engine's debug log when `debug` is set). */
  log?: (line: string) => void;
  /** Forward the schema engine's own debug log to `log`. */
  debug?: boolean;
  /** How long a deploy waits for another process's deploy to finish (default 120 s). */
  lockTimeoutMs?: number;
}

export interface MigrationStatus {
  /** Migration folders found on disk, in order. */
  migrations: string[];
  /** Does `_prisma_migrations` exist in the database? */
  hasMigrationsTable: boolean;
  /** True when every migration on disk is applied and nothing else is recorded. */
  upToDate: boolean;
  /** On disk, not applied yet. */
  unappliedMigrationNames: string[];
  /** Recorded in the database but missing on disk. */
  unpersistedMigrationNames: string[];
  /** Recorded as failed (a deploy must be resolved by hand). */
  failedMigrationNames: string[];
  /** Applied, but the file's checksum has changed since. */
  editedMigrationNames: string[];
  /** The engine's diagnostic, null when in sync. */
  history: HistoryDiagnostic | null;
}

export interface DatabaseTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Host, port, database and user of a PostgreSQL URL; never the password. */
export function describeDatabaseUrl(databaseUrl: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DatabaseError(
      'The database URL is not a valid URL (expected postgresql://user@host:port/database)',
    );
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new DatabaseError(`The database URL must start with postgresql:// (got "${url.protocol}")`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '')
    throw new DatabaseError('The database URL names no database (postgresql://host:port/<database>)');
  const socketHost = url.searchParams.get('host');
  return {
    host: url.hostname !== '' ? url.hostname.replace(/^\[(.*)\]$/, '$1') : (socketHost ?? 'localhost'),
    port: url.port !== '' ? Number(url.port) : 5432,
    database,
    user: decodeURIComponent(url.username) || process.env['PGUSER'] || 'postgres',
  };
}

function where(target: DatabaseTarget): string {
  return `${target.host}:${target.port}`;
}

/** A readable error for a failure to connect to or use `target`; never includes the password. */
export function explainConnectionError(error: unknown, target: DatabaseTarget): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const inner = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
  const code = (inner as { code?: unknown } | null)?.code;
  const codeText = typeof code === 'string' ? code : undefined;
  const reason = (inner instanceof Error && inner.message) || codeText || String(inner);
  const at = where(target);
  let message: string;
  switch (codeText) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      message = `PostgreSQL is not reachable at ${at} (${codeText}). Is the server running, and is DATABASE_URL right?`;
      break;
    case '3D000':
      message = `Database "${target.database}" does not exist on the PostgreSQL server at ${at}`;
      break;
    case '28P01':
    case '28000':
      message = `PostgreSQL at ${at} rejected user "${target.user}": ${reason}`;
      break;
    case '42501':
      message = `User "${target.user}" lacks a privilege on the PostgreSQL server at ${at}: ${reason}`;
      break;
    default:
      message = /timeout/i.test(reason)
        ? `PostgreSQL is not reachable at ${at} (connection timed out). Is the server running, and is DATABASE_URL right?`
        : `PostgreSQL at ${at} (database "${target.database}"): ${reason}`;
  }
  return new DatabaseError(message, codeText, { cause: error });
}

function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function connectClient(databaseUrl: string, target: DatabaseTarget): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => {}); // a dropped idle connection must not crash the process
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw explainConnectionError(error, target);
  }
  return client;
}

/**
 * Creates the database named in `databaseUrl` when it does not exist, connecting to the `postgres`
 * maintenance database of the same server (then `template1`). Returns true when it created it.
 * A concurrent creation by another process is not an error.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = describeDatabaseUrl(databaseUrl);
  let client: pg.Client;
  try {
    client = await connectClient(withDatabase(databaseUrl, 'postgres'), { ...target, database: 'postgres' });
  } catch (error) {
    if (!(error instanceof DatabaseError) || error.code !== '3D000') throw error;
    client = await connectClient(withDatabase(databaseUrl, 'template1'), {
      ...target,
      database: 'template1',
    });
  }
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
    if (existing.rowCount !== 0) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(target.database)}`);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's unique index.
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } catch (error) {
    throw explainConnectionError(error, target);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `fn` with a schema engine on the database, through a pool this function owns. */
async function withEngine<T>(
  databaseUrl: string,
  target: DatabaseTarget,
  options: MigrationOptions,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 4,
  });
  pool.on('error', () => {});
  const log = options.debug && options.log ? options.log : undefined;
  let engine: SchemaEngine | undefined;
  try {
    engine = await openSchemaEngine(new PrismaPg(pool), log ? { log } : {});
    return await fn(engine);
  } catch (error) {
    // Connection problems surface from inside the engine; name the server when that is the cause.
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (typeof code === 'string' && /^(E[A-Z]+|08\d{3}|57P0\d)$/.test(code))
      throw explainConnectionError(error, target);
    throw error;
  } finally {
    engine?.free();
    await pool.end().catch(() => {});
  }
}

/**
 * Applies the pending migrations of `migrationsDir` to the database and returns the names of
 * those it applied (empty when up to date). The database must exist (see `ensureDatabase`).
 * Concurrent calls, from this process or others, are serialised with an advisory lock.
 */
export async function deployMigrations(
  databaseUrl: string,
  migrationsDir: string = MIGRATIONS_DIR,
  options: MigrationOptions = {},
): Promise<string[]> {
  const target = describeDatabaseUrl(databaseUrl);
  const migrationsList = await listMigrations(migrationsDir);
  const lockClient = await connectClient(databaseUrl, target);
  try {
    const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
    await lockClient.query(`SET lock_timeout = ${lockTimeout}`);
    try {
      await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') {
        throw new DatabaseError(
          `Timed out after ${lockTimeout} ms waiting for another migration deploy on ${where(target)}/${target.database}`,
          '55P03',
          { cause: error },
        );
      }
      throw explainConnectionError(error, target);
    }
    const { appliedMigrationNames } = await withEngine(databaseUrl, target, options, (engine) =>
      runEngineCommand(`applying migrations to ${where(target)}/${target.database}`, () =>
        engine.applyMigrations({ migrationsList, filters: NO_SCHEMA_FILTER }),
      ),
    );
    for (const name of appliedMigrationNames) options.log?.(`applied migration ${name}`);
    return appliedMigrationNames;
  } finally {
    // Ending the session releases the advisory lock, even if the unlock itself failed.
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await lockClient.end().catch(() => {});
  }
}

/** Compares the migrations on disk with those recorded in the database. Read-only. */
export async function migrationStatus(
  databaseUrl: string,
  migrationsDir: string = MIGRATIONS_DIR,
  options: MigrationOptions = {},
): Promise<MigrationStatus> {
  const target = describeDatabaseUrl(databaseUrl);
  const migrationsList = await listMigrations(migrationsDir);
  // Connect once first, so that an unreachable server or a missing database gets a clear message.
  const probe = await connectClient(databaseUrl, target);
  await probe.end().catch(() => {});
  const output = await withEngine(databaseUrl, target, options, (engine) =>
    runEngineCommand(`reading the migration history of ${where(target)}/${target.database}`, () =>
      engine.diagnoseMigrationHistory({
        migrationsList,
        optInToShadowDatabase: false,
        filters: NO_SCHEMA_FILTER,
      }),
    ),
  );
  const history = output.history;
  const unapplied = history && 'unappliedMigrationNames' in history ? history.unappliedMigrationNames : [];
  const unpersisted =
    history && 'unpersistedMigrationNames' in history ? history.unpersistedMigrationNames : [];
  return {
    migrations: migrationsList.migrationDirectories.map((dir) => dir.path),
    hasMigrationsTable: output.hasMigrationsTable,
    upToDate:
      history === null &&
      output.failedMigrationNames.length === 0 &&
      output.editedMigrationNames.length === 0,
    unappliedMigrationNames: unapplied,
    unpersistedMigrationNames: unpersisted,
    failedMigrationNames: output.failedMigrationNames,
    editedMigrationNames: output.editedMigrationNames,
    history,
  };
}
