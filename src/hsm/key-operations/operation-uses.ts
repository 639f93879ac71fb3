import type { Key } from '../../generated/prisma/client.js';
import type { UseCounter } from '../../keystore/use-counter.js';
import type { Authorization } from '../approval-gate.js';
import type { KeyOperationEvent, KeyOperationName } from './key-operations.types.js';

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
    authorization: Authorization | null = null,
    approvalsSpent = false,
    detail: Pick<KeyOperationEvent, 'stateful'> = {},
  ): Promise<void> {
    if (authorization?.kind !== 'workflow' && !approvalsSpent) await this.useCounter.record(key.id);
    for (const observer of this.observers) observer({ operation, algorithm: key.algorithm, ...detail });
  }
}
