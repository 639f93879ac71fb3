/**
 * The service's bearer tokens: verification (every request) and issuance (`tsb token issue`).
 *
 * Keys: JWT_PUBLIC_KEY_FILE (PEM SubjectPublicKeyInfo or certificate) verifies, JWT_PRIVATE_KEY_FILE
 * signs. With neither, a development ES256 key pair in `<dataDir>/jwt-private.pem` and
 * `<dataDir>/jwt-public.pem` is used, created on first use.
 *
 * Verification accepts only the asymmetric algorithms that fit the key (never `none` or HS*),
 * requires `exp`, `iss`, `aud`, a `partition` naming an existing partition and a `roles` array of
 * known roles. Verified tokens are cached (bounded, by SHA-256 of the token) until their `exp`, so a
 * token costs one signature check, not one per request.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  X509Certificate,
} from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type JWSAlgorithm, type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { TsbError } from '../errors.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';
import { isRole, parseRoles, ROLES, type Role } from './roles.js';

export const DEVELOPMENT_JWT_PRIVATE_KEY_FILE = 'jwt-private.pem';
export const DEVELOPMENT_JWT_PUBLIC_KEY_FILE = 'jwt-public.pem';
/** Longest token accepted; anything larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest lifetime `issueToken` grants (one year). */
export const MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600;

export interface JwtAlgorithms {
  /** Algorithms a token signed with this key pair may declare. */
  verify: JWSAlgorithm[];
  /** Algorithm `issueToken` signs with. */
  sign: JWSAlgorithm;
}

/** The JWS algorithms that fit an asymmetric key; throws for symmetric or unsupported keys. */
export function algorithmsForKey(key: KeyObject): JwtAlgorithms {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { verify: ['ES256'], sign: 'ES256' };
      if (curve === 'secp384r1') return { verify: ['ES384'], sign: 'ES384' };
      if (curve === 'secp521r1') return { verify: ['ES512'], sign: 'ES512' };
      throw new Error(
        `JWT keys on curve ${curve ?? 'unknown'} are not supported (use P-256, P-384 or P-521)`,
      );
    }
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) throw new Error(`RSA JWT keys must have at least 2048 bits (this one has ${bits})`);
      return { verify: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], sign: 'RS256' };
    }
    case 'rsa-pss':
      return { verify: ['PS256', 'PS384', 'PS512'], sign: 'PS256' };
    case 'ed25519':
      return { verify: ['EdDSA', 'Ed25519'], sign: 'EdDSA' };
    default:
      throw new Error(
        `JWT keys of type ${key.asymmetricKeyType ?? 'secret'} are not supported (use EC P-256/P-384/P-521, RSA or Ed25519)`,
      );
  }
}

export interface JwtKeys {
  publicKey: KeyObject;
  /** null when only a verification key is configured (tokens then come from an external issuer). */
  privateKey: KeyObject | null;
  algorithms: JwtAlgorithms;
  /** true for the development key pair kept in the data folder. */
  development: boolean;
  publicKeyFile: string | null;
  privateKeyFile: string | null;
}

/** Reads a PEM public key (SPKI, PKCS#1) or the public key of a PEM/DER certificate. */
export function readPublicKey(file: string): KeyObject {
  const data = readFileSync(file);
  const text = data.toString('latin1');
  try {
    if (text.includes('-----BEGIN CERTIFICATE-----') || !text.includes('-----BEGIN')) {
      try {
        return new X509Certificate(data).publicKey;
      } catch (error) {
        if (text.includes('-----BEGIN CERTIFICATE-----')) throw error;
      }
    }
    const key = createPublicKey(data);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch (error) {
    throw new Error(`${file} does not hold a PEM public key or certificate: ${(error as Error).message}`);
  }
}

function readPrivateKey(file: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new Error(`${file} does not hold a PEM private key: ${(error as Error).message}`);
  }
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

/**
 * The development key pair in `dataDir`, created on first use (private key mode 0600). Creation is
 * atomic (write to a temporary file, then link), so concurrent first uses agree on one key.
 */
export function ensureDevelopmentJwtKeys(dataDir: string): {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privateKeyFile: string;
  publicKeyFile: string;
  created: boolean;
} {
  const privateKeyFile = path.join(dataDir, DEVELOPMENT_JWT_PRIVATE_KEY_FILE);
  const publicKeyFile = path.join(dataDir, DEVELOPMENT_JWT_PUBLIC_KEY_FILE);
  let created = false;
  if (!existsSync(privateKeyFile)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const temporary = `${privateKeyFile}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, pem, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temporary, privateKeyFile);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  const privateKey = readPrivateKey(privateKeyFile);
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  if (created || !existsSync(publicKeyFile) || readFileSync(publicKeyFile, 'utf8') !== publicPem) {
    writeFileSync(publicKeyFile, publicPem, { mode: 0o644 });
  }
  return { privateKey, publicKey, privateKeyFile, publicKeyFile, created };
}

/** The JWT keys the configuration names, or the development pair in the data folder. */
export function loadJwtKeys(config: Pick<Config, 'jwt' | 'dataDir'>): JwtKeys {
  const { publicKeyFile, privateKeyFile } = config.jwt;
  if (publicKeyFile === null && privateKeyFile === null) {
    const dev = ensureDevelopmentJwtKeys(config.dataDir);
    return {
      publicKey: dev.publicKey,
      privateKey: dev.privateKey,
      algorithms: algorithmsForKey(dev.publicKey),
      development: true,
      publicKeyFile: dev.publicKeyFile,
      privateKeyFile: dev.privateKeyFile,
    };
  }
  const privateKey = privateKeyFile === null ? null : readPrivateKey(privateKeyFile);
  const publicKey = publicKeyFile === null ? createPublicKey(privateKey!) : readPublicKey(publicKeyFile);
  if (privateKey && !spki(createPublicKey(privateKey)).equals(spki(publicKey))) {
    throw new Error(
      `JWT_PRIVATE_KEY_FILE (${privateKeyFile}) is not the private half of JWT_PUBLIC_KEY_FILE (${publicKeyFile})`,
    );
  }
  return {
    publicKey,
    privateKey,
    algorithms: algorithmsForKey(publicKey),
    development: false,
    publicKeyFile,
    privateKeyFile,
  };
}

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
