import { createJwtIssuer, type JwtIssuer } from '../../src/auth/jwt-issuer.js';
import type { Role } from '../../src/auth/roles.js';
import type { Config } from '../../src/config.js';

const issuers = new WeakMap<object, JwtIssuer>();

/** A one-hour token of the service's own (development) issuer key in the test's data folder. */
export async function issueTestToken(
  config: Readonly<Config>,
  partition: string,
  roles: Role[],
  subject?: string,
): Promise<string> {
  let issuer = issuers.get(config);
  if (!issuer) {
    issuer = createJwtIssuer(config);
    issuers.set(config, issuer);
  }
  return issuer.issueToken({ partition, roles, ttlSeconds: 3600, ...(subject ? { subject } : {}) });
}
