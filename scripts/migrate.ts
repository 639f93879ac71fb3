/**
 * Prisma migrations without the native schema engine (which cannot be downloaded here): this
 * script drives Prisma's schema engine compiled to WASM (`@prisma/schema-engine-wasm`).
 *
 *   tsx scripts/migrate.ts dev <name>   author prisma/migrations/<timestamp>_<name>/migration.sql from
 *                                       prisma/schema.prisma (= prisma migrate dev --create-only);
 *                                       the history is replayed on an in-memory PGlite, no server needed
 *   tsx scripts/migrate.ts deploy       create the DATABASE_URL database if missing, apply pending migrations
 *                                       (= prisma migrate deploy)
 *   tsx scripts/migrate.ts status [--json]
 *                                       compare prisma/migrations with the database (= prisma migrate status);
 *                                       exit code 1 when they differ
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import {
  DatabaseError,
  deployMigrations,
  describeDatabaseUrl,
  ensureDatabase,
  type MigrationStatus,
  migrationStatus,
} from '../src/db/migrations.js';
import {
  listMigrations,
  MIGRATION_LOCKFILE,
  NO_SCHEMA_FILTER,
  openSchemaEngine,
  runEngineCommand,
  type SchemaEngine,
  SchemaEngineError,
} from '../src/db/schema-engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SCHEMA_PATH = path.join(ROOT, 'prisma', 'schema.prisma');
export const DEFAULT_MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');
const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/opentsb';

export interface AuthorOptions {
  name: string;
  schemaPath?: string;
  migrationsDir?: string;
}

export interface AuthoredMigration {
  /** Folder name, `<timestamp>_<name>`. */
  name: string;
  /** Absolute path of the written migration.sql. */
  file: string;
  script: string;
}

/** In-memory PGlite for the dev database, plus fresh in-memory shadow databases that we close ourselves. */
class InMemoryPostgres implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = 'pglite-in-memory';
  private readonly main = new PGlite();
  private readonly shadows: PGlite[] = [];

  connect(): Promise<SqlDriverAdapter> {
    return new PrismaPGlite(this.main).connect();
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = new PGlite();
    this.shadows.push(shadow);
    return new PrismaPGlite(shadow).connect();
  }

  async close(): Promise<void> {
    // PGlite must be closed explicitly, or Node exits with code 99.
    for (const db of [this.main, ...this.shadows]) await db.close().catch(() => {});
  }
}

/**
 * Authors the next migration: replays `migrationsDir` on an in-memory PostgreSQL (PGlite), diffs
 * it against the Prisma schema and writes `<timestamp>_<name>/migration.sql` plus
 * `migration_lock.toml`, as `prisma migrate dev --create-only` does. Returns null when the schema
 * and the migrations already agree.
 */
export async function authorMigration(options: AuthorOptions): Promise<AuthoredMigration | null> {
  const schemaPath = path.resolve(options.schemaPath ?? DEFAULT_SCHEMA_PATH);
  const migrationsDir = path.resolve(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const schema = await readFile(schemaPath, 'utf8');
  const migrationsList = await listMigrations(migrationsDir, { allowMissing: true });
  const schemaFiles = { files: [{ path: schemaPath, content: schema }] };

  const postgres = new InMemoryPostgres();
  let engine: SchemaEngine | undefined;
  try {
    engine = await openSchemaEngine(postgres, { datamodels: [[schemaPath, schema]] });
    const e = engine;
    // The dev database starts empty: bring it to the end of the history first.
    await runEngineCommand('replaying the existing migrations', () =>
      e.applyMigrations({ migrationsList, filters: NO_SCHEMA_FILTER }),
    );
    const diagnostic = await runEngineCommand('checking the migration history', () =>
      e.devDiagnostic({ migrationsList, filters: NO_SCHEMA_FILTER }),
    );
    if (diagnostic.action.tag === 'reset') {
      throw new SchemaEngineError(`The migration history is inconsistent: ${diagnostic.action.reason}`);
    }
    const created = await runEngineCommand('creating the migration', () =>
      e.createMigration({
        draft: false,
        migrationName: options.name,
        migrationsList,
        schema: schemaFiles,
        filters: NO_SCHEMA_FILTER,
      }),
    );
    if (created.migrationScript === null) return null;

    const directory = path.join(migrationsDir, created.generatedMigrationName);
    if (
      await stat(directory).then(
        () => true,
        () => false,
      )
    ) {
      throw new Error(`The migration directory already exists at ${directory}`);
    }
    await mkdir(directory, { recursive: true });
    const file = path.join(directory, `migration.${created.extension}`);
    await writeFile(file, created.migrationScript, 'utf8');
    await writeFile(
      path.join(migrationsDir, MIGRATION_LOCKFILE),
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${created.connectorType}"\n`,
      'utf8',
    );
    // Prove the new migration applies on top of the history.
    const updated = await listMigrations(migrationsDir);
    await runEngineCommand('applying the new migration', () =>
      e.applyMigrations({ migrationsList: updated, filters: NO_SCHEMA_FILTER }),
    );
    return { name: created.generatedMigrationName, file, script: created.migrationScript };
  } finally {
    engine?.free();
    await postgres.close();
  }
}

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  return url === undefined || url === '' ? DEFAULT_DATABASE_URL : url;
}

function printStatus(status: MigrationStatus, url: string): void {
  const target = describeDatabaseUrl(url);
  const count = status.migrations.length;
  console.log(`${count} migration${count === 1 ? '' : 's'} found in prisma/migrations`);
  console.log(`Database "${target.database}" at ${target.host}:${target.port}`);
  if (status.upToDate) {
    console.log('Database schema is up to date!');
    return;
  }
  const list = (title: string, names: string[]) => {
    if (names.length > 0) console.log(`${title}:\n${names.map((n) => `  ${n}`).join('\n')}`);
  };
  list('Following migrations have not yet been applied', status.unappliedMigrationNames);
  list(
    'Following migrations are applied but missing from prisma/migrations',
    status.unpersistedMigrationNames,
  );
  list('Following migrations have failed', status.failedMigrationNames);
  list('Following migrations were modified after they were applied', status.editedMigrationNames);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev': {
      const name = rest.find((arg) => !arg.startsWith('-'));
      if (name === undefined || name.trim() === '') {
        console.error('Usage: npm run migrate:dev -- <name>');
        return 2;
      }
      const created = await authorMigration({ name });
      if (created === null) {
        console.log('No schema changes.');
      } else {
        console.log(`Created ${path.relative(process.cwd(), created.file)}`);
      }
      return 0;
    }
    case 'deploy': {
      const url = databaseUrl();
      if (await ensureDatabase(url)) console.log(`Created database "${describeDatabaseUrl(url).database}"`);
      const applied = await deployMigrations(url, DEFAULT_MIGRATIONS_DIR);
      if (applied.length === 0) {
        console.log('No pending migrations to apply.');
      } else {
        console.log(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
        for (const name of applied) console.log(`  ${name}`);
      }
      return 0;
    }
    case 'status': {
      const url = databaseUrl();
      const status = await migrationStatus(url, DEFAULT_MIGRATIONS_DIR);
      if (rest.includes('--json')) console.log(JSON.stringify(status, null, 2));
      else printStatus(status, url);
      return status.upToDate ? 0 : 1;
    }
    default:
      console.error('Usage: tsx scripts/migrate.ts dev <name> | deploy | status [--json]');
      return 2;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const known = error instanceof DatabaseError || error instanceof SchemaEngineError;
      console.error(known || !(error instanceof Error) ? String((error as Error).message ?? error) : error);
      process.exitCode = 1;
    },
  );
}
