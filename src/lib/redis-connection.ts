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
    const timer = setTimeout(done, ms);
    for (const event of ['ready', 'error', 'close'] as const) connection.once(event, done);
  });
}
