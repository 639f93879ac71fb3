import type { LogFn } from 'pino';

/** What code outside HTTP needs of a logger: Fastify's request-free logger and a plain pino logger both fit. */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}
