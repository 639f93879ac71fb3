/**
 * The composition root: the services of a process, built in one place from the validated configuration
 * and a Prisma client. The API server, the worker, the CLI and the tests build through these functions.
 */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { PrismaClient } from './generated/prisma/client.js';
import { announceChange } from './hsm/metadata-cache.js';
import { PartitionStore } from './hsm/partitions/partition-store.js';
import { SoftHsm } from './hsm/soft-hsm.js';

/** The HSM core of a service process (API or worker); `clock` only for tests. */
export function buildHsm(
  config: Readonly<Config>,
  prisma: PrismaClient,
  masterKey: Buffer,
  options: { clock?: Clock } = {},
): SoftHsm {
  return new SoftHsm({
    prisma,
    masterKey,
    keyCacheSize: config.keyCacheSize,
    approvalWindow: config.workflow.approvalWindow,
    ...options,
  });
}

/**
 * The partitions of a short-lived command (the CLI): it keeps no cache, but announces each change so
 * that running service processes drop their cached copy. The master key is resolved only when needed.
 */
export function commandPartitions(prisma: PrismaClient, masterKey: Buffer | (() => Buffer)): PartitionStore {
  return new PartitionStore(prisma, masterKey, (change) => announceChange(prisma, change));
}
