import type { Redis } from 'ioredis';

/**
 * Resolves once a connection that is still being made is ready or has failed (at most `ms`): without the
 * offline queue, a command sent while connecting fails although Redis is there.
 */
export function connectionSettled(connection: Redis, ms: number): Promise<void> {
  if (connection.status !== 'connecting' && connection.status !== 'connect') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const event of ['ready', 'error', 'close'] as const) connection.off(event, done);
      resolve();
    };
    const timer = setTimeout(() => setImmediate(done), ms);
    for (const event of ['ready', 'error', 'close'] as const) connection.once(event, done);
  });
}

/**
 * `answer`, or an error when it has not come after `ms`. The deadline is checked after the event loop's next
 * I/O phase: a process whose loop was blocked for longer than `ms` (a burst of synchronous work) reads the
 * reply that is waiting on the socket before it decides that Redis did not answer.
 */
export function answeredWithin<T>(answer: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new Error(`Redis did not answer within ${ms} ms`));
        }),
      ms,
    );
    answer.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
