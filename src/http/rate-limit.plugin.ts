/**
 * Requests per authenticated caller (the principals behind its credentials) and window, shared by every
 * process through Redis. Over the limit: 429 with Retry-After. Registered after the auth plugin, so it
 * counts only callers who proved who they are; public routes are not counted. Refused authentications
 * are counted per client address by `limitUnauthenticated`, which the auth plugin calls.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TsbError } from '../errors.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RateLimitPluginOptions {
  limiter: RateLimiter;
}

async function rateLimitPlugin(app: FastifyInstance, { limiter }: RateLimitPluginOptions) {
  app.addHook('onRequest', async (request, reply) => {
    const caller = request.caller;
    if (!caller) return;
    const principals = [...new Set(caller.credentials.map((c) => `${c.method}:${c.principal}`))].sort();
    const decision = await limiter.take(`${caller.partitionId}:${principals.join('+')}`);
    if (decision.allowed) return;
    reply.header('retry-after', String(decision.retryAfterSeconds));
    throw new TsbError(
      'RATE_LIMITED',
      `too many requests from these credentials; try again in ${decision.retryAfterSeconds} s`,
    );
  });
}

/** Counts a request against its client address: past `max` per window it answers 429 (errorCode 900). */
function limitAddress(limiter: RateLimiter, max: number, what: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const decision = await limiter.take(`unauthenticated:${request.ip}`, max);
    if (decision.allowed) return;
    reply.header('retry-after', String(decision.retryAfterSeconds));
    throw new TsbError(
      'RATE_LIMITED',
      `too many ${what} from this address; try again in ${decision.retryAfterSeconds} s`,
    );
  };
}

/**
 * Counts a refused authentication against the client address: past `max` per window it answers 429
 * (errorCode 900) instead of 401. Valid credentials from the same address are never counted here.
 */
export const limitUnauthenticated = (limiter: RateLimiter, max: number) =>
  limitAddress(limiter, max, 'unauthenticated requests');

/**
 * Counts an approver-route request without credential (authenticated by the approver key's signature) against
 * the client address, in the same budget as refused authentications: past `max` per window, 429.
 */
export const limitApproverKeyRequests = (limiter: RateLimiter, max: number) =>
  limitAddress(limiter, max, 'requests without credentials');

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['auth'] });
