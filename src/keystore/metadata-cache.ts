import pg from 'pg';
import type { Key, Partition, PrismaClient } from '../generated/prisma/client.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';

/** What changed; every process drops its cached copy when it hears of it. */
export type MetadataChange =
  | { kind: 'key'; partitionId: string; label: string }
  | { kind: 'partition'; id: string };

export const CHANGE_CHANNEL = 'opentsb_metadata_changes';

export interface MetadataCacheOptions {
  capacity: number;
  /** how long an entry may be served without hearing of a change (a safety net behind the change feed) */
  ttlMs: number;
  now?: () => number;
}

/** Tells every listening process of a change (a process without a cache, such as the CLI, only announces). */
export async function announceChange(prisma: PrismaClient, change: MetadataChange): Promise<void> {
  await prisma.$executeRaw`SELECT pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify(change)})`;
}

/**
 * Partition and key rows kept in memory so that a key operation costs no database round trip.
 * Every write announces its change: the writing process drops its entry at once, and the others through
 * PostgreSQL LISTEN/NOTIFY. While a process is not listening (not connected yet, or the connection
 * dropped and may have missed a change) it serves nothing from the cache.
 */
export class MetadataCache {
  private readonly partitions: BoundedTtlCache<Partition>;
  private readonly keys: BoundedTtlCache<Key>;
  private listener: pg.Client | null = null;
  private listening = false;
  private feedConfigured = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: MetadataCacheOptions,
  ) {
    this.partitions = new BoundedTtlCache(options.capacity, options.now);
    this.keys = new BoundedTtlCache(options.capacity, options.now);
  }

  /** Cached entries are served only when no other process can change them unheard. */
  private get trusted(): boolean {
    return !this.feedConfigured || this.listening;
  }

  private expiry(): number {
    return (this.options.now ?? Date.now)() + this.options.ttlMs;
  }

  async partition(id: string, load: () => Promise<Partition | null>): Promise<Partition | null> {
    const cached = this.trusted ? this.partitions.get(id) : undefined;
    if (cached) return cached;
    const partition = await load();
    if (partition && this.trusted) this.partitions.set(id, partition, this.expiry());
    return partition;
  }

  async key(partitionId: string, label: string, load: () => Promise<Key | null>): Promise<Key | null> {
    const entry = `${partitionId}/${label}`;
    const cached = this.trusted ? this.keys.get(entry) : undefined;
    if (cached) return cached;
    const key = await load();
    if (key && this.trusted) this.keys.set(entry, key, this.expiry());
    return key;
  }

  /** Drops the local copy now and tells every other process; call after the change is committed. */
  async announce(change: MetadataChange): Promise<void> {
    this.forget(change);
    if (this.feedConfigured) await announceChange(this.prisma, change);
  }

  forget(change: MetadataChange): void {
    if (change.kind === 'key') this.keys.delete(`${change.partitionId}/${change.label}`);
    else this.partitions.delete(change.id);
  }

  clear(): void {
    this.partitions.clear();
    this.keys.clear();
  }

  /** Listens for other processes' changes on a connection of its own; reconnects after a failure. */
  async listen(databaseUrl: string, onError: (error: unknown) => void = () => {}): Promise<void> {
    this.feedConfigured = true;
    const connect = async () => {
      if (this.closed) return;
      const client = new pg.Client({ connectionString: databaseUrl });
      const retry = (error: unknown) => {
        if (this.listener !== client) return;
        this.listening = false;
        this.listener = null;
        this.clear();
        client.end().catch(() => {});
        if (!this.closed) {
          onError(error);
          this.reconnectTimer = setTimeout(() => void connect(), 1_000);
          this.reconnectTimer.unref();
        }
      };
      this.listener = client;
      client.on('error', retry);
      client.on('end', () => retry(new Error('change feed connection ended')));
      client.on('notification', (message) => {
        if (message.channel !== CHANGE_CHANNEL || !message.payload) return;
        try {
          this.forget(JSON.parse(message.payload) as MetadataChange);
        } catch {
          this.clear();
        }
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANGE_CHANNEL}`);
        this.clear(); // whatever was cached before we listened may be stale
        this.listening = true;
      } catch (error) {
        retry(error);
      }
    };
    await connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = null;
    this.listening = false;
    await client?.end().catch(() => {});
  }
}
