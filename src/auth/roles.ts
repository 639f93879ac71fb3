/**
 * Roles a caller may hold (reference §5.3): the five TSB API-key groups plus the OpenTSB
 * `securityOfficer` role for partition administration.
 */
export const ROLES = [
  'keyManagement',
  'keyOperation',
  'approver',
  'service',
  'approverKeyManagement',
  'securityOfficer',
] as const;

export type Role = (typeof ROLES)[number];

/** The TSB's own roles: every role but OpenTSB's `securityOfficer`. */
export const TSB_ROLES: readonly Role[] = ROLES.filter((role) => role !== 'securityOfficer');

const ROLE_SET: ReadonlySet<string> = new Set(ROLES);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLE_SET.has(value);
}

export class UnknownRoleError extends Error {
  constructor(readonly role: string) {
    super(`unknown role "${role}"; the roles are: ${ROLES.join(', ')}`);
    this.name = 'UnknownRoleError';
  }
}

/**
 * Parses a comma-separated role list ("keyManagement, keyOperation"). Blank entries are ignored,
 * duplicates removed; an unknown role throws UnknownRoleError, an empty list an Error.
 */
export function parseRoles(csv: string | readonly string[]): Role[] {
  const parts = (typeof csv === 'string' ? csv.split(',') : csv.flatMap((item) => item.split(',')))
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) throw new Error(`no role given; the roles are: ${ROLES.join(', ')}`);
  const roles: Role[] = [];
  for (const part of parts) {
    if (!isRole(part)) throw new UnknownRoleError(part);
    if (!roles.includes(part)) roles.push(part);
  }
  return roles;
}
