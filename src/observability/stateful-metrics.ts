/**
 * Metrics of the stateful hash-based keys (HSS/LMS, XMSS), all partitions, per key algorithm (never per
 * key): how many there are, the fewest signatures one of them has left, how many have used 90 % or more.
 * Read from the database at most every ten seconds.
 */
import { Gauge, type Registry } from 'prom-client';
import type { SoftHsm } from '../hsm/soft-hsm.js';
import { CachedSnapshot } from './cached-snapshot.js';

const SNAPSHOT = { ttlMs: 10_000, timeoutMs: 2_000 };

export function registerStatefulKeyMetrics(registers: Registry[], hsm: Pick<SoftHsm, 'keys'>): void {
  const summary = new CachedSnapshot(() => hsm.keys.statefulSummary(), SNAPSHOT);
  const gauge = (name: string, help: string, value: (row: StatefulRow) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['algorithm'],
      registers,
      async collect() {
        this.reset();
        for (const row of (await summary.get()) ?? []) this.set({ algorithm: row.algorithm }, value(row));
      },
    });
  gauge(
    'tsb_stateful_keys',
    'Active stateful hash-based keys (HSS/LMS, XMSS) by key type',
    (row) => row.keys,
  );
  gauge(
    'tsb_stateful_signatures_remaining_min',
    'The fewest signatures an active stateful key of the type has left (one-time indices not yet reserved)',
    (row) => row.minRemaining,
  );
  gauge(
    'tsb_stateful_keys_past_90_percent',
    'Active stateful keys of the type that have used 90 % or more of their signatures',
    (row) => row.past90,
  );
}

type StatefulRow = Awaited<ReturnType<SoftHsm['keys']['statefulSummary']>>[number];
