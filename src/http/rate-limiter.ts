import { Redis } from 'ioredis';
import { answeredWithin, connectionSettled } from '../lib/redis-connection.js';

export interface RateLimitOptions {
  redisUrl: string;
  /** prefix of the Redis keys (the deployment's queue prefix), so deployments sharing one Redis count apart */
  prefix: string;
  /** requests a caller may make per window; 0 disables the limiter */
  max: number;
  windowSeconds: number;
  now?: () => number;
  /** told (at most once a minute) that Redis did not answer and requests went through uncounted */
  onRedisUnavailable?: (error: unknown) => void;
  /** told once when Redis answers again after onRedisUnavailable */
  onRedisAvailable?: () => void;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** whole seconds until the caller's window ends (at least 1 when refused) */
  retryAfterSeconds: number;
  /** requests the caller has left in this window; null when Redis did not answer (the request went uncounted) */
  remaining: number | null;
  /** whole seconds until the window ends (at least 1) */
  resetSeconds: number;
}

/** INCR the window's counter, give it its lifetime on first use; answers [count, ms left]. */
const TAKE_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
`;

const REDIS_COMPLAINT_INTERVAL_MS = 60_000;
/** a process just started waits this long for its first connection rather than let a burst through uncounted */
const CONNECT_SETTLE_MS = 1_000;
/** a request waits this long for its count before it goes through uncounted */
const ANSWER_WAIT_MS = 500;

/**
 * Requests per caller and fixed window, counted in Redis so that every process of a deployment shares
 * one count. A caller refused in this process is refused here until its window ends, without asking
 * Redis again (a flood costs no round trips). When Redis does not answer, requests go through: the
 * limiter protects the service, it must not take it down.
 */
export class RateLimiter {
  private readonly redis: Redis;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** caller → time its refusal ends */
  private readonly refusedUntil = new Map<string, number>();
  private lastComplaint = 0;

  constructor(private readonly options: RateLimitOptions) {
    this.windowMs = options.windowSeconds * 1000;
    this.now = options.now ?? Date.now;
    this.redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // a backstop for a connection that hangs; take() itself waits ANSWER_WAIT_MS
      commandTimeout: 5_000,
    });
    this.redis.on('error', () => {});
    this.redis.defineCommand('tsbTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  /** The RateLimit-Policy header (draft-ietf-httpapi-ratelimit-headers) of a policy of `max` requests per window. */
  policyHeader(name: string, max = this.options.max): string {
    return `"${name}";q=${max};w=${this.options.windowSeconds}`;
  }

  /** Counts one request of `caller`; `max` overrides the limit of the options (a second kind of caller). */
  async take(caller: string, max = this.options.max): Promise<RateLimitDecision> {
    const now = this.now();
    const until = this.refusedUntil.get(caller);
    if (until !== undefined) {
      if (until > now) {
        const seconds = Math.max(1, Math.ceil((until - now) / 1000));
        return { allowed: false, retryAfterSeconds: seconds, remaining: 0, resetSeconds: seconds };
      }
      this.refusedUntil.delete(caller);
    }
    const window = Math.floor(now / this.windowMs);
    const key = `${this.options.prefix}:ratelimit:${caller}:${window}`;
    let count: number;
    let msLeft: number;
    try {
      await connectionSettled(this.redis, CONNECT_SETTLE_MS);
      const redis = this.redis as unknown as {
        tsbTakeToken(key: string, ttl: number): Promise<[number, number]>;
      };
      const answer = await answeredWithin(redis.tsbTakeToken(key, this.windowMs), ANSWER_WAIT_MS);
      [count, msLeft] = answer;
      if (this.lastComplaint !== 0) {
        this.lastComplaint = 0;
        this.options.onRedisAvailable?.();
      }
    } catch (error) {
      if (now - this.lastComplaint >= REDIS_COMPLAINT_INTERVAL_MS) {
        this.lastComplaint = now;
        this.options.onRedisUnavailable?.(error);
      }
      return { allowed: true, retryAfterSeconds: 0, remaining: null, resetSeconds: 1 };
    }
    if (msLeft < 0) msLeft = (window + 1) * this.windowMs - now;
    const resetSeconds = Math.max(1, Math.ceil(msLeft / 1000));
    if (count <= max) return { allowed: true, retryAfterSeconds: 0, remaining: max - count, resetSeconds };
    this.refusedUntil.set(caller, now + msLeft);
    if (this.refusedUntil.size > 100_000) this.forgetEnded(now);
    return { allowed: false, retryAfterSeconds: resetSeconds, remaining: 0, resetSeconds };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private forgetEnded(now: number): void {
    for (const [caller, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(caller);
  }
}
