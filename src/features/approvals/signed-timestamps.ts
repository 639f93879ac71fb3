/**
 * A signed timestamp authenticates the listings of one caller (issue 14): whoever captured a listing body cannot
 * replay it to read the approver's later tasks. Without a credential a timestamp lists once; with a credential,
 * only that credential lists with it again (a TSB client may reuse its timestamp while it pages), and neither
 * another credential nor a request without one takes it over. Remembered in Redis, shared by every process, for
 * as long as the timestamp could be fresh. When Redis does not answer, a listing without credential is refused
 * (503) rather than let through unguarded; one with a credential goes on, as the TSB lists.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { TsbError } from '../../errors.js';
import { connectionSettled } from '../../lib/redis-connection.js';
import type { FreshnessWindow } from '../../ska/timestamp-proof.js';

const WITHOUT_CREDENTIAL = 'without-credential';

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
   * Records who uses the approver key's signed timestamp: the credential (its principals, encoded) or, with
   * null, a request without credential. Refuses (404) a timestamp used before by anyone else, and any second use
   * without credential.
   */
  async use(fingerprint: string, timestamp: string, credential: string | null): Promise<void> {
    const key = `${this.prefix}${createHash('sha256').update(`${fingerprint}\n${timestamp}`).digest('hex')}`;
    const user = credential === null ? WITHOUT_CREDENTIAL : `credential:${credential}`;
    let holder: string | null;
    try {
      await connectionSettled(this.redis, 1_000);
      if ((await this.redis.set(key, user, 'PX', this.ttlMs, 'NX')) !== null) return;
      holder = credential === null ? null : await this.redis.get(key);
    } catch {
      // the credential authenticates its caller: its listings go on while Redis is away, as before
      if (credential !== null) return;
      throw new TsbError(
        'SERVICE_UNAVAILABLE',
        'listing tasks without a credential is not possible while Redis does not answer; send a credential with the approver role',
      );
    }
    if (holder === user) return;
    throw new TsbError(
      'TIMESTAMP_OFF',
      credential === null
        ? 'this signed timestamp was used already: sign a fresh timestamp for every listing without a credential'
        : 'this signed timestamp was used already by another caller: sign a fresh timestamp',
    );
  }

  close(): void {
    this.redis.disconnect();
  }
}
