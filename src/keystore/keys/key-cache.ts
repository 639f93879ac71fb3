/**
 * A bounded least-recently-used cache of ready key objects (unsealed and parsed), keyed by key id.
 * An entry remembers the key version it was built from, so a changed key is never served stale;
 * deleting or changing a key also drops its entry explicitly.
 */
export class KeyCache<T> {
  private readonly entries = new Map<string, { version: number; value: T }>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error('key cache capacity must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(keyId: string, version: number): T | undefined {
    const entry = this.entries.get(keyId);
    if (!entry || entry.version !== version) {
      this.misses++;
      if (entry) this.entries.delete(keyId);
      return undefined;
    }
    this.entries.delete(keyId);
    this.entries.set(keyId, entry);
    this.hits++;
    return entry.value;
  }

  set(keyId: string, version: number, value: T): void {
    this.entries.delete(keyId);
    this.entries.set(keyId, { version, value });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  drop(keyId: string): void {
    this.entries.delete(keyId);
  }

  clear(): void {
    this.entries.clear();
  }
}
