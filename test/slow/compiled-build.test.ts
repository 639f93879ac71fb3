/**
 * `npm run build` gives a dist/ that runs without tsx, as the Docker image runs it: `node dist/server.js`
 * starts, applies migrations, answers /readyz, serves the approver page's static files, signs through
 * the signature worker pool (the compiled .js worker) and through node:crypto, and `node dist/worker.js`
 * and the CLI of dist/cli/tsb.js run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort, ROOT, serviceEnvironment, sleep } from '../helpers/processes.js';

const PARTITION = 'compiled';

let db: TestDatabase;
let dataDir: string;
const running: ReturnType<typeof spawn>[] = [];

function environment(extra: Record<string, string>) {
  return serviceEnvironment({
    DATABASE_URL: db.url,
    TSB_DATA_DIR: dataDir,
    TSB_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    TSB_RUN_MIGRATIONS: 'true',
    TSB_AUTH_NONE_PARTITION: PARTITION,
    LOG_LEVEL: 'warn',
    ...extra,
  });
}

function startNode(script: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  running.push(child);
  return { child, output };
}

async function waitReady(url: string, child: ReturnType<typeof spawn>, output: string[]) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited during start-up:\n${output.join('')}`);
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`not ready within 60 s:\n${output.join('')}`);
}

beforeAll(async () => {
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'opentsb-dist-'));
});

afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the compiled build (dist/)', () => {
  it('node dist/server.js serves, signs in the worker pool and with node:crypto, and shuts down on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const { child, output } = startNode(
      'dist/server.js',
      environment({ HOST: '127.0.0.1', PORT: String(port), TSB_WORKFLOW_WORKER: 'false' }),
    );
    await waitReady(url, child, output);

    const page = await fetch(`${url}/approver`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect((await fetch(`${url}/approver/approver.js`)).status).toBe(200);

    const payload = Buffer.from('compiled').toString('base64');
    for (const [label, algorithm, signatureAlgorithm] of [
      ['slh', 'SLH-DSA-SHA2-128f', 'SLH_DSA'],
      ['mldsa', 'ML-DSA-65', 'ML_DSA'],
      ['rsa', 'RSA', 'NONESHA256_WITH_RSA'],
    ] as const) {
      const created = await fetch(`${url}/v1/key`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          label,
          algorithm,
          ...(algorithm === 'RSA' ? { keySize: 2048 } : {}),
          attributes: { decrypt: false, sign: true, unwrap: false },
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const digest = Buffer.alloc(32, 1).toString('base64');
      const signRequest = {
        signKeyName: label,
        signatureAlgorithm,
        payload: algorithm === 'RSA' ? digest : payload,
      };
      const signed = await fetch(`${url}/v1/synchronousSign`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ signRequest }),
      });
      expect(signed.status, await signed.clone().text()).toBe(200);
      const { signature } = (await signed.json()) as { signature: string };
      const verified = await fetch(`${url}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ verifySignatureRequest: { ...signRequest, signature } }),
      });
      expect(((await verified.json()) as { signatureValid: boolean }).signatureValid, label).toBe(true);
    }

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('node dist/worker.js becomes ready, and node dist/cli/tsb.js runs', async () => {
    const port = await freePort();
    const { child, output } = startNode(
      'dist/worker.js',
      environment({ TSB_WORKER_HTTP_PORT: String(port), TSB_RUN_MIGRATIONS: 'false' }),
    );
    await waitReady(`http://127.0.0.1:${port}`, child, output);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    // what bin/tsb.js runs where the sources are not shipped
    const script =
      "const { main } = await import('./dist/cli/tsb.js'); process.exitCode = await main(['partition', 'list']);";
    const cli = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: environment({}),
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(PARTITION);
  });
});
