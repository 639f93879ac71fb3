/**
 * `npm run test:readme`: runs the shell examples of README.md, in order, in one bash (`set -Eeuo pipefail`),
 * from the project directory, against a server of its own: a free port, a fresh database `readme_<random>`
 * (created by the server, as the README says), its own TSB_DATA_DIR and TMPDIR, its own Redis database index
 * and queue prefix. The README is written against the defaults; the runner points them at that server:
 * `http://localhost:8080` becomes the server's URL and `postgresql://postgres@127.0.0.1:5432/opentsb…` a
 * database named `readme_<random>…`. Fails on the first failing command and prints its README line, its block
 * and the block's output. Blocks marked `<!-- readme-test: skip -->` are not run (scripts/readme/blocks.ts).
 *
 * Environment: README_FILE (default README.md), README_REDIS_DB (default 13), README_TIMEOUT_SECONDS (900).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type ChildService, ROOT, startApi, stop } from '../test/helpers/processes.js';
import { type ShellBlock, shellBlocks } from './readme/blocks.js';

const README = path.resolve(ROOT, process.env['README_FILE'] ?? 'README.md');
const NAME = path.basename(README);
const POSTGRES_SERVER = 'postgresql://postgres@127.0.0.1:5432';
const REDIS_DB = Number(process.env['README_REDIS_DB'] ?? 13);
const TIMEOUT_MS = Number(process.env['README_TIMEOUT_SECONDS'] ?? 900) * 1000;
const FAILED = 'readme-test: failed at script line ';

interface Run {
  database: string;
  queuePrefix: string;
  directory: string;
  env: Record<string, string>;
}

/** The script bash runs, and for each of its lines the README line it came from (0 for the runner's own). */
function script(blocks: ShellBlock[], serverUrl: string, database: string) {
  const text: string[] = [
    'set -Eeuo pipefail',
    'exec 2>&1',
    `trap 'echo "${FAILED}$LINENO (exit $?): $BASH_COMMAND"' ERR`,
  ];
  const origin: number[] = [0, 0, 0];
  blocks.forEach((block, index) => {
    text.push(`echo ${shellQuote(`── block ${index + 1}, ${NAME} line ${block.line} (${block.section})`)}`);
    origin.push(0);
    block.lines.forEach((line, k) => {
      text.push(pointAtOwnServer(line, serverUrl, database));
      origin.push(block.line + k);
    });
  });
  return { text: `${text.join('\n')}\n`, origin };
}

function pointAtOwnServer(line: string, serverUrl: string, database: string): string {
  return line
    .replaceAll('http://localhost:8080', serverUrl)
    .replaceAll(`${POSTGRES_SERVER}/opentsb`, `${POSTGRES_SERVER}/${database}`);
}

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

async function main(): Promise<number> {
  const blocks = shellBlocks(readFileSync(README, 'utf8'));
  const suffix = randomBytes(4).toString('hex');
  const directory = mkdtempSync(path.join(tmpdir(), 'readme-'));
  const run: Run = {
    database: `readme_${suffix}`,
    queuePrefix: `readme-${suffix}`,
    directory,
    env: {
      DATABASE_URL: `${POSTGRES_SERVER}/readme_${suffix}`,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      TSB_QUEUE_PREFIX: `readme-${suffix}`,
      TSB_DATA_DIR: path.join(directory, 'data'),
    },
  };
  let server: ChildService | undefined;
  try {
    server = await startApi('readme server', {
      ...run.env,
      // as `npm start` runs it: NODE_ENV unset, not the production mode of the test helpers' services
      NODE_ENV: 'development',
      TSB_RUN_MIGRATIONS: 'true',
      TSB_RATE_LIMIT_MAX: '1000',
      TSB_RATE_LIMIT_UNAUTHENTICATED_MAX: '20',
    });
    console.log(`${NAME}: ${blocks.length} shell blocks against ${server.url} (database ${run.database})`);
    const { text, origin } = script(blocks, server.url, run.database);
    const code = await runBash(text, origin, blocks, run);
    if (code !== 0) console.error(`\nserver output (last lines):\n${server.output.slice(-40).join('\n')}`);
    return code;
  } finally {
    if (server) await stop(server);
    await cleanUp(run);
  }
}

function runBash(text: string, origin: number[], blocks: ShellBlock[], run: Run): Promise<number> {
  const child = spawn('bash', ['-s'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...run.env,
      TMPDIR: run.directory,
      // npx must never fetch a package from the registry: the README's `npx tsb` is the project's own bin
      npm_config_yes: 'false',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    output.push(chunk.toString('utf8'));
  });
  child.stdin.end(text);
  const timer = setTimeout(() => {
    console.error(`\n${NAME} examples still running after ${TIMEOUT_MS / 1000} s: stopped`);
    child.kill('SIGKILL');
  }, TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        console.log(`\n${NAME}: all ${blocks.length} shell blocks ran`);
        resolve(0);
        return;
      }
      console.error(failureReport(output.join(''), origin, blocks, code ?? signal));
      resolve(1);
    });
  });
}

function failureReport(
  output: string,
  origin: number[],
  blocks: ShellBlock[],
  status: number | string | null,
): string {
  const failure = output.split('\n').find((line) => line.startsWith(FAILED));
  const scriptLine = failure ? Number.parseInt(failure.slice(FAILED.length), 10) : Number.NaN;
  const readmeLine = origin[scriptLine - 1] ?? 0;
  const block = [...blocks].reverse().find((b) => b.line <= readmeLine) ?? blocks.at(-1);
  const blockStart = block ? output.lastIndexOf(`${NAME} line ${block.line} (`) : -1;
  return [
    '',
    `${NAME} example failed (${status}): ${failure ?? 'no failing command reported'}`,
    readmeLine ? `at ${NAME} line ${readmeLine}` : '',
    block ? `\nthe block (${NAME} line ${block.line}, ${block.section}):\n${block.lines.join('\n')}` : '',
    blockStart >= 0 ? `\nits output:\n${output.slice(output.indexOf('\n', blockStart) + 1)}` : '',
  ].join('\n');
}

async function cleanUp(run: Run): Promise<void> {
  const client = new pg.Client({ connectionString: `${POSTGRES_SERVER}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_')",
      [run.database],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
  const redis = new Redis(`redis://127.0.0.1:6379/${REDIS_DB}`, { maxRetriesPerRequest: 1 });
  try {
    for await (const keys of redis.scanStream({ match: `${run.queuePrefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
  rmSync(run.directory, { recursive: true, force: true });
}

process.exitCode = await main();
