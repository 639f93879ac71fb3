import { ChannelListener } from '../db/channel-listener.js';
import type { Key, Partition, Prisma, PrismaClient } from '../generated/prisma/client.js';
import { FeedLoadedCache } from '../lib/feed-loaded-cache.js';

/** What changed; every process drops its cached copy when it hears of it. */
export type MetadataChange =
  | { kind: 'key'; partitionId: string; label: string }
  | { kind: 'partition'; id: string }
  /** an API key was revoked */
  | { kind: 'apiKey'; id: string }
  /** a client certificate was revoked, named by its registration id or its fingerprint */
  | { kind: 'clientCertificate'; idOrFingerprint: string };

/** Another cache kept true by the feed (the credential stores): told of every change, and cleared with this one. */
export interface ChangeSubscriber {
  forget(change: MetadataChange): void;
  clear(): void;
}

/** The change feed as another cache sees it. */
export interface ChangeFeed {
  /** false while changes may be missed: nothing may be served from a cache then */
  readonly trusted: boolean;
  /** returns the unsubscribe function */
  subscribe(subscriber: ChangeSubscriber): () => void;
}

export const CHANGE_CHANNEL = 'opentsb_metadata_changes';

export interface MetadataCacheOptions {
  capacity: number;
  /** how long an entry may be served without hearing of a change (a safety net behind the change feed) */
  ttlMs: number;
  now?: () => number;
}

/**
 * Tells every listening process of a change (a process without a cache, such as the CLI, only announces).
 * Inside a transaction (`db` its client) the notification goes out with its commit, and only then.
 */
export async function announceChange(
  db: Pick<PrismaClient, '$executeRaw'>,
  change: MetadataChange,
): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify(change)})`;
}

/**
 * Runs `write` in a transaction that also announces `change`, so every listening process hears of it at the commit,
 * also when this process dies (or loses its connection) right after.
 */
export function writeAnnounced<T>(
  prisma: PrismaClient,
  change: MetadataChange,
  write: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    const result = await write(tx);
    await announceChange(tx, change);
    return result;
  });
}

/**
 * Partition and key rows kept in memory so that a key operation costs no database round trip.
 * Every write announces its change: the writing process drops its entry at once, and the others through
 * PostgreSQL LISTEN/NOTIFY. While a process is not listening (not connected yet, or the connection
 * dropped and may have missed a change) it serves nothing from the cache.
 * The credential caches of the API (src/auth/credential-cache.ts) subscribe to the same feed.
 */
export class MetadataCache implements ChangeFeed {
  private readonly partitions: FeedLoadedCache<Partition>;
  private readonly keys: FeedLoadedCache<Key>;
  private readonly subscribers = new Set<ChangeSubscriber>();
  private listener: ChannelListener | null = null;
  private feedConfigured = false;

  constructor(
    private readonly prisma: PrismaClient,
    options: MetadataCacheOptions,
  ) {
    const cache = {
      capacity: options.capacity,
      ttlMs: options.ttlMs,
      now: options.now ?? Date.now,
      trusted: () => this.trusted,
    };
    this.partitions = new FeedLoadedCache(cache);
    this.keys = new FeedLoadedCache(cache);
  }

  /** Cached entries are served only when no other process can change them unheard. */
  get trusted(): boolean {
    return !this.feedConfigured || (this.listener?.isListening ?? false);
  }

  partition(id: string, load: () => Promise<Partition | null>): Promise<Partition | null> {
    return this.partitions.get(id, load);
  }

  key(partitionId: string, label: string, load: () => Promise<Key | null>): Promise<Key | null> {
    return this.keys.get(`${partitionId}/${label}`, load);
  }

  /** Drops the local copy now and tells every other process; call after the change is committed. */
  async announce(change: MetadataChange): Promise<void> {
    this.forget(change);
    if (this.feedConfigured) await announceChange(this.prisma, change);
  }

  forget(change: MetadataChange): void {
    if (change.kind === 'key') this.keys.delete(`${change.partitionId}/${change.label}`);
    else if (change.kind === 'partition') this.partitions.delete(change.id);
    for (const subscriber of this.subscribers) subscriber.forget(change);
  }

  clear(): void {
    this.partitions.clear();
    this.keys.clear();
    for (const subscriber of this.subscribers) subscriber.clear();
  }

  /** The subscriber hears every change this process hears, and is cleared whenever this cache is. */
  subscribe(subscriber: ChangeSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Listens for other processes' changes on a connection of its own; reconnects after a failure. */
  async listen(databaseUrl: string, onError: (error: unknown) => void = () => {}): Promise<void> {
    this.feedConfigured = true;
    this.listener ??= new ChannelListener({
      connection: { connectionString: databaseUrl },
      channel: CHANGE_CHANNEL,
      onNotification: (payload) => {
        try {
          this.forget(JSON.parse(payload) as MetadataChange);
        } catch {
          this.clear();
        }
      },
      // whatever was cached before we listened (again) may be stale
      onListening: () => this.clear(),
      onError: (error) => {
        this.clear();
        onError(error);
      },
    });
    await this.listener.start();
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }
}
