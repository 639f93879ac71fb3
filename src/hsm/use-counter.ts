import type { PrismaClient } from '../generated/prisma/client.js';

/**
 * Counts key uses without a database write per operation: uses are summed in memory and added to
 * `Key.useCount` in one statement per flush (every `intervalMs`, and on close). Readers add the
 * pending count, so a key's reported use count is exact within this process.
 */
export class UseCounter {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly intervalMs = 200,
  ) {}

  record(keyId: string): void {
    this.pending.set(keyId, (this.pending.get(keyId) ?? 0) + 1);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  pendingFor(keyId: string): number {
    return this.pending.get(keyId) ?? 0;
  }

  /** Writes every pending count; counts recorded meanwhile wait for the next flush. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    if (batch.size === 0) return this.flushing;
    this.pending = new Map();
    const ids = [...batch.keys()];
    const counts = ids.map((id) => batch.get(id) ?? 0);
    this.flushing = this.flushing.then(async () => {
      try {
        await this.prisma.$executeRaw`
          UPDATE "Key" AS k SET "useCount" = k."useCount" + v.n
          FROM (SELECT unnest(${ids}::uuid[]) AS id, unnest(${counts}::bigint[]) AS n) AS v
          WHERE k.id = v.id`;
      } catch {
        // keep the counts for the next flush rather than lose them (e.g. the database was briefly away)
        for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), this.intervalMs * 5);
          this.timer.unref();
        }
      }
    });
    return this.flushing;
  }
}
