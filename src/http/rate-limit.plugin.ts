/**
 * Requests per authenticated caller (the principals behind its credentials) and window, shared by every
 * process through Redis. Every counted answer carries the RateLimit and RateLimit-Policy headers of
 * draft-ietf-httpapi-ratelimit-headers (docs/http-conventions.md); over the limit: 429 with Retry-After. Registered after the auth plugin, so it
 * counts only callers who proved who they are; public routes are not counted. Refused authentications
 * are counted per client address by `limitUnauthenticated`, which the auth plugin calls.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TsbError } from '../errors.js';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.js';

/** Policy names of the two budgets: per authenticated caller, per client address without credentials. */
const CALLER_POLICY = 'caller';
const ADDRESS_POLICY = 'address';

/** Tells the client its budget; 429 with Retry-After when it is spent. */
function answer(
  reply: FastifyReply,
  policy: string,
  policyHeader: string,
  decision: RateLimitDecision,
  what: string,
) {
  if (decision.remaining !== null) {
    reply.header('ratelimit-policy', policyHeader);
    reply.header('ratelimit', `"${policy}";r=${decision.remaining};t=${decision.resetSeconds}`);
  }
  if (decision.allowed) return;
  reply.header('retry-after', String(decision.retryAfterSeconds));
  throw new TsbError('RATE_LIMITED', `too many ${what}; try again in ${decision.retryAfterSeconds} s`);
}

export interface RateLimitPluginOptions {
  limiter: RateLimiter;
}

async function rateLimitPlugin(app: FastifyInstance, { limiter }: RateLimitPluginOptions) {
  const policy = limiter.policyHeader(CALLER_POLICY);
  app.addHook('onRequest', async (request, reply) => {
    const caller = request.caller;
    if (!caller) return;
    const principals = [...new Set(caller.credentials.map((c) => `${c.method}:${c.principal}`))].sort();
    const decision = await limiter.take(`${caller.partitionId}:${principals.join('+')}`);
    answer(reply, CALLER_POLICY, policy, decision, 'requests from these credentials');
  });
}

/** Counts a request against its client address: past `max` per window it answers 429 (errorCode 900). */
function limitAddress(limiter: RateLimiter, max: number, what: string) {
  const policy = limiter.policyHeader(ADDRESS_POLICY, max);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const decision = await limiter.take(`unauthenticated:${request.ip}`, max);
    answer(reply, ADDRESS_POLICY, policy, decision, `${what} from this address`);
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
