/** What most API routes share: who may call them, the errors they answer, the caller's partition. */
import type { Role } from '../auth/roles.js';
import type { SoftHsm } from '../hsm/soft-hsm.js';
import { errorResponses } from './common.schema.js';

/** A route's `config`: any one of these roles may call it (enforced by auth.plugin.ts, deny by default). */
export const onlyRoles = (...roles: Role[]) => ({ auth: { roles } });

/** The error statuses every authenticated API route can answer. */
export const COMMON_ERRORS = errorResponses(400, 401, 403, 404, 409, 413, 500, 503);

/** The partition of a request's authenticated caller. */
export const callerPartition = (hsm: SoftHsm) => (request: { caller: { partitionId: string } | null }) =>
  hsm.partition(request.caller!.partitionId);
