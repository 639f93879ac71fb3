/**
 * Warns in the log when a stateful hash-based key has used 90 % of its signatures: at the signature that
 * crosses the mark, and then at most once a minute per key while it signs on.
 */
import type { SoftHsm } from '../hsm/soft-hsm.js';
import type { Logger } from '../lib/logger.js';

const REPEAT_MS = 60_000;

/** Starts watching the HSM's signatures; answers the function that stops it. */
export function warnStatefulExhaustion(hsm: Pick<SoftHsm, 'operations'>, log: Logger): () => void {
  const warnedAt = new Map<string, number>();
  return hsm.operations.observe(({ stateful, algorithm }) => {
    if (!stateful) return;
    const { keyId, label, index, remaining, limit } = stateful;
    const mark = Math.ceil(limit * 0.9);
    if (index + 1 < mark) return;
    const now = Date.now();
    const crossing = index + 1 === mark;
    if (!crossing && now - (warnedAt.get(keyId) ?? Number.NEGATIVE_INFINITY) < REPEAT_MS) return;
    warnedAt.set(keyId, now);
    log.warn(
      { key: label, keyUuid: keyId, algorithm, used: index + 1, limit, remaining },
      `stateful key "${label}" has used ${index + 1} of its ${limit} signatures (${remaining} left)`,
    );
  });
}
