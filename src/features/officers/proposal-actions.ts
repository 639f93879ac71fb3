/**
 * What an approved proposal does. Each action runs inside the transaction that marks the proposal
 * EXECUTED (so it runs once, or not at all) and answers what to announce once that transaction is committed.
 */
import { TsbError } from '../../errors.js';
import type { Partition, Prisma } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import type { PartitionFlags } from '../../keystore/partitions/partition-flags.js';
import type { ProposalAction, ProposalParameters } from './proposal-statement.js';

export type AfterCommit = () => Promise<void>;

export async function executeAction(
  hsm: SoftHsm,
  tx: Prisma.TransactionClient,
  partitionId: string,
  action: ProposalAction,
  parameters: ProposalParameters,
): Promise<AfterCommit> {
  // the row as it is now, not a cached copy: the flags decide whether a restore or purge may run
  const partition = await hsm.partitions.findById(partitionId, tx);
  if (!partition) throw new TsbError('NOT_FOUND', 'the partition no longer exists');
  switch (action) {
    case 'SET_POLICY':
      return hsm.partitions.updateFlagsInTransaction(tx, partitionId, parameters as Partial<PartitionFlags>);
    case 'RESTORE_KEY': {
      const key = await hsm.trash.restore(partition, labelOf(parameters), tx, keyIdOf(parameters));
      return () => hsm.trash.announce(partition, key);
    }
    case 'PURGE_KEY': {
      const key = await hsm.trash.purge(partition, labelOf(parameters), tx, keyIdOf(parameters));
      return () => hsm.trash.announce(partition, key);
    }
  }
}

/**
 * Checks at proposal time what can be checked already, so a hopeless proposal is refused at once, and answers
 * the parameters to store: a restore or purge also pins the id of the key in the trash bin under the label now,
 * so that it never acts on another key deleted under that label later.
 */
export async function checkAction(
  hsm: SoftHsm,
  partition: Partition,
  action: ProposalAction,
  parameters: ProposalParameters,
): Promise<ProposalParameters> {
  if (action !== 'RESTORE_KEY' && action !== 'PURGE_KEY') return parameters;
  const key = await hsm.trash.require(partition, labelOf(parameters));
  return { label: labelOf(parameters), keyId: key.id };
}

const labelOf = (parameters: ProposalParameters): string => (parameters as { label: string }).label;
/** null for a proposal stored before key ids were pinned: it acts on the label as it did */
const keyIdOf = (parameters: ProposalParameters): string | null =>
  (parameters as { keyId?: string }).keyId ?? null;
