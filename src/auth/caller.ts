import type { Role } from './roles.js';

/** `none`: no credential at all, in development mode without authentication (TSB_AUTH_NONE_PARTITION). */
export type CredentialMethod = 'jwt' | 'apiKey' | 'mtls' | 'none';

/** One credential a request presented: never the secret itself. */
export interface CallerCredential {
  method: CredentialMethod;
  /** JWT `jti` (else `sub`), API key row id, or client certificate SHA-256 fingerprint. */
  id: string;
  /**
   * Who stands behind the credential, the same across its renewals: the JWT `sub` (else the id), the API key
   * row id, or the client certificate fingerprint. Separation of duties compares principals.
   */
  principal: string;
}

/** The authenticated party of a request: one partition, the union of its credentials' roles. */
export interface Caller {
  partitionId: string;
  partitionName: string;
  roles: ReadonlySet<Role>;
  credentials: CallerCredential[];
}

/** Does the caller hold at least one of `roles`? An empty list asks only for authentication. */
export function hasAnyRole(caller: Pick<Caller, 'roles'>, roles: readonly Role[]): boolean {
  return roles.length === 0 || roles.some((role) => caller.roles.has(role));
}

/** Who stands behind the caller's credentials; separation of duties compares these. No credential is nobody. */
export function principalsOf(caller: Pick<Caller, 'credentials'>): string[] {
  return caller.credentials
    .filter((credential) => credential.method !== 'none')
    .map((credential) => credential.principal);
}

/**
 * A request to an approver route without any credential, authenticated by an approver key's signature (in a
 * partition that allows it). `fingerprint` and `partitionId` are set once the signature verified (the partition
 * stays null for a listing whose tasks are in several partitions).
 */
export interface ApproverKeyCaller {
  fingerprint: string | null;
  partitionId: string | null;
}
