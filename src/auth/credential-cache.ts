/**
 * The cache of a credential store (API keys, client certificates): valid credentials remembered for a short
 * while, so that a request costs no database round trip. Subscribed to the process's change feed (the
 * MetadataCache's), a revocation announced by any process drops the entry at once, and nothing is served from
 * the cache while the feed is not listening (it may have missed a revocation). The TTL is the safety net.
 */
import type { Clock } from '../clock.js';
import type { ChangeFeed, MetadataChange } from '../keystore/metadata-cache.js';
import { FeedLoadedCache } from '../lib/feed-loaded-cache.js';

export interface CredentialCacheOptions<V> {
  ttlMs: number;
  size: number;
  now: () => number;
  /** the process's change feed; without one (the CLI) entries are dropped only locally or by the TTL */
  feed?: ChangeFeed | undefined;
  /** which entries a change makes invalid; null when it concerns none */
  invalidates(change: MetadataChange): ((value: V) => boolean) | null;
}

export class CredentialCache<V> {
  private readonly entries: FeedLoadedCache<V>;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: CredentialCacheOptions<V>) {
    const { feed } = options;
    this.entries = new FeedLoadedCache({
      capacity: options.size,
      ttlMs: options.ttlMs,
      now: options.now,
      trusted: () => feed?.trusted ?? true,
    });
    this.unsubscribe =
      feed?.subscribe({ forget: (change) => this.forget(change), clear: () => this.clear() }) ?? (() => {});
  }

  /** The cached value, or `load()`'s (see FeedLoadedCache). */
  get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    return this.entries.get(key, load);
  }

  /** Drops the entries the change makes invalid. */
  forget(change: MetadataChange): void {
    const invalid = this.options.invalidates(change);
    if (invalid) this.entries.deleteWhere(invalid);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Stops hearing the feed. */
  close(): void {
    this.unsubscribe();
  }
}

/** Options of a credential store (API keys, client certificates). */
export interface CredentialStoreOptions {
  clock?: Clock;
  /**
   * How long a valid credential is remembered (default 60 s): the longest a revocation can go unheard should its
   * announcement on the change feed be lost.
   */
  cacheTtlMs?: number;
  cacheSize?: number;
  /** the process's change feed (a service's): revocations by other processes drop cached credentials at once */
  changes?: ChangeFeed;
}

/** A credential store's cache, with the stores' defaults (60 s, 10,000 entries). */
export function credentialCacheOf<V>(
  options: CredentialStoreOptions,
  clock: Clock,
  invalidates: CredentialCacheOptions<V>['invalidates'],
): CredentialCache<V> {
  return new CredentialCache({
    ttlMs: options.cacheTtlMs ?? 60_000,
    size: options.cacheSize ?? 10_000,
    now: () => clock.now().getTime(),
    feed: options.changes,
    invalidates,
  });
}
