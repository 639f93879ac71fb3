/**
 * A signed timestamp lists the tasks of an approver without a credential once (issue 14): whoever captured
 * such a listing body cannot replay it to read the approver's later tasks. Remembered in Redis, shared by every
 * process, for as long as the timestamp could be fresh. When Redis does not answer, such a listing is refused
 * (503) rather than let through unguarded; listings with a credential do not need this.
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

  /** Records the approver key's use of the signed timestamp; refuses a second use. */
  async useOnce(fingerprint: string, timestamp: string): Promise<void> {
    const digest = createHash('sha256').update(`${fingerprint}\n${timestamp}`).digest('hex');
    let stored: string | null;
    try {
      await connectionSettled(this.redis, 1_000);
      stored = await this.redis.set(`${this.prefix}${digest}`, '1', 'PX', this.ttlMs, 'NX');
    } catch {
      throw new TsbError(
        'SERVICE_UNAVAILABLE',
        'listing tasks without a credential is not possible while Redis does not answer; send a credential with the approver role',
      );
    }
    if (stored === null) {
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
