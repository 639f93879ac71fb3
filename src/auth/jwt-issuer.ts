/** Issuance of the service's bearer tokens (`tsb token issue`, tests and benches). */
import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { type JWSAlgorithm, SignJWT } from 'jose';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { algorithmsForKey, type JwtKeys, loadJwtKeys } from './jwt-keys.js';
import { parseRoles, type Role } from './roles.js';

/** Longest lifetime `issueToken` grants (one year). */
export const MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600;

export interface IssueTokenParams {
  partition: string;
  roles: readonly Role[] | string;
  ttlSeconds: number;
  subject?: string;
}

export interface JwtIssuerOptions {
  privateKey: KeyObject;
  issuer: string;
  audience: string;
  clock?: Clock;
}

/** Signs service tokens with the issuer key. */
export class JwtIssuer {
  readonly algorithm: JWSAlgorithm;
  private readonly clock: Clock;

  constructor(private readonly options: JwtIssuerOptions) {
    if (options.privateKey.type !== 'private') throw new Error('the JWT issuer needs a private key');
    this.algorithm = algorithmsForKey(createPublicKey(options.privateKey)).sign;
    this.clock = options.clock ?? systemClock;
  }

  /** A compact JWS with `iss`, `aud`, `sub`, `partition`, `roles`, `jti`, `iat`, `nbf` and `exp`. */
  async issueToken({ partition, roles, ttlSeconds, subject }: IssueTokenParams): Promise<string> {
    const roleList = parseRoles(typeof roles === 'string' ? roles : [...roles]);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
      throw new RangeError(
        `the token lifetime must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}`,
      );
    }
    if (partition === '') throw new Error('a token needs a partition');
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT({ partition, roles: roleList })
      .setProtectedHeader({ alg: this.algorithm, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(subject ?? partition)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.options.privateKey);
  }
}

/** An issuer for the configured (or development) private key; throws when only a public key is configured. */
export function createJwtIssuer(
  config: Pick<Config, 'jwt' | 'dataDir'>,
  options: { clock?: Clock; keys?: JwtKeys } = {},
): JwtIssuer {
  const keys = options.keys ?? loadJwtKeys(config);
  if (!keys.privateKey) {
    throw new Error(
      'JWT_PUBLIC_KEY_FILE is set without JWT_PRIVATE_KEY_FILE: tokens come from your external issuer. ' +
        'Set JWT_PRIVATE_KEY_FILE to issue tokens with tsb.',
    );
  }
  return new JwtIssuer({
    privateKey: keys.privateKey,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** Issues one token with the configured (or development) key. */
export function issueToken(
  config: Pick<Config, 'jwt' | 'dataDir'>,
  params: IssueTokenParams,
): Promise<string> {
  return createJwtIssuer(config).issueToken(params);
}
