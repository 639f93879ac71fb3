/**
 * Publishing that a key changed: its ready object leaves this process's cache, every process drops its
 * cached row (metadata-cache.ts), then the listeners hear of changes that end what was pending on the key.
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

  /** Drops the cached key, tells every process, then the listeners (awaited: the caller's answer follows them). */
  async keyChanged(
    partitionId: string,
    key: { id: string; label: string },
    change: KeyChange | null,
  ): Promise<void> {
    this.dropReadyKey(key.id);
    await this.announce(partitionId, key.label);
    if (change) for (const listener of this.listeners) await listener(change);
  }

  /** Tells every process (this one at once) that the key row under `label` changed. */
  async announce(partitionId: string, label: string): Promise<void> {
    await this.metadata?.announce({ kind: 'key', partitionId, label });
  }
}
