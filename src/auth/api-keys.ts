/**
 * API keys (`X-API-KEY`, reference §5.3): `tsb-x-token_<base64url of 32 random bytes>`, shown once;
 * only the SHA-256 (hex) is stored. Each key belongs to one partition and carries one role.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { writeAnnounced } from '../keystore/metadata-cache.js';
import { type CredentialCache, type CredentialStoreOptions, credentialCacheOf } from './credential-cache.js';
import { isRole, ROLES, type Role } from './roles.js';

export const API_KEY_PREFIX = 'tsb-x-token_';
/** The format `createApiKey` produces; anything else is refused without a database lookup. */
export const API_KEY_PATTERN = /^tsb-x-token_[A-Za-z0-9_-]{43}$/;

export interface ApiKeyRecord {
  id: string;
  partitionId: string;
  partitionName: string;
  role: Role;
}

export interface CreatedApiKey {
  id: string;
  partitionId: string;
  role: Role;
  /** The secret; it is not stored and cannot be shown again. */
  key: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

function assertRole(role: string): asserts role is Role {
  if (!isRole(role)) throw new Error(`unknown role "${role}"; the roles are: ${ROLES.join(', ')}`);
}

/** Creates a key for the partition; the returned plaintext is the only copy. */
export async function createApiKey(
  prisma: PrismaClient,
  partitionId: string,
  role: Role | string,
): Promise<CreatedApiKey> {
  assertRole(role);
  const key = generateApiKey();
  const row = await prisma.apiKey.create({ data: { partitionId, role, keyHash: hashApiKey(key) } });
  return { id: row.id, partitionId: row.partitionId, role, key };
}

/**
 * Marks the key revoked and tells every running service process (the change feed), which drops the key from its
 * cache at once; returns false when there is no such (unrevoked) key. The revoking transaction sends the
 * announcement, so it goes out at the commit even if this process dies right after; it goes out either way, so
 * that running the revocation again repeats it.
 */
export async function revokeApiKey(
  prisma: PrismaClient,
  id: string,
  clock: Clock = systemClock,
): Promise<boolean> {
  const { count } = await writeAnnounced(prisma, { kind: 'apiKey', id }, (tx) =>
    tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: clock.now() } }),
  );
  return count > 0;
}

/**
 * Splits an `X-API-KEY` header into its keys: several may be given separated by commas, and Node
 * joins repeated headers with ", ".
 */
export function splitApiKeyHeader(header: string | readonly string[] | undefined): string[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  return values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

export type ApiKeyStoreOptions = CredentialStoreOptions;

/** Looks API keys up by hash, remembering valid ones for a short while (see CredentialCache). */
export class ApiKeyStore {
  private readonly clock: Clock;
  private readonly cache: CredentialCache<ApiKeyRecord>;

  constructor(
    private readonly prisma: PrismaClient,
    options: ApiKeyStoreOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.cache = credentialCacheOf(options, clock, (change) =>
      change.kind === 'apiKey' ? (record) => record.id === change.id : null,
    );
  }

  create(partitionId: string, role: Role | string): Promise<CreatedApiKey> {
    return createApiKey(this.prisma, partitionId, role);
  }

  /** Revokes the key (see revokeApiKey); this process drops it from its cache whatever happens. */
  async revoke(id: string): Promise<boolean> {
    try {
      return await revokeApiKey(this.prisma, id, this.clock);
    } finally {
      this.cache.forget({ kind: 'apiKey', id });
    }
  }

  /** The key's record, or null when the key is unknown, revoked or malformed. */
  async lookup(key: string): Promise<ApiKeyRecord | null> {
    if (!API_KEY_PATTERN.test(key)) return null;
    const keyHash = hashApiKey(key);
    return this.cache.get(keyHash, () => this.load(keyHash));
  }

  private async load(keyHash: string): Promise<ApiKeyRecord | null> {
    const row = await this.prisma.apiKey.findUnique({
      where: { keyHash },
      select: {
        id: true,
        partitionId: true,
        role: true,
        revokedAt: true,
        partition: { select: { name: true } },
      },
    });
    if (!row || row.revokedAt !== null || !isRole(row.role)) return null;
    return { id: row.id, partitionId: row.partitionId, partitionName: row.partition.name, role: row.role };
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** Stops hearing the change feed. */
  close(): void {
    this.cache.close();
  }
}
