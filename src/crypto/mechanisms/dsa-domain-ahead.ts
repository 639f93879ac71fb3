/**
 * The domain check of a DSA key (dsa-domain.ts) in the signature pool's worker thread, ahead of the synchronous
 * size check that needs it; the values of one key asked for at once (its private key, public key and
 * certificate; one key imported by many requests) are checked once. Only an optimisation: a key whose values
 * cannot be read, or a pool that failed or shut down meanwhile, leaves the check to the size check, which
 * computes it and refuses as it always did.
 */
import type { KeyObject } from 'node:crypto';
import { dsaPublicKey } from '../signatures/dsa-digest.js';
import { runInWorker } from '../signatures/signatures-pool.js';
import {
  type DsaPublicValues,
  dsaDomainId,
  rememberDsaDomainProblem,
  rememberedDsaDomainProblem,
} from './dsa-domain.js';

const inFlight = new Map<string, Promise<void>>();

async function checkInWorker(id: string, values: DsaPublicValues): Promise<void> {
  try {
    const problem = await runInWorker({ op: 'dsa-domain-problem', key: values });
    if (problem === null || typeof problem === 'string') rememberDsaDomainProblem(id, problem);
  } catch {
    // left to the size check
  } finally {
    inFlight.delete(id);
  }
}

export function checkDsaDomainAhead(key: KeyObject): Promise<void> {
  let values: DsaPublicValues;
  try {
    values = dsaPublicKey(key);
  } catch {
    return Promise.resolve();
  }
  const id = dsaDomainId(values);
  if (rememberedDsaDomainProblem(id) !== undefined) return Promise.resolve();
  let check = inFlight.get(id);
  if (!check) {
    check = checkInWorker(id, values);
    inFlight.set(id, check);
  }
  return check;
}
