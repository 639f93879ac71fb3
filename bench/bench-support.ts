/**
 * What bench/sign-bench.ts and bench/workflow-bench.ts share: the log line, clean-up steps that run once
 * (at the end, on error, and on SIGINT/SIGTERM), a fresh migrated database of the bench's own, CPU
 * accounting from /proc and the git revision for the report.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { deployMigrations } from '../src/db/migrations.js';
import { ROOT } from '../test/helpers/processes.js';

export { ROOT };

export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

// ---------------------------------------------------------------------------------------------
// Log and clean-up, run once: at the end, on error, and on SIGINT/SIGTERM

export type CleanupStep = () => Promise<void> | void;

export interface BenchRun {
  /** one line on stderr, `[prefix] line` */
  log(line: string): void;
  /** a clean-up step; the steps run last first */
  defer(step: CleanupStep): void;
  /** runs the clean-up steps, once (later calls share the first run) */
  cleanup(): Promise<void>;
  /** runs `main`, then the clean-up; on error logs it, cleans up and sets the exit code 1 */
  run(main: () => Promise<void>): Promise<void>;
}

/**
 * The log and clean-up of one bench script; on SIGINT/SIGTERM it logs `<signal>: <stopping>`, cleans
 * up and exits 130.
 */
export function benchRun(prefix: string, stopping: string): BenchRun {
  const log = (line: string) => {
    process.stderr.write(`[${prefix}] ${line}\n`);
  };
  const steps: CleanupStep[] = [];
  let cleaningUp: Promise<void> | null = null;
  const cleanup = (): Promise<void> => {
    cleaningUp ??= (async () => {
      for (const step of steps.splice(0).reverse()) {
        try {
          await step();
        } catch (error) {
          log(`clean-up step failed: ${(error as Error).message}`);
        }
      }
    })();
    return cleaningUp;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: ${stopping}`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  return {
    log,
    defer: (step) => {
      steps.push(step);
    },
    cleanup,
    run: async (main) => {
      try {
        await main();
        await cleanup();
      } catch (error) {
        log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        await cleanup();
        process.exitCode = 1;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Database

export interface BenchDatabase {
  name: string;
  /** the bench database on the server of BENCH_PG_URL */
  url: string;
  /** runs `work` on a maintenance connection (BENCH_PG_URL) */
  withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T>;
  /** drops and creates the database, migrates it, and has `run` drop it at the end */
  create(run: BenchRun): Promise<void>;
}

/**
 * The bench database named by the environment variable `variable` (default `fallback`), on the server
 * of BENCH_PG_URL (maintenance connection, default postgresql://postgres@127.0.0.1:5432/postgres).
 */
export function benchDatabase(variable: string, fallback: string): BenchDatabase {
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = process.env[variable] ?? fallback;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`${variable} must be a plain lower-case identifier`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const withAdmin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const drop = () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const database: BenchDatabase = {
    name,
    url: url.toString(),
    withAdmin,
    create: async (run) => {
      await drop();
      await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
      run.defer(async () => {
        await drop();
        run.log(`dropped database ${name}`);
      });
      await deployMigrations(database.url, path.join(ROOT, 'prisma', 'migrations'));
    },
  };
  return database;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux; zero elsewhere)

const CLOCK_TICKS = 100;

/** User + system CPU seconds of a process, all threads (0 without a pid). */
export function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** CPU seconds of every process named postgres, by pid (the bench database's backends among them). */
export function postgresCpu(): Map<number, number> {
  const cpu = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return cpu;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/stat`, 'utf8').includes('(postgres)')) continue;
      cpu.set(Number(entry), processCpuSeconds(Number(entry)));
    } catch {
      // the process ended meanwhile
    }
  }
  return cpu;
}

/** CPU postgres used between two snapshots; a backend that ended meanwhile is left out (undercount). */
export function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of postgresCpu()) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** CPU seconds of all postgres processes together. */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const seconds of postgresCpu().values()) total += seconds;
  return total;
}

/** Busy CPU seconds of the whole machine (/proc/stat), for the foreign-load estimate. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return (total - idle) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Report

/** The short HEAD revision, marked when the working tree has uncommitted changes. */
export function gitRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

export function distribution(values: readonly number[]): Distribution {
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(values.length === 0 ? Number.NaN : Math.max(...values)),
    mean: round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length)),
    count: values.length,
  };
}
