import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether an Authorization header carries the metrics bearer token. Compared as SHA-256 digests in
 * constant time, so neither the token's bytes nor its length leak through timing.
 */
export function presentsMetricsToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

/** Why a scrape is refused (the message of its 401), or null when it may read the metrics. */
export function metricsRefusal(
  authorization: string | undefined,
  { metricsToken, metricsOpen }: Pick<Config['operations'], 'metricsToken' | 'metricsOpen'>,
): { code: 'MISSING_ACCESS_TOKEN' | 'INVALID_ACCESS_TOKEN'; message: string } | null {
  if (metricsToken === null) {
    return metricsOpen ? null : { code: 'MISSING_ACCESS_TOKEN', message: METRICS_CLOSED_MESSAGE };
  }
  if (authorization === undefined)
    return { code: 'MISSING_ACCESS_TOKEN', message: 'send Authorization: Bearer <TSB_METRICS_TOKEN>' };
  if (!presentsMetricsToken(authorization, metricsToken))
    return { code: 'INVALID_ACCESS_TOKEN', message: 'this is not the metrics token' };
  return null;
}

export const METRICS_CLOSED_MESSAGE =
  '/metrics is closed: NODE_ENV is production and no TSB_METRICS_TOKEN is set ' +
  '(set one and scrape with Authorization: Bearer <token>, or set TSB_METRICS_PUBLIC=true)';
