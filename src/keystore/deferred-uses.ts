/**
 * Key uses whose counting a caller has taken over: while a `UseCounter.deferInto` scope is active, its
 * operations add their uses here and return at once, and the scope's owner promises to commit these counts
 * in a transaction of its own before any result of the scope is answered (the HTTP layer: in the request's
 * audit entry's transaction). Once the owner has taken the uses, the deferral is closed: a use made after
 * that (work the scope started that outlives it) is counted by the counter itself, so none is lost.
 */
export class DeferredUses {
  private counts = new Map<string, number>();
  private closed = false;

  /** Adds a use of the key; false when the deferral is closed (then the caller must count it itself). */
  add(keyId: string): boolean {
    if (this.closed) return false;
    this.counts.set(keyId, (this.counts.get(keyId) ?? 0) + 1);
    return true;
  }

  /**
   * Closes the deferral and answers its uses per key id, which the owner must now commit; each use is
   * answered once (a second take, say for the error answer that replaced the first, answers none).
   */
  take(): ReadonlyMap<string, number> {
    this.closed = true;
    const counts = this.counts;
    this.counts = new Map();
    return counts;
  }
}
