/**
 * A bounded least-recently-used cache of ready key objects (unsealed and parsed), keyed by key id.
 * An entry remembers the key version it was built from, so a changed key is never served stale;
 * deleting or changing a key also drops its entry explicitly.
 *
 * Every entry and lookup also belongs to a group (the key's partition): the figures of one group count only
 * its own entries and lookups, so a partition's statistics show nothing of another partition's use of the
 * shared cache. The totals (`size`, `hits`, `misses`) are the whole cache's, for the operator's metrics.
 */
export class KeyCache<T> {
  private readonly entries = new Map<string, { version: number; value: T; group: string }>();
  private readonly groups = new Map<string, KeyCacheFigures>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error('key cache capacity must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entries, hits and misses of one group alone (zeros for a group never seen). */
  figures(group: string): KeyCacheFigures {
    const figures = this.groups.get(group);
    return figures ? { ...figures } : { size: 0, hits: 0, misses: 0 };
  }

  get(keyId: string, version: number, group: string): T | undefined {
    const entry = this.entries.get(keyId);
    const figures = this.group(group);
    if (!entry || entry.version !== version) {
      this.misses++;
      figures.misses++;
      if (entry) this.remove(keyId, entry.group);
      return undefined;
    }
    this.entries.delete(keyId);
    this.entries.set(keyId, entry);
    this.hits++;
    figures.hits++;
    return entry.value;
  }

  set(keyId: string, version: number, value: T, group: string): void {
    this.drop(keyId);
    this.entries.set(keyId, { version, value, group });
    this.group(group).size++;
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.entries().next().value;
      if (oldest === undefined) break;
      this.remove(oldest[0], oldest[1].group);
    }
  }

  drop(keyId: string): void {
    const entry = this.entries.get(keyId);
    if (entry) this.remove(keyId, entry.group);
  }

  clear(): void {
    this.entries.clear();
    for (const figures of this.groups.values()) figures.size = 0;
  }

  private remove(keyId: string, group: string): void {
    this.entries.delete(keyId);
    this.group(group).size--;
  }

  private group(group: string): KeyCacheFigures {
    let figures = this.groups.get(group);
    if (!figures) {
      figures = { size: 0, hits: 0, misses: 0 };
      this.groups.set(group, figures);
    }
    return figures;
  }
}

/** One group's share of the cache: its entries now, and its lookups served and missed so far. */
export interface KeyCacheFigures {
  size: number;
  hits: number;
  misses: number;
}
