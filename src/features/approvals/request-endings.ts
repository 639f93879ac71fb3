/**
 * Tells an approval that waits for its request's execution (`WorkflowEngine.awaitExecution`, in a process
 * without a worker) when the request has ended. The statements that end a request (the one that stores
 * execution results, `execution-results.ts`, and every status change to an ended status) send a PostgreSQL
 * notification on {@link REQUEST_ENDED_CHANNEL} with the request's id; PostgreSQL delivers it at that
 * statement's commit, and only then, to every process listening. This process listens on one connection of
 * its own (`db/channel-listener.ts`), opened on first use and reopened a second after it fails.
 *
 * A hint, never the truth: a notification means an ended status has committed; anything else (the connection
 * lost, PostgreSQL away, an ending that sends none, such as the bulk cancellation of a key's requests) leaves
 * the waiter to its polling, which is then only a safety net. Measured (bench, separate worker), waiting by
 * polling alone took ≈ 2 reads per approval and 10–40 ms of pauses.
 */
import type pg from 'pg';
import { ChannelListener } from '../../db/channel-listener.js';
import type { Logger } from '../../lib/logger.js';
import { OutageLog } from '../../lib/outage-log.js';

export const REQUEST_ENDED_CHANNEL = 'opentsb_request_ended';

/** The SQL that notifies the end of the request whose id is in `idColumn` (delivered at the commit). */
export const notifyEnded = (idColumn: string): string =>
  `pg_notify('${REQUEST_ENDED_CHANNEL}', ${idColumn}::text)`;

export interface EndingWatch {
  /** resolves once the request has ended (its execution stored, or another end); never rejects, may never resolve */
  ended: Promise<void>;
  /** whether notifications could arrive when the watch began (when not, the waiter polls as before) */
  listening: boolean;
  /** forgets this watch (call it in every case) */
  stop(): void;
}

export class RequestEndings {
  private readonly listener: ChannelListener;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(connection: pg.ClientConfig, log: Logger) {
    const outage = new OutageLog(log, 'PostgreSQL (request endings; approvals poll for their execution)');
    this.listener = new ChannelListener({
      connection,
      channel: REQUEST_ENDED_CHANNEL,
      onNotification: (id) => {
        const waiting = this.waiters.get(id);
        if (!waiting) return;
        this.waiters.delete(id);
        for (const wake of waiting) wake();
      },
      onListening: () => outage.recovered(),
      onError: (error) => outage.failed(error),
    });
  }

  /** Watches one request; start watching before reading it, so that an ending in between is not missed. */
  watch(requestId: string): EndingWatch {
    void this.listener.start();
    const id = requestId.toLowerCase();
    let wake: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      wake = resolve;
    });
    let waiting = this.waiters.get(id);
    if (!waiting) {
      waiting = new Set();
      this.waiters.set(id, waiting);
    }
    waiting.add(wake);
    const watching = waiting;
    return {
      ended,
      listening: this.listener.isListening,
      stop: () => {
        watching.delete(wake);
        if (watching.size === 0 && this.waiters.get(id) === watching) this.waiters.delete(id);
      },
    };
  }

  /** True while notifications can arrive. */
  get listening(): boolean {
    return this.listener.isListening;
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}
