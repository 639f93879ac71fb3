/**
 * After a key change committed: its ready object and cached row leave this process's caches, then the listeners
 * hear of changes that end what was pending on the key. The other processes heard of it from the write's own
 * transaction (`keyRowChange` in key.repository.ts), which announces every key write.
 */
import type { MetadataCache } from '../metadata-cache.js';

/** A change that ends what was pending on a key: the workflow cancels the key's open requests. */
export interface KeyChange {
  partitionId: string;
  keyId: string;
  kind: 'blocked' | 'policy' | 'destroyed';
  /** the SKA request that made the change (it is not cancelled), or null */
  byRequestId: string | null;
}

export type KeyChangeListener = (change: KeyChange) => Promise<void>;

export class KeyChanges {
  private readonly listeners: KeyChangeListener[] = [];

  constructor(
    private readonly dropReadyKey: (keyId: string) => void,
    private readonly metadata: MetadataCache | null,
  ) {}

  /** Listens to changes that end what is pending on a key (block, policy change, destruction). */
  onChange(listener: KeyChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Drops this process's copies of a key whose change committed (and announced itself), then tells the listeners
   * (awaited: the caller's answer follows them).
   */
  async keyChanged(
    partitionId: string,
    key: { id: string; label: string },
    change: KeyChange | null,
  ): Promise<void> {
    this.dropReadyKey(key.id);
    this.forget(partitionId, key.label);
    if (change) for (const listener of this.listeners) await listener(change);
  }

  /** Drops this process's cached row under `label`; its write announced the change to the others. */
  forget(partitionId: string, label: string): void {
    this.metadata?.forget({ kind: 'key', partitionId, label });
  }
}
