import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/opentsb',
      redisUrl: 'redis://127.0.0.1:6379',
      masterKey: null,
      tls: null,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('decodes a 32-byte base64 master key', () => {
    const key = randomBytes(32);
    expect(loadConfig({ TSB_MASTER_KEY: key.toString('base64') }).masterKey?.equals(key)).toBe(true);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        TSB_MASTER_KEY: randomBytes(16).toString('base64'),
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        TLS_CERT_FILE: '/nonexistent/cert.pem',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      'PORT',
      'TSB_MASTER_KEY',
      'DATABASE_URL',
      'LOG_LEVEL',
      'TLS_CERT_FILE',
      'TLS_KEY_FILE',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('reads the operations settings and refuses a short or spaced metrics token', () => {
    expect(loadConfig({}).operations).toEqual({
      metricsToken: null,
      metricsOpen: true,
      workerHttpPort: null,
      shutdownGraceMs: 10_000,
    });
    const set = loadConfig({
      TSB_METRICS_TOKEN: 'abcdefghijklmnop',
      TSB_WORKER_HTTP_PORT: '9464',
      TSB_SHUTDOWN_GRACE_MS: '25000',
    });
    expect(set.operations).toEqual({
      metricsToken: 'abcdefghijklmnop',
      metricsOpen: false,
      workerHttpPort: 9464,
      shutdownGraceMs: 25_000,
    });
    expect(() => loadConfig({ TSB_METRICS_TOKEN: 'short' })).toThrow(/TSB_METRICS_TOKEN/);
    expect(() => loadConfig({ TSB_METRICS_TOKEN: 'sixteen chars or more' })).toThrow(/TSB_METRICS_TOKEN/);
    expect(() => loadConfig({ TSB_SHUTDOWN_GRACE_MS: '10' })).toThrow(/TSB_SHUTDOWN_GRACE_MS/);
  });

  it('closes /metrics in production unless a token is set or TSB_METRICS_PUBLIC=true opts out', () => {
    const production = { NODE_ENV: 'production' };
    expect(loadConfig(production).operations.metricsOpen).toBe(false);
    expect(loadConfig({ ...production, TSB_METRICS_PUBLIC: 'true' }).operations.metricsOpen).toBe(true);
    expect(loadConfig({ ...production, TSB_METRICS_PUBLIC: 'yes' }).operations.metricsOpen).toBe(false);
    expect(() => loadConfig({ TSB_METRICS_PUBLIC: 'true', TSB_METRICS_TOKEN: 'abcdefghijklmnop' })).toThrow(
      /TSB_METRICS_TOKEN or TSB_METRICS_PUBLIC/,
    );
  });

  it('refuses both master key variables together', () => {
    expect(() =>
      loadConfig({
        TSB_MASTER_KEY: randomBytes(32).toString('base64'),
        TSB_MASTER_KEY_FILE: '/etc/hostname',
      }),
    ).toThrow(/either TSB_MASTER_KEY or TSB_MASTER_KEY_FILE/);
  });

  it('waits up to 2 s for the execution the last approval completes, 0 to 10 s when set', () => {
    expect(loadConfig({}).workflow.executionWaitMs).toBe(2_000);
    expect(loadConfig({ TSB_APPROVAL_EXECUTION_WAIT_MS: '0' }).workflow.executionWaitMs).toBe(0);
    expect(() => loadConfig({ TSB_APPROVAL_EXECUTION_WAIT_MS: '60000' })).toThrow(
      /TSB_APPROVAL_EXECUTION_WAIT_MS/,
    );
  });

  it('lets a partition have 10,000 open requests unless TSB_MAX_OPEN_REQUESTS says otherwise (0: no limit)', () => {
    expect(loadConfig({}).workflow.maxOpenRequests).toBe(10_000);
    expect(loadConfig({ TSB_MAX_OPEN_REQUESTS: '0' }).workflow.maxOpenRequests).toBe(0);
    expect(() => loadConfig({ TSB_MAX_OPEN_REQUESTS: '-1' })).toThrow(/TSB_MAX_OPEN_REQUESTS/);
  });

  it('keeps ended SKA requests 90 days unless TSB_REQUEST_RETENTION_DAYS says otherwise (0: for ever)', () => {
    expect(loadConfig({}).workflow.requestRetentionDays).toBe(90);
    expect(loadConfig({ TSB_REQUEST_RETENTION_DAYS: '0' }).workflow.requestRetentionDays).toBe(0);
    expect(loadConfig({ TSB_REQUEST_RETENTION_DAYS: '7' }).workflow.requestRetentionDays).toBe(7);
    expect(() => loadConfig({ TSB_REQUEST_RETENTION_DAYS: '-1' })).toThrow(/TSB_REQUEST_RETENTION_DAYS/);
    expect(() => loadConfig({ TSB_REQUEST_RETENTION_DAYS: '1.5' })).toThrow(/TSB_REQUEST_RETENTION_DAYS/);
  });

  it('reads TSB_AUTH_NONE_HOSTS: lower-case names without brackets, loopback names by default', () => {
    expect(loadConfig({}).authNoneHosts).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(loadConfig({ TSB_AUTH_NONE_HOSTS: ' Dev.Local , [::1],* ' }).authNoneHosts).toEqual([
      'dev.local',
      '::1',
      '*',
    ]);
    expect(() => loadConfig({ TSB_AUTH_NONE_HOSTS: ' , ' })).toThrow(/TSB_AUTH_NONE_HOSTS/);
  });

  it('reads TSB_AUTH_NONE_PARTITION: a partition name, never with TLS client authentication', () => {
    expect(loadConfig({}).authNonePartition).toBeNull();
    expect(loadConfig({ TSB_AUTH_NONE_PARTITION: 'dev-1' }).authNonePartition).toBe('dev-1');
    expect(() => loadConfig({ TSB_AUTH_NONE_PARTITION: 'no spaces' })).toThrow(/TSB_AUTH_NONE_PARTITION/);
    const tls = { TLS_CERT_FILE: '/etc/hostname', TLS_KEY_FILE: '/etc/hostname' };
    expect(loadConfig({ ...tls, TSB_AUTH_NONE_PARTITION: 'dev' }).authNonePartition).toBe('dev');
    expect(() =>
      loadConfig({ ...tls, TLS_CLIENT_CA_FILE: '/etc/hostname', TSB_AUTH_NONE_PARTITION: 'dev' }),
    ).toThrow(/TSB_AUTH_NONE_PARTITION .*TLS client authentication/);
  });
});
