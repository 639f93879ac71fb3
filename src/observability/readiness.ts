import type { WorkflowQueue } from '../features/approvals/queue.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SoftHsm } from '../hsm/soft-hsm.js';

export type ReadinessStatus = 'ready' | 'degraded' | 'unavailable';

export interface Readiness {
  status: ReadinessStatus;
  checks: {
    database: string;
    redis: string;
    masterKey: string;
    /** only where the check asks for it (`npm run worker`): whether the workflow worker takes jobs */
    worker?: string;
  };
}

export interface ReadinessSources {
  prisma: PrismaClient;
  hsm: SoftHsm;
  queue: WorkflowQueue;
  /** also report (and require) a running workflow worker */
  requireWorker?: boolean;
}

/** The start of the message of a master key that does not open every stored partition key. */
export const MASTER_KEY_MISMATCH = 'does not open the partition keys of';
/** how many partition names the message lists */
const NAMES_SHOWN = 5;

/**
 * What `/readyz` reports. Unavailable (503) without the database, with a master key that does not open
 * every stored partition key (checked at most every 10 s), or (worker) with a stopped worker; degraded (200) while Redis is
 * unreachable: synchronous operations go on and the database sweep moves approvals on.
 */
export async function checkReadiness({
  prisma,
  hsm,
  queue,
  requireWorker = false,
}: ReadinessSources): Promise<Readiness> {
  const [database, redis] = await Promise.all([databaseCheck(prisma), queue.reachable()]);
  const masterKey = database === 'ok' ? await masterKeyCheck(hsm) : 'unverified (no database)';
  const worker = requireWorker ? (queue.workerRunning() ? 'running' : 'stopped') : null;
  const ready = database === 'ok' && masterKey === 'loaded' && worker !== 'stopped';
  return {
    status: !ready ? 'unavailable' : redis ? 'ready' : 'degraded',
    checks: {
      database,
      redis: redis ? 'ok' : 'unreachable',
      masterKey,
      ...(worker ? { worker } : {}),
    },
  };
}

async function databaseCheck(prisma: PrismaClient): Promise<string> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return `unreachable${typeof code === 'string' ? ` (${code})` : ''}`;
  }
}

async function masterKeyCheck(hsm: SoftHsm): Promise<string> {
  try {
    const names = await hsm.partitions.partitionsTheMasterKeyCannotOpen();
    if (names.length === 0) return 'loaded';
    const more = names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : '';
    return `${MASTER_KEY_MISMATCH}: ${names.slice(0, NAMES_SHOWN).join(', ')}${more}`;
  } catch {
    // the database went away between the two checks
    return 'unverified (no database)';
  }
}
