import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What an incoming X-Request-Id may be: 1-128 characters a log line and a header carry unchanged. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/**
 * Fastify's `genReqId`: the caller's X-Request-Id when it is sane (so a trace crosses a proxy and this service
 * under one id), else a fresh UUID. Anything longer or with other characters is replaced, never trusted into
 * logs or headers.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}
