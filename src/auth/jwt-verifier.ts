/**
 * Verification of bearer tokens (every request). Accepts only the asymmetric algorithms that fit the
 * key, requires `exp`, `iss`, `aud`, a `partition` naming an existing partition and a `roles` array of
 * known roles. Verified tokens are cached (bounded, by SHA-256 of the token) until their `exp`, so a
 * token costs one signature check, not one per request.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { type JWSAlgorithm, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { TsbError } from '../errors.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';
import { algorithmsForKey, type JwtKeys, loadJwtKeys } from './jwt-keys.js';
import { isRole, ROLES, type Role } from './roles.js';

/** Longest token accepted; anything larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;

export interface PartitionRef {
  id: string;
  name: string;
}

/** Finds a partition by name; null when there is none. */
export type PartitionResolver = (name: string) => Promise<PartitionRef | null>;

export interface VerifiedToken {
  partition: PartitionRef;
  roles: ReadonlySet<Role>;
  subject: string | null;
  jti: string | null;
  /** The credential id for the Caller: `jti`, else `sub`, else a hash prefix of the token. */
  credentialId: string;
  expiresAt: Date;
}

export interface JwtVerifierOptions {
  publicKey: KeyObject;
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
  resolvePartition: PartitionResolver;
  clock?: Clock;
  /** Most verified tokens kept (default 10,000). */
  cacheSize?: number;
}

const invalid = (message: string) => new TsbError('INVALID_ACCESS_TOKEN', message);

function explainJoseError(error: unknown): TsbError {
  if (error instanceof TsbError) return error;
  if (error instanceof joseErrors.JWTExpired) return invalid('the access token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return invalid('the access token is not valid yet (nbf)');
      case 'iat':
        return invalid('the access token was issued in the future (iat)');
      case 'iss':
        return invalid('the access token was issued by another issuer (iss)');
      case 'aud':
        return invalid('the access token is meant for another audience (aud)');
      default:
        return invalid(`the access token's "${error.claim}" claim is missing or invalid`);
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return invalid('the access token is signed with an algorithm the service does not accept');
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return invalid('the access token signature is invalid');
  return invalid('the access token is malformed');
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '')
    throw invalid(`the access token's "${name}" claim must be a non-empty string`);
  return value;
}

/** Verifies bearer tokens and caches the outcome until each token's `exp`. */
export class JwtVerifier {
  readonly algorithms: JWSAlgorithm[];
  /** Cache hits and full (signature-checking) verifications, for tests and metrics. */
  readonly stats = { hits: 0, verifications: 0 };
  private readonly clock: Clock;
  private readonly cache: BoundedTtlCache<VerifiedToken>;
  private readonly inFlight = new Map<string, Promise<VerifiedToken>>();

  constructor(private readonly options: JwtVerifierOptions) {
    this.algorithms = algorithmsForKey(options.publicKey).verify;
    this.clock = options.clock ?? systemClock;
    this.cache = new BoundedTtlCache(options.cacheSize ?? 10_000, () => this.clock.now().getTime());
  }

  /** The verified token, or a TsbError INVALID_ACCESS_TOKEN (617) saying why not. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw invalid('the access token is malformed');
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const verification = this.verifyUncached(token, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, verification);
    return verification;
  }

  private async verifyUncached(token: string, cacheKey: string): Promise<VerifiedToken> {
    this.stats.verifications++;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.options.publicKey, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp'],
        clockTolerance: this.options.clockToleranceSeconds,
        currentDate: this.clock.now(),
      }));
    } catch (error) {
      throw explainJoseError(error);
    }
    const partitionName = stringClaim(payload, 'partition');
    if (partitionName === null) throw invalid('the access token names no partition ("partition" claim)');
    const rawRoles = payload['roles'];
    if (!Array.isArray(rawRoles) || rawRoles.length === 0) {
      throw invalid('the access token grants no roles ("roles" must be a non-empty array)');
    }
    const unknown = rawRoles.find((role) => !isRole(role));
    if (unknown !== undefined)
      throw invalid(`the access token grants an unknown role; the roles are: ${ROLES.join(', ')}`);
    const subject = stringClaim(payload, 'sub');
    const jti = stringClaim(payload, 'jti');
    const partition = await this.options.resolvePartition(partitionName);
    if (!partition) throw invalid(`the partition named by the access token does not exist`);
    const verified: VerifiedToken = {
      partition: { id: partition.id, name: partition.name },
      roles: new Set(rawRoles as Role[]),
      subject,
      jti,
      credentialId: jti ?? subject ?? `sha256:${cacheKey.slice(0, 16)}`,
      expiresAt: new Date(payload.exp! * 1000),
    };
    this.cache.set(cacheKey, verified, verified.expiresAt.getTime());
    return verified;
  }

  /** Forgets every cached token (e.g. after a partition was removed). */
  clearCache(): void {
    this.cache.clear();
  }

  get cacheSize(): number {
    return this.cache.size;
  }
}

/** A verifier for the configured (or development) key. */
export function createJwtVerifier(
  config: Pick<Config, 'jwt' | 'dataDir'>,
  options: { resolvePartition: PartitionResolver; clock?: Clock; cacheSize?: number; keys?: JwtKeys },
): JwtVerifier {
  const keys = options.keys ?? loadJwtKeys(config);
  return new JwtVerifier({
    publicKey: keys.publicKey,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    clockToleranceSeconds: config.jwt.clockToleranceSeconds,
    resolvePartition: options.resolvePartition,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.cacheSize ? { cacheSize: options.cacheSize } : {}),
  });
}
