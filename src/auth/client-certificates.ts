/**
 * TLS client certificates registered to a partition with roles. A certificate is identified by the
 * SHA-256 of its DER encoding (lower-case hex); the TLS layer has already checked that it chains to
 * the configured client CA.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { writeAnnounced } from '../keystore/metadata-cache.js';
import { type CredentialCache, type CredentialStoreOptions, credentialCacheOf } from './credential-cache.js';
import { isRole, parseRoles, type Role } from './roles.js';

export interface ClientCertificateRecord {
  id: string;
  partitionId: string;
  partitionName: string;
  fingerprint: string;
  subject: string;
  roles: ReadonlySet<Role>;
}

export interface ParsedClientCertificate {
  der: Buffer;
  fingerprint: string;
  subject: string;
  validTo: Date;
}

export function certificateFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Parses a PEM (the first certificate of a bundle) or DER certificate. */
export function parseClientCertificate(input: Buffer | string): ParsedClientCertificate {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let certificate: X509Certificate;
  try {
    const text = data.toString('latin1');
    const first = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/);
    certificate = new X509Certificate(first ? Buffer.from(first[0], 'latin1') : data);
  } catch (error) {
    throw new Error(`not a PEM or DER X.509 certificate: ${(error as Error).message}`);
  }
  return {
    der: certificate.raw,
    fingerprint: certificateFingerprint(certificate.raw),
    subject: certificate.subject.replaceAll('\n', ', '),
    validTo: new Date(certificate.validTo),
  };
}

export type ClientCertificateStoreOptions = CredentialStoreOptions;

/** The registered client certificates, valid ones remembered for a short while (see CredentialCache). */
export class ClientCertificateStore {
  private readonly clock: Clock;
  private readonly cache: CredentialCache<ClientCertificateRecord>;

  constructor(
    private readonly prisma: PrismaClient,
    options: ClientCertificateStoreOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.cache = credentialCacheOf(options, clock, (change) =>
      change.kind === 'clientCertificate'
        ? (record) => record.id === change.idOrFingerprint || record.fingerprint === change.idOrFingerprint
        : null,
    );
  }

  /** Registers the certificate for the partition; a fingerprint can be registered only once. */
  async register(
    partitionId: string,
    certificate: Buffer | string,
    roles: readonly Role[] | string,
  ): Promise<{ id: string; fingerprint: string; subject: string; roles: Role[]; validTo: Date }> {
    const roleList = parseRoles(typeof roles === 'string' ? roles : [...roles]);
    const parsed = parseClientCertificate(certificate);
    const existing = await this.prisma.clientCertificate.findUnique({
      where: { fingerprint: parsed.fingerprint },
    });
    if (existing) {
      throw new Error(`the certificate ${parsed.fingerprint} is already registered (id ${existing.id})`);
    }
    const row = await this.prisma.clientCertificate.create({
      data: { partitionId, fingerprint: parsed.fingerprint, subject: parsed.subject, roles: roleList },
    });
    this.cache.delete(parsed.fingerprint);
    return {
      id: row.id,
      fingerprint: row.fingerprint,
      subject: row.subject,
      roles: roleList,
      validTo: parsed.validTo,
    };
  }

  /**
   * Marks the registration revoked and tells every running service process (the change feed), which drops it from
   * its cache at once; this process drops it whatever happens. The revoking transaction sends the announcement, so
   * it goes out at the commit even if this process dies right after. Returns false when there is no such
   * (unrevoked) registration; the announcement goes out either way, so that running it again repeats it.
   */
  async revoke(idOrFingerprint: string): Promise<boolean> {
    const change = { kind: 'clientCertificate', idOrFingerprint } as const;
    const where = /^[0-9a-f]{64}$/.test(idOrFingerprint)
      ? { fingerprint: idOrFingerprint }
      : { id: idOrFingerprint };
    try {
      const { count } = await writeAnnounced(this.prisma, change, (tx) =>
        tx.clientCertificate.updateMany({
          where: { ...where, revokedAt: null },
          data: { revokedAt: this.clock.now() },
        }),
      );
      return count > 0;
    } finally {
      this.cache.forget(change);
    }
  }

  /** The registration of the certificate with this fingerprint, or null (unknown or revoked). */
  lookup(fingerprint: string): Promise<ClientCertificateRecord | null> {
    return this.cache.get(fingerprint, () => this.load(fingerprint));
  }

  private async load(fingerprint: string): Promise<ClientCertificateRecord | null> {
    const row = await this.prisma.clientCertificate.findUnique({
      where: { fingerprint },
      include: { partition: { select: { name: true } } },
    });
    if (!row || row.revokedAt !== null) return null;
    return {
      id: row.id,
      partitionId: row.partitionId,
      partitionName: row.partition.name,
      fingerprint: row.fingerprint,
      subject: row.subject,
      roles: new Set(row.roles.filter(isRole)),
    };
  }

  /** Looks up a peer certificate's DER encoding. */
  lookupDer(der: Uint8Array): Promise<ClientCertificateRecord | null> {
    return this.lookup(certificateFingerprint(der));
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** Stops hearing the change feed. */
  close(): void {
    this.cache.close();
  }
}
