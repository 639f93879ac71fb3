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

/**
 * A list of principals as one stored string (a request's `createdBy`, a proposal's `proposerPrincipal` and
 * `deciderPrincipal`, the audit `credentialId`): joined by ",", with "%" and "," inside each principal written
 * `%25` and `%2C`, so a principal holding a comma (a JWT subject such as `CN=alice,O=acme`) stays one principal.
 * A principal without "%" or "," is written as is: the form the previous release wrote, and still reads.
 */
export function encodePrincipals(principals: readonly string[]): string {
  return principals
    .map((principal) => principal.replace(/[%,]/g, (c) => (c === '%' ? '%25' : '%2C')))
    .join(',');
}

/**
 * The principals of a string written by `encodePrincipals`. Only `%25` and `%2C` are escapes; any other "%" is
 * kept, so a value of the previous release (joined by "," without escapes) reads as that release read it.
 */
export function decodePrincipals(stored: string): string[] {
  if (stored === '') return [];
  return stored.split(',').map((part) => part.replace(/%(25|2C)/g, (code) => (code === '%25' ? '%' : ',')));
}

/** Does a stored principal list (see `encodePrincipals`) name one of `principals`? Separation of duties asks this. */
export function sharesPrincipal(stored: string, principals: readonly string[]): boolean {
  return decodePrincipals(stored).some((principal) => principals.includes(principal));
}
