/**
 * The answers of dsaDomainProblem (dsa-digest.ts: q's primality and two exponentiations over p, 5–11 ms of
 * the event loop for a 3,072-bit p here), remembered by a hash of the key's public values (p, q, g, y). The
 * asynchronous callers have them computed in a worker thread first (dsa-domain-ahead.ts), so that the
 * synchronous size check of an import or generation (dsa.ts) finds them here; one that is not here (no
 * caller asked ahead, the pool failed or shut down) is computed where it is asked.
 */
import { createHash } from 'node:crypto';
import { BoundedTtlCache } from '../../lib/ttl-cache.js';
import { integer, sequence } from '../der.js';
import { type DsaParams, dsaDomainProblem } from '../signatures/dsa-digest.js';

export type DsaPublicValues = DsaParams & { y: bigint };

const answers = new BoundedTtlCache<string | null>(1024);
const counters = { computedHere: 0 };

/** The name of a key's public values (p, q, g, y) in memory. */
export const dsaDomainId = ({ p, q, g, y }: DsaPublicValues): string =>
  createHash('sha256')
    .update(sequence(integer(p), integer(q), integer(g), integer(y)))
    .digest('hex');

/** The remembered answer (a problem or null), or undefined if these values were not checked. */
export const rememberedDsaDomainProblem = (id: string): string | null | undefined => answers.get(id);

/** Remembers dsaDomainProblem's answer for the values of `id`, computed elsewhere (a worker thread). */
export function rememberDsaDomainProblem(id: string, problem: string | null): void {
  answers.set(id, problem, Number.POSITIVE_INFINITY);
}

/** dsaDomainProblem, answered from memory when these values were checked before. */
export function checkedDsaDomainProblem(key: DsaPublicValues): string | null {
  const id = dsaDomainId(key);
  const remembered = answers.get(id);
  if (remembered !== undefined) return remembered;
  counters.computedHere++;
  const problem = dsaDomainProblem(key);
  rememberDsaDomainProblem(id, problem);
  return problem;
}

/** How many domain checks ran on this thread rather than being found remembered (tests). */
export const dsaDomainCheckStats = () => ({ ...counters });
