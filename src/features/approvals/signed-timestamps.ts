/**
 * A signed timestamp lists an approver's tasks without a credential once (issue 14): whoever captured such a
 * listing body cannot replay it to read the approver's later tasks. A listing with a credential records its
 * timestamp too, so that a body captured from it (a proxy's log, say) cannot be replayed without a credential
 * either; the credential itself authenticates its caller, so its own listings are never refused for a timestamp
 * another caller used (two tools of one approver listing in the same second sign the same whole-second text).
 * Remembered in Redis, shared by every process, for as long as the timestamp could be fresh. When Redis does not
 * answer, a listing without credential is refused (503) rather than let through unguarded; one with a credential
 * goes on.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { TsbError } from '../../errors.js';
import { connectionSettled } from '../../lib/redis-connection.js';
import type { FreshnessWindow } from '../../ska/timestamp-proof.js';

export class SignedTimestamps {
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly prefix: string;

  constructor(options: { redisUrl: string; prefix: string; window: FreshnessWindow }) {
    this.redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 1_000,
    });
    this.redis.on('error', () => {});
    // past and future window, and a minute of clock skew between processes
    this.ttlMs = (options.window.pastSeconds + options.window.futureSeconds + 60) * 1000;
    this.prefix = `${options.prefix}:approver-timestamp:`;
  }

  /**
   * Records the approver key's use of the signed timestamp. Without a credential (`withCredential` false) a
   * timestamp used before, by anyone, is refused (404); with one it is recorded and never refused.
   */
  async use(fingerprint: string, timestamp: string, withCredential: boolean): Promise<void> {
    const key = `${this.prefix}${createHash('sha256').update(`${fingerprint}\n${timestamp}`).digest('hex')}`;
    let stored: string | null;
    try {
      await connectionSettled(this.redis, 1_000);
      stored = await this.redis.set(key, withCredential ? 'credential' : 'none', 'PX', this.ttlMs, 'NX');
    } catch {
      if (withCredential) return;
      throw new TsbError(
        'SERVICE_UNAVAILABLE',
        'listing tasks without a credential is not possible while Redis does not answer; send a credential with the approver role',
      );
    }
    if (stored === null && !withCredential) {
      throw new TsbError(
        'TIMESTAMP_OFF',
        'this signed timestamp was used already: sign a fresh timestamp for every listing without a credential',
      );
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
