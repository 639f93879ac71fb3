/**
 * Loads and drives Prisma's schema engine compiled to WebAssembly (`@prisma/schema-engine-wasm`).
 *
 * The Prisma 7 CLI can only run migrations through the native schema-engine binary, which cannot be
 * downloaded here, so OpenTSB drives the published WASM build of the very same engine through a
 * driver adapter (`@prisma/adapter-pg` against PostgreSQL, PGlite when authoring). The engine
 * itself creates and maintains `_prisma_migrations`, so the history it records is the one the
 * Prisma CLI records. This is an internal Prisma API: the package is pinned exactly and must be
 * re-tested on every Prisma upgrade.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type {
  MigrationDirectory,
  MigrationList,
  SchemaEngine,
  SchemaFilter,
} from '@prisma/schema-engine-wasm';

export type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

type SchemaEngineClass = typeof SchemaEngine;

/** Entities excluded from migrations (none). Mirrors prisma.config.ts `tables.external` / `enums.external`. */
export const NO_SCHEMA_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

/** The lock file Prisma keeps next to the migration folders. */
export const MIGRATION_LOCKFILE = 'migration_lock.toml';

export class SchemaEngineError extends Error {
  /** Prisma error code (e.g. P3009) when the engine gave one. */
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaEngineError';
    this.code = code;
  }
}

// wasm-bindgen keeps module-level state in the (shared, natively loaded) glue module, so the WASM
// instance must be created only once per process, even when this file is evaluated again (vitest
// re-evaluates source modules for every test file but shares node_modules between them).
const ENGINE_CLASS_KEY = Symbol.for('opentsb.schemaEngineWasm');
type GlobalWithEngine = typeof globalThis & { [ENGINE_CLASS_KEY]?: Promise<SchemaEngineClass> };

/*
 * The engine sets JS timers (e.g. a 10 s timeout raced against `pg_advisory_lock`) and never clears
 * them: the glue imports `setTimeout` but not `clearTimeout`. Such a stale timer would keep a CLI
 * process (or vitest's main process) alive for 10 s after a deploy. So timers created by the engine
 * are tracked, and unref'd once no engine command is running any more: a timer that fires later only
 * wakes a future that was dropped long ago.
 */
const engineTimers = new Set<NodeJS.Timeout>();
let runningCommands = 0;

function trackedSetTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  const timer: NodeJS.Timeout = setTimeout(() => {
    engineTimers.delete(timer);
    callback();
  }, ms);
  if (runningCommands === 0) timer.unref();
  else engineTimers.add(timer);
  return timer;
}

async function tracked<T>(command: () => Promise<T>): Promise<T> {
  runningCommands += 1;
  try {
    return await command();
  } finally {
    runningCommands -= 1;
    if (runningCommands === 0) {
      for (const timer of engineTimers) timer.unref();
      engineTimers.clear();
    }
  }
}

/** The global WebAssembly API (its types come with the DOM lib, which this project does not load). */
function wasmApi(): {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
} {
  return (globalThis as unknown as { WebAssembly: ReturnType<typeof wasmApi> }).WebAssembly;
}

async function instantiateEngineClass(): Promise<SchemaEngineClass> {
  const require = createRequire(import.meta.url);
  // The package's `exports` only expose the JS glue; the .wasm file sits next to it.
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const runtime = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = await readFile(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
  const imports: Record<string, unknown> = { ...runtime };
  for (const name of Object.keys(imports)) {
    if (name.startsWith('__wbg_setTimeout_')) {
      imports[name] = (callback: () => void, ms: number) => trackedSetTimeout(callback, ms >>> 0);
    }
  }
  const { instance } = await wasmApi().instantiate(bytes, { './schema_engine_bg.js': imports });
  runtime.__wbg_set_wasm(instance.exports);
  (instance.exports['__wbindgen_start'] as () => void)();
  return runtime.SchemaEngine;
}

function engineClass(): Promise<SchemaEngineClass> {
  const g = globalThis as GlobalWithEngine;
  if (g[ENGINE_CLASS_KEY] === undefined) {
    g[ENGINE_CLASS_KEY] = instantiateEngineClass().catch((error: unknown) => {
      delete g[ENGINE_CLASS_KEY];
      throw error;
    });
  }
  return g[ENGINE_CLASS_KEY];
}

export interface OpenEngineOptions {
  /** Prisma schema files as [path, content], needed by commands that read the datamodel. */
  datamodels?: [string, string][];
  /** Receives the engine's debug log lines. */
  log?: (line: string) => void;
}

/**
 * Opens a schema engine on a driver adapter factory. The caller owns the factory's resources
 * (pool, PGlite) and must `free()` the engine before releasing them.
 */
export async function openSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  options: OpenEngineOptions = {},
): Promise<SchemaEngine> {
  const Engine = await engineClass();
  const bound = bindMigrationAwareSqlAdapterFactory(adapterFactory);
  const log = options.log ?? (() => {});
  try {
    return await tracked(() => Engine.new({ datamodels: options.datamodels }, log, bound));
  } catch (error) {
    throw toEngineError('starting the schema engine', error);
  }
}

/** Runs one engine command, turning the engine's error objects into a readable SchemaEngineError. */
export async function runEngineCommand<T>(what: string, command: () => Promise<T>): Promise<T> {
  try {
    return await tracked(command);
  } catch (error) {
    throw toEngineError(what, error);
  }
}

function toEngineError(what: string, error: unknown): SchemaEngineError {
  if (error instanceof SchemaEngineError) return error;
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof record['code'] === 'string' ? record['code'] : undefined;
  let message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  if (message === '' && typeof record['message'] === 'string') message = record['message'];
  if (message === '') message = String(error);
  // Drop the engine's Rust span trace ("   0: sql_schema_connector::…"); it stays in `cause`.
  message = message.replace(/\n\s+0: [\s\S]*$/, '').trimEnd();
  return new SchemaEngineError(
    `Schema engine failed while ${what}: ${code ? `${code} ` : ''}${message}`,
    code,
    {
      cause: error,
    },
  );
}

/**
 * Reads a migrations folder the way the Prisma CLI does: every sub-folder is a migration whose
 * `migration.sql` is passed to the engine, sorted by name; the lock file is passed when present.
 */
export async function listMigrations(
  migrationsDir: string,
  options: { allowMissing?: boolean } = {},
): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  const lockfileContent = await readFile(path.join(baseDir, MIGRATION_LOCKFILE), 'utf8').catch(() => null);
  let entries: string[] = [];
  try {
    const dirents = await readdir(baseDir, { withFileTypes: true });
    entries = dirents.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!options.allowMissing) throw new Error(`There is no migrations directory at ${baseDir}`);
  }
  entries.sort((a, b) => a.localeCompare(b));
  const migrationDirectories: MigrationDirectory[] = [];
  for (const name of entries) {
    const file = 'migration.sql';
    const content = await readFile(path.join(baseDir, name, file), 'utf8').then(
      (value) => ({ tag: 'ok' as const, value }),
      (error: unknown) => ({
        tag: 'error' as const,
        value: error instanceof Error ? error.message : String(error),
      }),
    );
    migrationDirectories.push({ path: name, migrationFile: { path: file, content } });
  }
  return {
    baseDir,
    lockfile: { path: MIGRATION_LOCKFILE, content: lockfileContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}
