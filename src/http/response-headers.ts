/**
 * The headers of every answer (docs/http-conventions.md): helmet's security headers with a policy for a JSON
 * API (nothing may load, nothing may frame it), `Cache-Control: no-store` (answers carry keys, decrypted data
 * and tokens, and no answer of this service is worth caching), and the request id. The header set is computed
 * once at start-up: @fastify/helmet rebuilds the helmet middleware on every request (about 9 µs measured).
 * Pages that load scripts (/docs, /approver) replace the Content-Security-Policy with their own.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';

export interface ResponseHeadersOptions {
  /** the service itself speaks TLS: Strict-Transport-Security is sent (behind a TLS proxy, the proxy sends it) */
  tls: boolean;
}

export const API_CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

/** Runs helmet once against a recording response and answers the headers it set (lower-case names). */
export function securityHeaders({ tls }: ResponseHeadersOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({
    contentSecurityPolicy: API_CONTENT_SECURITY_POLICY,
    frameguard: { action: 'deny' },
    strictTransportSecurity: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  })({} as never, recorder as never, () => {});
  return headers;
}

async function responseHeadersPlugin(app: FastifyInstance, options: ResponseHeadersOptions) {
  const headers = Object.freeze({ ...securityHeaders(options), 'cache-control': 'no-store' });
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    done();
  });
}

export default fp(responseHeadersPlugin, { name: 'response-headers', fastify: '5.x' });
