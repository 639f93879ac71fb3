/**
 * What every process that works on the database does first (API, worker, CLI): create and migrate the
 * database when asked to, and open the master key, which must be the database's. Each step says what it did.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEVELOPMENT_JWT_PRIVATE_KEY_FILE, ensureDevelopmentJwtKeys } from './auth/jwt-keys.js';
import type { Config } from './config.js';
import { deployMigrations, describeDatabaseUrl, ensureDatabase, MIGRATIONS_DIR } from './db/migrations.js';
import { createPrismaClient } from './db/prisma.js';
import type { PrismaClient } from './generated/prisma/client.js';
import { DEVELOPMENT_KEY_WARNING, MasterKeyError, openMasterKey } from './keystore/master-key.js';
import { MasterKeyCheckRepository } from './keystore/master-key-check.repository.js';

/** Where start-up notes go: a pino logger, or the CLI's stderr. */
export interface StartupLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Whether a master key is at hand without making one: configured, or a development key in TSB_DATA_DIR. */
export function masterKeyAvailable(config: Readonly<Config>): boolean {
  return config.masterKey !== null || existsSync(path.join(config.dataDir, 'master.key'));
}

/** host:port/name of the database, for messages (never the password). */
export function databaseName(databaseUrl: string): string {
  const { host, port, database } = describeDatabaseUrl(databaseUrl);
  return `"${database}" at ${host}:${port}`;
}

/** Creates the database when missing and applies pending migrations, unless TSB_RUN_MIGRATIONS=false. */
export async function prepareDatabase(config: Readonly<Config>, log: StartupLog): Promise<void> {
  if (!config.runMigrations) return;
  const database = describeDatabaseUrl(config.databaseUrl).database;
  if (await ensureDatabase(config.databaseUrl)) log.info({ database }, 'database created');
  const applied = await deployMigrations(config.databaseUrl, MIGRATIONS_DIR);
  if (applied.length > 0) log.info({ database, migrations: applied }, 'migrations applied');
}

/**
 * The master key, checked against the database (see openMasterKey); warns when it is a development key.
 * A development key is made only for an unused database (call prepareDevelopmentJwtKeys first, so that the
 * JWT keys are made with it). Throws MasterKeyError, whose
 * message names the setting to change, when a key is not the database's or missing.
 */
export async function openProcessMasterKey(
  config: Readonly<Config>,
  prisma: PrismaClient,
  log: StartupLog,
): Promise<Buffer> {
  const opened = await openMasterKey(config, prisma, databaseName(config.databaseUrl));
  if (opened.events.includes('development key created'))
    log.warn({ file: opened.file }, 'created a development master key');
  if (opened.events.includes('check value stored'))
    log.info({}, 'stored the master key check value: from now on only this master key opens the database');
  if (opened.development) log.warn({}, DEVELOPMENT_KEY_WARNING(opened.file));
  return opened.key;
}

/**
 * The development JWT keys (TSB_DATA_DIR/jwt-private.pem) when no JWT_*_FILE is set: made together with the
 * other development keys while the database is unused. For a database in use, a process that signs or
 * verifies tokens (`needed`) gets an error instead of a new key: tokens of a new key would not verify where
 * the other one is used.
 */
export async function prepareDevelopmentJwtKeys(
  config: Readonly<Config>,
  prisma: PrismaClient,
  log: StartupLog,
  needed: boolean,
): Promise<void> {
  if (config.jwt.publicKeyFile !== null || config.jwt.privateKeyFile !== null) return;
  if (existsSync(path.join(config.dataDir, DEVELOPMENT_JWT_PRIVATE_KEY_FILE))) return;
  if (await new MasterKeyCheckRepository(prisma).inUse()) {
    if (!needed) return;
    throw new MasterKeyError(
      `TSB_DATA_DIR (${config.dataDir}) holds no ${DEVELOPMENT_JWT_PRIVATE_KEY_FILE}, but the database ` +
        `${databaseName(config.databaseUrl)} is in use already; no new development token key was created ` +
        '(tokens it signed would not verify where the other key is used). Set TSB_DATA_DIR to the data folder ' +
        'of the service, or JWT_PUBLIC_KEY_FILE / JWT_PRIVATE_KEY_FILE.',
    );
  }
  if (ensureDevelopmentJwtKeys(config.dataDir).created)
    log.warn({ dataDir: config.dataDir }, 'created development token keys (JWT)');
}

/**
 * The start of a long-running process (API, worker): the database prepared, a Prisma client, the development
 * JWT keys (`signsTokens`: see prepareDevelopmentJwtKeys) and the master key; the client is closed again when
 * a step fails.
 */
export async function openProcessDatabase(
  config: Readonly<Config>,
  log: StartupLog,
  signsTokens: boolean,
): Promise<{ prisma: PrismaClient; masterKey: Buffer }> {
  await prepareDatabase(config, log);
  const prisma = createPrismaClient(config.databaseUrl);
  try {
    await prepareDevelopmentJwtKeys(config, prisma, log, signsTokens);
    return { prisma, masterKey: await openProcessMasterKey(config, prisma, log) };
  } catch (error) {
    await prisma.$disconnect();
    throw error;
  }
}
