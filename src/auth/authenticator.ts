/**
 * Turns the credentials of a request (bearer JWT, X-API-KEY keys, TLS client certificate) into one
 * Caller. Every credential presented must be valid and all must belong to the same partition; the
 * caller's roles are the union of theirs.
 */
import { type Clock, systemClock } from '../clock.js';
import { AUTH_NONE_DEFAULT_HOSTS, type Config, canonicalHostName } from '../config.js';
import { TsbError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ChangeFeed } from '../keystore/metadata-cache.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';
import { ApiKeyStore, splitApiKeyHeader } from './api-keys.js';
import type { Caller, CallerCredential } from './caller.js';
import { ClientCertificateStore, certificateFingerprint } from './client-certificates.js';
import type { JwtKeys } from './jwt-keys.js';
import {
  createJwtVerifier,
  type JwtVerifier,
  type PartitionRef,
  type PartitionResolver,
  type VerifiedToken,
} from './jwt-verifier.js';
import { anonymousCaller } from './no-authentication.js';
import type { Role } from './roles.js';

/** Most keys one X-API-KEY header may carry. */
export const MAX_API_KEYS_PER_REQUEST = 8;

export const ACCEPTED_METHODS_TEXT =
  'send "Authorization: Bearer <JWT>", an "X-API-KEY" header, or a registered TLS client certificate';

export interface PresentedClientCertificate {
  /** DER encoding of the peer certificate. */
  der: Uint8Array;
  /** Did the TLS layer verify it against the client CA? */
  authorized: boolean;
  /** The TLS layer's reason when not authorized. */
  authorizationError?: string | null;
  /** Precomputed SHA-256 fingerprint of `der`, if known. */
  fingerprint?: string;
}

export interface PresentedCredentials {
  authorization?: string | undefined;
  apiKey?: string | readonly string[] | undefined;
  clientCertificate?: PresentedClientCertificate | null;
  /** the host name the request addressed (Host header, without port) */
  host?: string;
}

interface Resolved {
  credential: CallerCredential;
  partitionId: string;
  partitionName: string;
  roles: Iterable<Role>;
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-_.~+/]+=*)[ \t]*$/i;

/** A partition lookup by name that remembers existing partitions for a minute. */
export function cachedPartitionResolver(
  prisma: PrismaClient,
  options: { clock?: Clock; ttlMs?: number; size?: number } = {},
): PartitionResolver {
  const clock = options.clock ?? systemClock;
  const cache = new BoundedTtlCache<PartitionRef>(options.size ?? 1000, () => clock.now().getTime());
  return async (name) => {
    const cached = cache.get(name);
    if (cached) return cached;
    const row = await prisma.partition.findUnique({ where: { name }, select: { id: true, name: true } });
    if (row) cache.set(name, row, clock.now().getTime() + (options.ttlMs ?? 60_000));
    return row;
  };
}

export class Authenticator {
  constructor(
    readonly jwt: JwtVerifier,
    readonly apiKeys: ApiKeyStore,
    readonly certificates: ClientCertificateStore,
    /** development mode without authentication: the partition of requests without credentials */
    private readonly noAuthentication: {
      partitionName: string;
      resolvePartition: PartitionResolver;
      /** host names requests without credentials must address; '*' = any */
      hosts: readonly string[];
    } | null = null,
  ) {}

  /** Development mode without authentication: requests without credentials act in this partition. */
  get anonymousPartition(): string | null {
    return this.noAuthentication?.partitionName ?? null;
  }

  /** Stops the credential caches hearing the change feed. */
  close(): void {
    this.apiKeys.close();
    this.certificates.close();
  }

  async authenticate(presented: PresentedCredentials): Promise<Caller> {
    const resolved: Resolved[] = [];

    if (presented.authorization !== undefined) {
      const match = BEARER.exec(presented.authorization);
      if (!match) {
        throw new TsbError('INVALID_ACCESS_TOKEN', 'the Authorization header must be "Bearer <JWT>"');
      }
      const token = await this.jwt.verify(match[1]!);
      resolved.push({
        credential: {
          method: 'jwt',
          id: token.credentialId,
          principal: personalSubject(token) ?? token.credentialId,
        },
        partitionId: token.partition.id,
        partitionName: token.partition.name,
        roles: token.roles,
      });
    }

    if (presented.apiKey !== undefined) {
      const keys = splitApiKeyHeader(presented.apiKey);
      if (keys.length === 0) throw new TsbError('MISSING_API_KEY', 'the X-API-KEY header is empty');
      if (keys.length > MAX_API_KEYS_PER_REQUEST) {
        throw new TsbError(
          'INVALID_API_KEY',
          `at most ${MAX_API_KEYS_PER_REQUEST} API keys may be sent at once`,
        );
      }
      const records = await Promise.all(keys.map((key) => this.apiKeys.lookup(key)));
      for (const record of records) {
        if (!record) throw new TsbError('INVALID_API_KEY', 'an API key in the X-API-KEY header is not valid');
        resolved.push({
          credential: { method: 'apiKey', id: record.id, principal: record.id },
          partitionId: record.partitionId,
          partitionName: record.partitionName,
          roles: [record.role],
        });
      }
    }

    let unregisteredCertificate: string | null = null;
    const certificate = presented.clientCertificate;
    if (certificate) {
      if (!certificate.authorized) {
        throw new TsbError(
          'INSUFFICIENT_LOGIN_INFORMATION',
          `the TLS client certificate is not trusted${certificate.authorizationError ? ` (${certificate.authorizationError})` : ''}`,
        );
      }
      const fingerprint = certificate.fingerprint ?? certificateFingerprint(certificate.der);
      const record = await this.certificates.lookup(fingerprint);
      if (record) {
        resolved.push({
          credential: { method: 'mtls', id: record.fingerprint, principal: record.fingerprint },
          partitionId: record.partitionId,
          partitionName: record.partitionName,
          roles: record.roles,
        });
      } else {
        // A CA-trusted certificate nobody registered only secures the transport.
        unregisteredCertificate = fingerprint;
      }
    }

    const first = resolved[0];
    if (!first) {
      if (unregisteredCertificate !== null) {
        throw new TsbError(
          'INSUFFICIENT_LOGIN_INFORMATION',
          `the TLS client certificate (SHA-256 ${unregisteredCertificate}) is not registered for a partition; ${ACCEPTED_METHODS_TEXT}`,
        );
      }
      if (this.noAuthentication && nothingPresented(presented)) {
        return this.anonymous(this.noAuthentication, presented.host);
      }
      throw new TsbError('MISSING_ACCESS_TOKEN', `no credentials: ${ACCEPTED_METHODS_TEXT}`);
    }
    if (resolved.some((entry) => entry.partitionId !== first.partitionId)) {
      throw new TsbError(
        'INSUFFICIENT_LOGIN_INFORMATION',
        'the credentials presented belong to different partitions',
      );
    }
    const roles = new Set<Role>();
    for (const entry of resolved) for (const role of entry.roles) roles.add(role);
    return {
      partitionId: first.partitionId,
      partitionName: first.partitionName,
      roles,
      credentials: resolved.map((entry) => entry.credential),
    };
  }

  private async anonymous(
    {
      partitionName,
      resolvePartition,
      hosts,
    }: { partitionName: string; resolvePartition: PartitionResolver; hosts: readonly string[] },
    host: string | undefined,
  ): Promise<Caller> {
    const addressed = canonicalHostName(host ?? '');
    if (!hosts.includes('*') && !hosts.includes(addressed)) {
      throw new TsbError(
        'MISSING_ACCESS_TOKEN',
        `no credentials: without them this development service answers only requests addressed to ${hosts.join(', ')} (TSB_AUTH_NONE_HOSTS), and this one names "${addressed}"`,
      );
    }
    const partition = await resolvePartition(partitionName);
    if (!partition) {
      throw new TsbError(
        'MISSING_ACCESS_TOKEN',
        `no credentials, and the partition "${partitionName}" of TSB_AUTH_NONE_PARTITION does not exist`,
      );
    }
    return anonymousCaller(partition);
  }
}

/** Did the request present no credential at all (not even an empty or bad one)? */
export function nothingPresented(presented: PresentedCredentials): boolean {
  return (
    presented.authorization === undefined &&
    presented.apiKey === undefined &&
    (presented.clientCertificate === undefined || presented.clientCertificate === null)
  );
}

export interface CreateAuthenticatorOptions {
  prisma: PrismaClient;
  config: Pick<Config, 'jwt' | 'dataDir'> & Partial<Pick<Config, 'authNonePartition' | 'authNoneHosts'>>;
  clock?: Clock;
  /** Preloaded JWT keys (else read from the configuration or the data folder). */
  jwtKeys?: JwtKeys;
  /** the process's change feed (the HSM's metadata cache): revoked API keys and certificates leave the caches at once */
  changes?: ChangeFeed;
}

export function createAuthenticator({
  prisma,
  config,
  clock,
  jwtKeys,
  changes,
}: CreateAuthenticatorOptions): Authenticator {
  const withClock = clock ? { clock } : {};
  const credentialOptions = { ...withClock, ...(changes ? { changes } : {}) };
  const resolvePartition = cachedPartitionResolver(prisma, withClock);
  const jwt = createJwtVerifier(config, {
    resolvePartition,
    ...withClock,
    ...(jwtKeys ? { keys: jwtKeys } : {}),
  });
  return new Authenticator(
    jwt,
    new ApiKeyStore(prisma, credentialOptions),
    new ClientCertificateStore(prisma, credentialOptions),
    config.authNonePartition
      ? {
          partitionName: config.authNonePartition,
          resolvePartition,
          hosts: config.authNoneHosts ?? AUTH_NONE_DEFAULT_HOSTS,
        }
      : null,
  );
}

/**
 * The token's subject when it names someone: tokens of one subject are one principal. A subject that
 * is the partition name (the default of `tsb token issue`) names nobody in particular, so such a token
 * is its own principal.
 */
function personalSubject(token: VerifiedToken): string | null {
  if (token.subject === null || token.subject === token.partition.name) return null;
  return `sub:${token.subject}`;
}
