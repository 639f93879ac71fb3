/**
 * docker-compose.yml, checked without Docker: the full stack (PostgreSQL, Redis with hz 100, the API
 * without a worker inside, a separate worker), a real health check on every service, start-up ordered
 * by health, and environments this version's loadConfig accepts.
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

/** The environment as compose gives it, `${NAME:-}` substituted from `values`. */
function environmentOf(service: Service, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      String(value).replace(
        /\$\{(\w+):-([^}]*)\}/g,
        (_, variable: string, fallback: string) => values[variable] ?? fallback,
      ),
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis (hz 100), the API and a separate worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['opentsb', 'postgres', 'redis', 'worker']);
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(redis?.image).toMatch(/^redis:/);
    expect(redis?.command?.join(' ')).toContain('--hz 100');
    expect(opentsb?.environment?.TSB_WORKFLOW_WORKER).toBe('false');
    expect(worker?.command).toEqual(['node', '--import', 'tsx', 'src/worker.ts']);
  });

  it('gives every service a real health check and starts each after what it needs is healthy', () => {
    expect(postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(redis?.healthcheck?.test.join(' ')).toContain('redis-cli ping');
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
    expect(dockerfile).toContain('CMD ["node", "--import", "tsx", "src/server.ts"]');
    for (const service of [opentsb!, worker!]) {
      expect(service.init).toBe(true);
      const graceMs = Number(service.environment?.TSB_SHUTDOWN_GRACE_MS);
      const stopSeconds = Number(/^(\d+)s$/.exec(service.stop_grace_period ?? '')?.[1]);
      expect(stopSeconds * 1_000).toBeGreaterThan(graceMs);
    }
  });

  it('configures the API and the worker with settings loadConfig accepts', () => {
    const values = { TSB_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
    const api = loadConfig(environmentOf(opentsb!, values));
    expect(api.workflow.runWorker).toBe(false);
    expect(api.operations.metricsToken).toBeNull();
    expect(api.masterKey?.length).toBe(32);
    const background = loadConfig(
      environmentOf(worker!, { ...values, TSB_METRICS_TOKEN: 'a-metrics-token-of-32-characters' }),
    );
    expect(background.operations.workerHttpPort).toBe(Number(worker?.environment?.TSB_WORKER_HTTP_PORT));
    expect(background.operations.metricsToken).toBe('a-metrics-token-of-32-characters');
    expect(background.redisUrl).toBe('redis://redis:6379');
  });
});
