import { BoundedTtlCache } from './ttl-cache.js';

export interface FeedLoadedCacheOptions {
  capacity: number;
  /** how long an entry may be served without hearing of a change (a safety net behind the change feed) */
  ttlMs: number;
  now: () => number;
  /** false while the change feed may miss changes: nothing is served from the cache or kept in it then */
  trusted: () => boolean;
}

/**
 * Rows read from the database, remembered until a change feed says they changed (or their TTL ends). A load
 * that ran while an entry was dropped is answered but not kept: it may have read its row before the commit of
 * the change that dropped it, and would then be served stale (a blocked key signing on, a revoked credential
 * accepted) until the TTL.
 */
export class FeedLoadedCache<V> {
  private readonly entries: BoundedTtlCache<V>;
  /** counts the drops, so that a load can tell whether one happened while it ran */
  private generation = 0;

  constructor(private readonly options: FeedLoadedCacheOptions) {
    this.entries = new BoundedTtlCache(options.capacity, options.now);
  }

  /** The cached value, or `load()`'s (kept when there is one, the feed is trusted and nothing was dropped). */
  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const cached = this.options.trusted() ? this.entries.get(key) : undefined;
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const value = await load();
    if (value !== null && this.options.trusted() && generation === this.generation) {
      this.entries.set(key, value, this.options.now() + this.options.ttlMs);
    }
    return value;
  }

  delete(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    this.generation++;
    this.entries.deleteWhere(predicate);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
