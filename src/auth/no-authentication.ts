/**
 * Development mode without authentication (TSB_AUTH_NONE_PARTITION), as a TSB with authentication turned off:
 * a request that presents no credential at all acts with the TSB's roles in the one configured partition. Not as
 * a security officer: a TSB with authentication off has no such role, and its audit log and backups stay closed.
 */
import type { Caller } from './caller.js';
import type { PartitionRef } from './jwt-verifier.js';
import { TSB_ROLES } from './roles.js';

export const NO_AUTHENTICATION_WARNING = (partition: string): string =>
  `DEVELOPMENT MODE WITHOUT AUTHENTICATION (TSB_AUTH_NONE_PARTITION=${partition}): every request without ` +
  `credentials acts with every TSB role in partition "${partition}". Never run this in production.`;

/**
 * The caller of a request without credentials. Its one credential (method `none`) marks it in the audit log and
 * the rate limit; it stands for nobody in particular, so it is no principal (separation of duties cannot
 * tell anonymous callers apart).
 */
export function anonymousCaller(partition: PartitionRef): Caller {
  return {
    partitionId: partition.id,
    partitionName: partition.name,
    roles: new Set(TSB_ROLES),
    credentials: [{ method: 'none', id: 'none', principal: 'anonymous' }],
  };
}
