/**
 * docker-compose.yml and the Dockerfile, checked without Docker: the full stack (PostgreSQL, Redis with
 * hz 100, the API without a worker inside, a separate worker), a real health check on every service,
 * start-up ordered by health, no secret with a default (PostgreSQL password, Redis password, master key),
 * environments this version's loadConfig accepts, and an image on Node 24 that runs the compiled build.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  init?: boolean;
}

const root = new URL('../../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services: Record<string, Service>;
};
const { postgres, redis, opentsb, worker } = compose.services;

/** A value as compose interpolates it: `${NAME:-default}` and `${NAME:?error}` (which fails when NAME is unset). */
function interpolate(value: string, values: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, variable: string, operator, text: string) => {
    const given = values[variable];
    if (given !== undefined && given !== '') return given;
    if (operator === '-') return text;
    throw new Error(`compose refuses to start: ${variable} ${text ?? 'is not set'}`);
  });
}

/** The environment as compose gives it, substituted from `values`. */
function environmentOf(service: Service, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      interpolate(String(value), values),
    ]),
  );
}

const SECRETS = {
  TSB_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
  POSTGRES_PASSWORD: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6',
  REDIS_PASSWORD: 'f6e5d4c3b2a1f6e5d4c3b2a1f6e5d4c3b2a1f6e5d4c3b2a1',
};

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis (hz 100), the API and a separate worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['opentsb', 'postgres', 'redis', 'worker']);
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(redis?.image).toMatch(/^redis:/);
    expect(redis?.command?.join(' ')).toContain('--hz 100');
    expect(opentsb?.environment?.TSB_WORKFLOW_WORKER).toBe('false');
    expect(worker?.command).toEqual(['node', 'dist/worker.js']);
  });

  it('gives every service a real health check and starts each after what it needs is healthy', () => {
    expect(postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(redis?.healthcheck?.test.join(' ')).toContain('redis-cli ping | grep -q PONG');
    expect(redis?.environment?.REDISCLI_AUTH).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    expect(opentsb?.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:8080/readyz');
    const workerPort = worker?.environment?.TSB_WORKER_HTTP_PORT;
    expect(workerPort).toMatch(/^\d+$/);
    expect(worker?.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${workerPort}/readyz`);
    expect(opentsb?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    // the worker waits for the API, which runs the migrations
    expect(worker?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      opentsb: { condition: 'service_healthy' },
    });
  });

  it('lets SIGTERM reach node and gives it longer than its own shutdown grace', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    expect(dockerfile).toContain('CMD ["node", "dist/server.js"]');
    for (const service of [opentsb!, worker!]) {
      expect(service.init).toBe(true);
      const graceMs = Number(service.environment?.TSB_SHUTDOWN_GRACE_MS);
      const stopSeconds = Number(/^(\d+)s$/.exec(service.stop_grace_period ?? '')?.[1]);
      expect(stopSeconds * 1_000).toBeGreaterThan(graceMs);
    }
  });

  it('has no default for a secret: trust authentication, a password-less Redis or no master key cannot start', () => {
    expect(postgres?.environment?.POSTGRES_HOST_AUTH_METHOD).toBeUndefined();
    expect(postgres?.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    const requirePass = redis?.command?.indexOf('--requirepass') ?? -1;
    expect(requirePass).toBeGreaterThan(0);
    expect(redis?.command?.[requirePass + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    for (const service of [opentsb!, worker!]) {
      for (const missing of Object.keys(SECRETS)) {
        const values: Record<string, string> = { ...SECRETS };
        delete values[missing];
        expect(() => environmentOf(service, values), missing).toThrow(missing);
      }
      const env = environmentOf(service, SECRETS);
      expect(env.DATABASE_URL).toBe(
        `postgresql://postgres:${SECRETS.POSTGRES_PASSWORD}@postgres:5432/opentsb`,
      );
      expect(env.REDIS_URL).toBe(`redis://:${SECRETS.REDIS_PASSWORD}@redis:6379`);
    }
    const ignored = readFileSync(new URL('.dockerignore', root), 'utf8').split('\n');
    expect(ignored).toContain('.env');
  });

  it('builds on node:24 in two stages and runs the compiled build with a health check', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
    expect(stages).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).not.toContain('COPY src');
    expect(runtime).not.toMatch(/--import.*tsx/);
    expect(runtime).toMatch(/\nHEALTHCHECK [^\n]*\\\n\s+CMD \[[^\n]*\/readyz/);
  });

  it('configures the API and the worker with settings loadConfig accepts', () => {
    const values = SECRETS;
    const api = loadConfig(environmentOf(opentsb!, values));
    expect(api.workflow.runWorker).toBe(false);
    expect(api.operations.metricsToken).toBeNull();
    expect(api.masterKey?.length).toBe(32);
    const background = loadConfig(
      environmentOf(worker!, { ...values, TSB_METRICS_TOKEN: 'a-metrics-token-of-32-characters' }),
    );
    expect(background.operations.workerHttpPort).toBe(Number(worker?.environment?.TSB_WORKER_HTTP_PORT));
    expect(background.operations.metricsToken).toBe('a-metrics-token-of-32-characters');
    expect(background.redisUrl).toBe(`redis://:${SECRETS.REDIS_PASSWORD}@redis:6379`);
  });
});
