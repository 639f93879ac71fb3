import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { type App, buildApp } from '../../src/app.js';
import type { Role } from '../../src/auth/roles.js';
import type { Clock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Partition, PrismaClient } from '../../src/generated/prisma/client.js';
import type { SoftHsm } from '../../src/hsm/soft-hsm.js';
import type { PartitionFlags } from '../../src/keystore/partitions/partition-flags.js';
import { buildHsm } from '../../src/services.js';
import { createTestDatabase } from './db.js';
import { LEAK_CHECK, LeakRecorder } from './leak-check.js';
import { issueTestToken } from './tokens.js';

export interface TestContext {
  app: App;
  config: Readonly<Config>;
  hsm: SoftHsm;
  prisma: PrismaClient;
  masterKey: Buffer;
  databaseUrl: string;
  partition(name: string, flags?: Partial<PartitionFlags>): Promise<Partition>;
  /** Authorization header of a JWT for the partition with these roles (the same token for the same roles). */
  as(partition: string, roles: Role[]): Promise<Record<string, string>>;
  /** app.inject with a JSON body, authenticated as the partition with the roles. */
  call(
    partition: string,
    roles: Role[],
    options: { method: InjectOptions['method']; url: string; body?: unknown },
  ): Promise<LightMyRequestResponse>;
  /** Every key row, binary columns hashed: equal snapshots mean nothing changed. */
  keySnapshot(): Promise<string>;
  close(): Promise<void>;
}

export interface TestContextOptions {
  logLines?: string[];
  /** the clock of the HSM core and the workflow (default: the system clock) */
  clock?: Clock;
  /** run the SKA workflow worker in this app (default false) */
  worker?: boolean;
  /** further environment for loadConfig */
  env?: Record<string, string>;
}

/** A fresh database, a fresh master key, its own Redis key prefix and the real app, as one test file's world. */
export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'opentsb-test-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    TSB_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TSB_KEY_CACHE_SIZE: '100',
    TSB_QUEUE_PREFIX: `opentsb-test-${randomBytes(6).toString('hex')}`,
    // the rate limit has its own tests; elsewhere it would only count the tests' bursts
    TSB_RATE_LIMIT_MAX: '0',
    TSB_RATE_LIMIT_UNAUTHENTICATED_MAX: '0',
    // without a worker, decisions go to a queue nobody reads (the app runs none it records itself), so that
    // tests see them recorded, not run; an app given a wait runs them as an API without worker does
    ...(options.worker ? {} : { TSB_APPROVAL_EXECUTION_WAIT_MS: '0' }),
    ...options.env,
  });
  const masterKey = randomBytes(32);
  const hsm = buildHsm(config, database.prisma, masterKey, options.clock ? { clock: options.clock } : {});
  const leaks = LEAK_CHECK ? new LeakRecorder() : null;
  const logSinks = [options.logLines, leaks?.logLines].filter((sink): sink is string[] => sink !== undefined);
  const logger =
    logSinks.length > 0
      ? {
          level: 'trace',
          stream: new Writable({
            write(chunk, _encoding, callback) {
              for (const sink of logSinks) sink.push(String(chunk));
              callback();
            },
          }),
        }
      : (false as const);
  const app = await buildApp({ config, prisma: database.prisma, hsm, logger });
  await app.ready();
  if (leaks) recordInjections(app, leaks);
  if (options.worker) {
    await app.workflow.startWorker();
    await app.workflow.rearmed;
  }

  // one token per partition and roles: the calls of a test with the same roles are one principal (the
  // creator of a request can cancel it), as a client reusing its token would be
  const tokens = new Map<string, Promise<string>>();
  const as = async (partition: string, roles: Role[]) => {
    const key = `${partition}\n${[...roles].sort().join(',')}`;
    let token = tokens.get(key);
    if (!token) {
      token = issueTestToken(config, partition, roles);
      tokens.set(key, token);
    }
    return { authorization: `Bearer ${await token}` };
  };
  return {
    app,
    config,
    hsm,
    prisma: database.prisma,
    masterKey,
    databaseUrl: database.url,
    partition: (name, flags) => hsm.partitions.create(name, flags),
    as,
    call: async (partition, roles, { method, url, body }) =>
      app.inject({
        method,
        url,
        headers: await as(partition, roles),
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    keySnapshot: async () => {
      const rows = await database.prisma.key.findMany({ orderBy: { id: 'asc' } });
      const sha256 = (bytes: Uint8Array | null) => bytes && createHash('sha256').update(bytes).digest('hex');
      return rows
        .map((row) =>
          JSON.stringify({
            ...row,
            useCount: String(row.useCount),
            publicKey: sha256(row.publicKey),
            certificate: sha256(row.certificate),
            chainCode: sha256(row.chainCode),
            materialSealed: sha256(row.materialSealed),
          }),
        )
        .join('\n');
    },
    close: async () => {
      const leaked = await leaks?.check(database.prisma, hsm).then(
        () => null,
        (error: unknown) => error,
      );
      await app.close();
      await hsm.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
      if (leaked) throw leaked;
    },
  };
}

/** Leak check: every answer of app.inject (the form with options, as the tests use it) is recorded. */
function recordInjections(app: App, leaks: LeakRecorder): void {
  const inject = app.inject.bind(app) as (options: InjectOptions | string) => Promise<LightMyRequestResponse>;
  (app as unknown as { inject: typeof inject }).inject = async (options: InjectOptions | string) => {
    const response = await inject(options);
    leaks.record(options, response);
    return response;
  };
}
