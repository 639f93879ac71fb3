/**
 * Authentication and authorisation for every route of the scope the plugin is registered in.
 *
 * Each route declares `config: { auth: { roles: [...] } }` (the caller needs one of the roles) or
 * `config: { auth: false }` (public). A route that declares neither is refused with 403: deny by
 * default. Credentials are never logged.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  type Authenticator,
  createAuthenticator,
  nothingPresented,
  type PresentedClientCertificate,
} from '../auth/authenticator.js';
import { type ApproverKeyCaller, type Caller, hasAnyRole } from '../auth/caller.js';
import { certificateFingerprint } from '../auth/client-certificates.js';
import type { Role } from '../auth/roles.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { TsbError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ChangeFeed } from '../keystore/metadata-cache.js';

/**
 * What a route declares: the roles it needs (any one of them), or `false` for a public route.
 * `approverSignature`: a request without any credential may call it, authenticated by the approver key's
 * signature in its body (the handler checks it; `request.approverKey` marks such a request).
 */
export type RouteAuth = false | { roles: readonly Role[]; approverSignature?: boolean };

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null on public routes and for approver-key requests. */
    caller: Caller | null;
    /** set on an approver route called without any credential: the handler authenticates the approver key */
    approverKey: ApproverKeyCaller | null;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

export interface AuthPluginOptions {
  config: Pick<Config, 'jwt' | 'dataDir'> & Partial<Pick<Config, 'authNonePartition' | 'authNoneHosts'>>;
  prisma: PrismaClient;
  /** Built from prisma and config (and `changes`) when not given. */
  authenticator?: Authenticator;
  clock?: Clock;
  /** the process's change feed, which the built authenticator's credential caches hear (revocations) */
  changes?: ChangeFeed;
  /** told of every refused authentication (401); may throw instead (the address's rate limit) */
  onAuthenticationRefused?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** told of every approver-route request without credential (the address's rate limit); may throw */
  onApproverKeyRequest?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/** Fingerprints of peer certificates, per TLS connection (computed once per connection). */
const peerCertificates = new WeakMap<object, PresentedClientCertificate | null>();

function presentedClientCertificate(request: FastifyRequest): PresentedClientCertificate | null {
  const socket = request.raw.socket as Partial<TLSSocket> | undefined;
  if (socket?.encrypted !== true || typeof socket.getPeerCertificate !== 'function') return null;
  const known = peerCertificates.get(socket);
  if (known !== undefined) return known;
  const peer = socket.getPeerCertificate();
  let presented: PresentedClientCertificate | null = null;
  if (peer && Buffer.isBuffer(peer.raw) && peer.raw.length > 0) {
    presented = {
      der: peer.raw,
      fingerprint: certificateFingerprint(peer.raw),
      authorized: socket.authorized === true,
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
    };
  }
  peerCertificates.set(socket, presented);
  return presented;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions) {
  let authenticator = options.authenticator;
  if (!authenticator) {
    const built = createAuthenticator({
      prisma: options.prisma,
      config: options.config,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.changes ? { changes: options.changes } : {}),
    });
    app.addHook('onClose', async () => built.close());
    authenticator = built;
  }

  app.decorateRequest('caller', null);
  app.decorateRequest('approverKey', null);
  if (!app.hasDecorator('authenticator')) app.decorate('authenticator', authenticator);

  app.addHook('onRoute', (route) => {
    const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth;
    if (auth === undefined) {
      app.log.warn(
        { method: route.method, url: route.url },
        'route declares no config.auth; every request to it is refused',
      );
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const auth = request.routeOptions.config.auth;
    if (auth === undefined) {
      request.log.warn(
        { method: request.method, route: request.routeOptions.url },
        'refused: the route declares no config.auth (deny by default)',
      );
      throw new TsbError('SECURITY_NOT_ALLOWED', 'this endpoint is not available');
    }
    if (auth === false) return;
    const presented = {
      authorization: request.headers.authorization,
      apiKey: headerValue(request.headers['x-api-key']),
      clientCertificate: presentedClientCertificate(request),
      host: request.hostname,
    };
    if (auth.approverSignature && nothingPresented(presented) && authenticator.anonymousPartition === null) {
      await options.onApproverKeyRequest?.(request, reply);
      request.approverKey = { fingerprint: null, partitionId: null };
      return;
    }
    let caller: Caller;
    try {
      caller = await authenticator.authenticate(presented);
    } catch (error) {
      if (error instanceof TsbError && error.statusCode === 401)
        await options.onAuthenticationRefused?.(request, reply);
      throw error;
    }
    request.caller = caller;
    if (!hasAnyRole(caller, auth.roles)) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        `this endpoint needs the role ${auth.roles.join(' or ')}; the credentials grant ${[...caller.roles].join(', ') || 'no role'}`,
      );
    }
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticator: Authenticator;
  }
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x' });
