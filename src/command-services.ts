/**
 * The composition root of the CLI's short-lived commands. Apart from services.ts so that `tsb` loads only
 * what a command uses: the HSM, the workflow and their cryptography cost seconds of start-up, which every
 * `tsb` call paid before (they are imported here only by the one command that needs them).
 */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { AuditService } from './features/audit/audit.service.js';
import type { PrismaClient } from './generated/prisma/client.js';
import { announceChange } from './keystore/metadata-cache.js';
import { PartitionStore } from './keystore/partitions/partition-store.js';

/**
 * The partitions of a short-lived command: it keeps no cache, but announces each change so that running
 * service processes drop their cached copy.
 */
export function commandPartitions(prisma: PrismaClient, masterKey: Buffer | (() => Buffer)): PartitionStore {
  return new PartitionStore(prisma, masterKey, (change) => announceChange(prisma, change));
}

/**
 * The audit export of a command (`tsb audit export`): an HSM that caches one key, to sign the closing
 * checkpoint with the partition's attestation key; `close` ends that HSM.
 */
export async function commandAuditExport(
  config: Readonly<Config>,
  prisma: PrismaClient,
  masterKey: Buffer,
  clock: Clock,
): Promise<{ service: AuditService; close(): Promise<void> }> {
  const [{ SoftHsm }, { AuditRepository }, { AuditService, attestationCheckpointSigner }] = await Promise.all(
    [
      import('./hsm/soft-hsm.js'),
      import('./features/audit/audit.repository.js'),
      import('./features/audit/audit.service.js'),
    ],
  );
  const hsm = new SoftHsm({ prisma, masterKey, keyCacheSize: 1 });
  const service = new AuditService(
    new AuditRepository(prisma),
    attestationCheckpointSigner(hsm),
    clock,
    config.audit.checkpointEvery,
  );
  return { service, close: () => hsm.close() };
}
