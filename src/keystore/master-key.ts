import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeMasterKey } from '../config.js';
import { partitionKeyBinding, seal, UnsealError, unseal } from '../crypto/seal.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { MasterKeyCheckRepository } from './master-key-check.repository.js';

export interface MasterKeySource {
  key: Buffer;
  /** true when the key was read from or created in the data folder rather than given by the operator */
  development: boolean;
  file: string | null;
}

export interface OpenedMasterKey extends MasterKeySource {
  /** what opening did besides reading: made a development key, stored the check value (first start) */
  events: Array<'development key created' | 'check value stored'>;
}

/** The master key cannot serve this database: the process must not start (the message says what to set). */
export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/** AAD of the check value: a random value sealed under the master key, proof of which key a database has. */
const CHECK_BINDING = 'opentsb:master-key-check';
const DEVELOPMENT_KEY_FILE = 'master.key';

const SET_THE_KEY = 'Set TSB_MASTER_KEY or TSB_MASTER_KEY_FILE to the master key of this database';

/**
 * The master key of a process that works on the database (service, worker, CLI): the operator's key, or the
 * development key in `<dataDir>/master.key`, which is created only while the database holds nothing sealed.
 * Then checks that the key is the database's: against the check value stored at the first start, or (a
 * database from before the check value) by opening a partition key, after which the check value is stored.
 * `database` names the database in messages (host, port, name; never a password).
 */
export async function openMasterKey(
  config: { masterKey: Buffer | null; dataDir: string },
  prisma: PrismaClient,
  database: string,
): Promise<OpenedMasterKey> {
  const repository = new MasterKeyCheckRepository(prisma);
  const events: OpenedMasterKey['events'] = [];
  let source = config.masterKey
    ? { key: config.masterKey, development: false, file: null }
    : readDevelopmentKey(config.dataDir);
  if (source === null) {
    if (await repository.inUse()) {
      throw new MasterKeyError(
        `TSB_DATA_DIR (${config.dataDir}) holds no ${DEVELOPMENT_KEY_FILE}, but the database ${database} already ` +
          'holds partitions sealed under a master key; no new development key was created. ' +
          `${SET_THE_KEY}, or TSB_DATA_DIR to the data folder that holds its ${DEVELOPMENT_KEY_FILE} ` +
          '(a relative TSB_DATA_DIR is taken from the OpenTSB folder, not from the current directory).',
      );
    }
    source = createDevelopmentKey(config.dataDir);
    events.push('development key created');
  }
  if (await verifyAgainstDatabase(source, repository, database)) events.push('check value stored');
  return { ...source, events };
}

/** Answers true when it stored the check value (first start, or the first start since the check value exists). */
async function verifyAgainstDatabase(
  source: MasterKeySource,
  repository: MasterKeyCheckRepository,
  database: string,
): Promise<boolean> {
  const stored = await repository.findCheck();
  if (stored !== null) {
    if (!opens(source.key, stored, CHECK_BINDING)) throw mismatch(source, database);
    return false;
  }
  const partition = await repository.anySealedPartitionKey();
  if (partition && !opens(source.key, partition.partitionKeySealed, partitionKeyBinding(partition.id))) {
    throw mismatch(source, database);
  }
  await repository.storeCheckIfNone(seal(source.key, randomBytes(32), CHECK_BINDING));
  // another process may have stored its own check value first: it must be ours too
  const winner = await repository.findCheck();
  if (winner === null || !opens(source.key, winner, CHECK_BINDING)) throw mismatch(source, database);
  return true;
}

function opens(key: Buffer, sealed: Uint8Array, binding: string): boolean {
  try {
    unseal(key, sealed, binding).fill(0);
    return true;
  } catch (error) {
    if (error instanceof UnsealError) return false;
    throw error;
  }
}

function mismatch(source: MasterKeySource, database: string): MasterKeyError {
  const which = source.development
    ? `the development master key ${source.file} (TSB_DATA_DIR; TSB_MASTER_KEY is not set)`
    : 'the master key of TSB_MASTER_KEY / TSB_MASTER_KEY_FILE';
  return new MasterKeyError(
    `${which} is not the master key the database ${database} was sealed under; refusing to start, since ` +
      'nothing stored there would open and new partitions would be sealed under a second key. ' +
      `${SET_THE_KEY}${source.development ? ', or TSB_DATA_DIR to the data folder that holds it' : ''} ` +
      '(see docs/operations.md, "Master key check").',
  );
}

function readDevelopmentKey(dataDir: string): MasterKeySource | null {
  const file = path.join(dataDir, DEVELOPMENT_KEY_FILE);
  if (!existsSync(file)) return null;
  const key = decodeMasterKey(readFileSync(file, 'utf8'));
  if (!key) throw new MasterKeyError(`${file} does not hold a 32-byte base64 master key`);
  return { key, development: true, file };
}

/**
 * Creates `<dataDir>/master.key` atomically (a temporary file, then a link), so processes starting at the
 * same moment agree on one key: the one that loses the race reads the winner's.
 */
function createDevelopmentKey(dataDir: string): MasterKeySource {
  const file = path.join(dataDir, DEVELOPMENT_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  const created = readDevelopmentKey(dataDir);
  if (!created) throw new MasterKeyError(`${file} could not be created`);
  return created;
}

export const DEVELOPMENT_KEY_WARNING = (file: string | null): string =>
  `USING A DEVELOPMENT MASTER KEY from ${file}: anyone who can read this file can decrypt every key. ` +
  'Set TSB_MASTER_KEY or TSB_MASTER_KEY_FILE (32 bytes, base64) before storing real keys.';
