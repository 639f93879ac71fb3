import type { Key } from '../../generated/prisma/client.js';
import type { UseCounter } from '../../keystore/use-counter.js';
import type { Authorization } from '../approval-gate.js';
import type { KeyOperationEvent, KeyOperationName } from './key-operations.types.js';

/** How a completed operation went: when it started (`performance.now()`), who authorized it, what it spent. */
export interface OperationUse {
  startedAt: number;
  authorization?: Authorization | null;
  /** its pre-signed approvals were spent, and the use counted in the spending transaction */
  approvalsSpent?: boolean;
  stateful?: KeyOperationEvent['stateful'];
}

/** The end of every completed key operation: its use counted, its observers told. */
export class OperationUses {
  private readonly observers = new Set<(event: KeyOperationEvent) => void>();

  constructor(private readonly useCounter: UseCounter) {}

  /** Calls `observer` after every completed operation (metrics); answers the function that stops it. */
  observe(observer: (event: KeyOperationEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Counts a use of the key and waits until the count is committed, so no result leaves before its use is
   * durable (a failed write fails the operation with 503); inside `UseCounter.deferInto` (an HTTP request)
   * the count is handed to the caller, which commits it with the request's audit entry before answering. Not counted here: a workflow request (the
   * workflow counts that use in the statement that stores the request's result, so a run whose result is
   * never stored counts nothing) and a use whose pre-signed approvals were spent (`approvalsSpent`: counted
   * in the spending transaction). Observers hear every completed operation, workflow runs included.
   */
  async used(
    key: Pick<Key, 'id' | 'algorithm'>,
    operation: KeyOperationName,
    use: OperationUse,
  ): Promise<void> {
    const { startedAt, authorization = null, approvalsSpent = false, stateful } = use;
    if (authorization?.kind !== 'workflow' && !approvalsSpent) await this.useCounter.record(key.id);
    if (this.observers.size === 0) return;
    const event: KeyOperationEvent = {
      operation,
      algorithm: key.algorithm,
      seconds: (performance.now() - startedAt) / 1_000,
      ...(stateful ? { stateful } : {}),
    };
    for (const observer of this.observers) observer(event);
  }
}
