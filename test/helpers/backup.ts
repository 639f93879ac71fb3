import type { SoftHsm } from '../../src/hsm/soft-hsm.js';

/** The text of a partition's backup document, read whole from the export's stream. */
export async function backupText(hsm: SoftHsm, partitionId: string): Promise<string> {
  const { body } = await hsm.backups.stream(partitionId);
  return Buffer.concat(await body.toArray()).toString('utf8');
}

/** A partition's backup document, parsed. */
export async function exportBackup(hsm: SoftHsm, partitionId: string): Promise<Record<string, unknown>> {
  return JSON.parse(await backupText(hsm, partitionId)) as Record<string, unknown>;
}
