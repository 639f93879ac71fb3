/**
 * Partition backup and restore. A backup is one JSON document holding the partition row, all its keys
 * (active and in the trash bin) and its security officers as stored: sealed material stays sealed. One column
 * is not written as stored: a key's password verifier (scrypt) is sealed under the partition key
 * (`passwordHashSealed`), so whoever holds the file (a security officer) cannot test key passwords offline.
 * An HMAC-SHA256 under a key derived from the master key (HKDF) protects it, so a restore checks integrity and
 * "made under this master key" before it writes anything. Format: docs/security-officers.md.
 */
import { createHmac, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.js';
import { keyColumnBinding, UnsealError, unseal } from '../crypto/seal.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import { TsbError } from '../errors.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { canonicalJsonPieces } from '../lib/canonical-json.js';
import { PARTITION_NAME_PATTERN } from '../lib/partition-name.js';
import { CERTIFICATE_AUTHORITY_NAME } from './certificates.js';
import { type BackupStream, streamPartitionBackup } from './partition-backup-export.js';
import {
  BACKUP_FORMAT,
  backupMacKey,
  COLUMNS,
  type Columns,
  openPartitionKey,
  PASSWORD_HASH,
  PASSWORD_HASH_SEALED,
  type PartitionBackupDocument,
  READABLE_VERSIONS,
  type Row,
} from './partition-backup-format.js';

export { BACKUP_FORMAT, BACKUP_VERSION, type PartitionBackupDocument } from './partition-backup-format.js';

/**
 * Backup exports one process runs at once, and at most one per partition: each holds a database connection (and
 * its snapshot) for as long as its reader takes, and the pool's connections serve every partition's requests.
 */
export const BACKUP_EXPORTS_AT_ONCE = 2;

export interface RestoredPartition {
  id: string;
  name: string;
  keys: number;
  invalidatedKeys: number;
  officers: number;
  /** false when the attestation and timestamp certificates were dropped (re-issued on first use) */
  certificatesKept: boolean;
}

export class PartitionBackups {
  private readonly macKey: Buffer;
  /** the partitions whose export runs in this process */
  private readonly exporting = new Set<string>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly masterKey: Buffer,
    private readonly clock: Clock,
  ) {
    this.macKey = backupMacKey(masterKey);
  }

  /**
   * The backup of a partition as a stream of its JSON document, read in one snapshot (repeatable read) so
   * keys, officers and partition agree (partition-backup-export.ts). Refused (503) while this partition's
   * export, or BACKUP_EXPORTS_AT_ONCE exports, run in this process.
   */
  async stream(partitionId: string): Promise<BackupStream> {
    if (this.exporting.has(partitionId))
      throw new TsbError('SERVICE_UNAVAILABLE', 'a backup of this partition is being exported already');
    if (this.exporting.size >= BACKUP_EXPORTS_AT_ONCE)
      throw new TsbError('SERVICE_UNAVAILABLE', 'other backups are being exported: try again later');
    this.exporting.add(partitionId);
    const { prisma, masterKey, macKey, clock } = this;
    try {
      const exported = await streamPartitionBackup({ prisma, masterKey, macKey, clock }, partitionId);
      const done = () => this.exporting.delete(partitionId);
      exported.written.then(done, done);
      return exported;
    } catch (error) {
      this.exporting.delete(partitionId);
      throw error;
    }
  }

  /**
   * Writes a backup into this service, in one transaction. Refused before anything is written when the MAC
   * does not verify under this master key, or when the partition id or the name is taken.
   */
  async restore(document: unknown, options: { name?: string } = {}): Promise<RestoredPartition> {
    const backup = this.verified(document);
    const partition = decodeRow(backup.partition, COLUMNS.partition);
    const id = String(partition['id']);
    const originalName = String(partition['name']);
    const name = options.name ?? originalName;
    if (!PARTITION_NAME_PATTERN.test(name)) {
      throw new TsbError('INPUT_VALIDATION_FAILED', `"${name}" is not a valid partition name`);
    }
    const partitionKey = openPartitionKey(this.masterKey, id, partition['partitionKeySealed'] as Uint8Array);
    let keys: Row[];
    try {
      keys = backup.keys.map((row) =>
        retireStatefulState(openPasswordHash(decodeRow(row, COLUMNS.key), backup.version, id, partitionKey)),
      );
    } finally {
      partitionKey.fill(0);
    }
    const officers = backup.officers.map((row) => decodeRow(row, COLUMNS.officer));
    if ([...keys, ...officers].some((row) => row['partitionId'] !== id)) {
      throw new TsbError('INPUT_VALIDATION_FAILED', 'the backup holds rows of another partition');
    }
    const certificatesKept =
      name === originalName &&
      (await this.issuedByThisService([
        partition['attestationCertificate'],
        partition['timestampCertificate'],
      ]));
    if (!certificatesKept) {
      partition['attestationCertificate'] = null;
      partition['timestampCertificate'] = null;
    }
    await this.prisma
      .$transaction(async (tx) => {
        const taken = await tx.partition.findFirst({ where: { OR: [{ id }, { name }] } });
        if (taken?.id === id) {
          throw new TsbError(
            'PROPOSAL_CONFLICT',
            `partition ${id} exists already (as "${taken.name}"): a backup restores a partition that is gone`,
          );
        }
        if (taken) throw new TsbError('PROPOSAL_CONFLICT', `a partition named "${name}" exists already`);
        await tx.partition.create({ data: { ...partition, name } as Prisma.PartitionUncheckedCreateInput });
        await tx.key.createMany({ data: keys.map(keyInput) });
        await tx.securityOfficer.createMany({ data: officers as Prisma.SecurityOfficerCreateManyInput[] });
      })
      .catch((error: unknown) => {
        // a restore of the same partition (or name) that committed while this one ran
        if (isUniqueViolation(error)) {
          throw new TsbError(
            'PROPOSAL_CONFLICT',
            `partition ${id} or a partition named "${name}" was restored meanwhile`,
          );
        }
        throw error;
      });
    return {
      id,
      name,
      keys: keys.length,
      invalidatedKeys: keys.filter((key) => key['status'] !== 'active').length,
      officers: officers.length,
      certificatesKept,
    };
  }

  /** Parses and checks a backup document: its shape, then its MAC (constant-time compare). */
  private verified(document: unknown): PartitionBackupDocument {
    if (!isRecord(document) || document['format'] !== BACKUP_FORMAT) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        `not an OpenTSB partition backup (format "${BACKUP_FORMAT}")`,
      );
    }
    const version = document['version'];
    if (typeof version !== 'number' || !READABLE_VERSIONS.includes(version)) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        `backup version ${String(version)} is not supported (this service reads versions ${READABLE_VERSIONS.join(', ')})`,
      );
    }
    const { mac, ...body } = document;
    const given = typeof mac === 'string' ? Buffer.from(mac, 'base64') : Buffer.alloc(0);
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the backup does not verify: it was made under a different master key, or changed since',
      );
    }
    const { partition, keys, officers } = body;
    if (!isRecord(partition) || !Array.isArray(keys) || !Array.isArray(officers)) {
      throw new TsbError('INPUT_VALIDATION_FAILED', 'the backup lacks its partition, keys or officers');
    }
    return document as unknown as PartitionBackupDocument;
  }

  /** HMAC-SHA256 over canonicalJson(body), fed a row at a time rather than as one text of the whole body. */
  private mac(body: Record<string, unknown>): Buffer {
    const mac = createHmac('sha256', this.macKey);
    for (const piece of canonicalJsonPieces(body)) mac.update(piece, 'utf8');
    return mac.digest();
  }

  /** True when this service's device certificate issued every given certificate (null ones are fine). */
  private async issuedByThisService(certificates: unknown[]): Promise<boolean> {
    const authority = await this.prisma.certificateAuthority.findUnique({
      where: { name: CERTIFICATE_AUTHORITY_NAME },
    });
    if (!authority) return certificates.every((certificate) => certificate === null);
    const device = new X509Certificate(Buffer.from(authority.deviceCertificate));
    return certificates.every((certificate) => {
      if (certificate === null) return true;
      try {
        return new X509Certificate(Buffer.from(certificate as Uint8Array)).verify(device.publicKey);
      } catch {
        return false;
      }
    });
  }
}

function decodeRow(row: unknown, columns: Columns): Row {
  if (!isRecord(row)) throw new TsbError('INPUT_VALIDATION_FAILED', 'the backup holds a malformed row');
  const decoded: Row = {};
  for (const [name, value] of Object.entries(row)) {
    if (value === null) decoded[name] = null;
    else if (columns.bytes.includes(name))
      decoded[name] = new Uint8Array(Buffer.from(String(value), 'base64'));
    else if (columns.dates.includes(name)) decoded[name] = new Date(String(value));
    else if (columns.bigints.includes(name)) decoded[name] = BigInt(String(value));
    else decoded[name] = value;
  }
  return decoded;
}

/**
 * A key row of a backup as stored: version 2 carries the password verifier sealed (opened here, under the
 * partition key and the binding of this partition, key id and column); version 1 carried it in clear. Each
 * version is refused the other's column, so a row holds the verifier in one form only.
 */
function openPasswordHash(row: Row, version: number, partitionId: string, partitionKey: Buffer): Row {
  if (version === 1) {
    if (PASSWORD_HASH_SEALED in row) {
      throw new TsbError('INPUT_VALIDATION_FAILED', `a version 1 backup has no ${PASSWORD_HASH_SEALED}`);
    }
    return row;
  }
  const { [PASSWORD_HASH_SEALED]: sealed, ...rest } = row;
  if (PASSWORD_HASH in rest || sealed === undefined) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `a version ${version} backup carries each key's ${PASSWORD_HASH_SEALED} and no ${PASSWORD_HASH} in clear`,
    );
  }
  if (sealed === null) return { ...rest, [PASSWORD_HASH]: null };
  try {
    const opened = unseal(
      partitionKey,
      sealed as Uint8Array,
      keyColumnBinding(partitionId, String(rest['id']), PASSWORD_HASH),
    );
    return { ...rest, [PASSWORD_HASH]: opened.toString('utf8') };
  } catch (error) {
    if (error instanceof UnsealError) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        `the sealed password verifier of key "${String(rest['label'])}" does not open for this key`,
      );
    }
    throw error;
  }
}

/**
 * A stateful hash-based key comes back with all its one-time indices spent: it verifies, but never signs
 * again. The backup cannot know how many indices the key used after it was taken (nor whether the same
 * backup was restored elsewhere), and any lower index could repeat one (docs/stateful-signatures.md).
 */
function retireStatefulState(row: Row): Row {
  if (row['statefulLimit'] !== null && row['statefulLimit'] !== undefined)
    row['statefulNext'] = row['statefulLimit'];
  return row;
}

/** A key row for createMany: JSON columns that are SQL NULL must say so. */
function keyInput(row: Row): Prisma.KeyCreateManyInput {
  return {
    ...row,
    attributes: row['attributes'] as Prisma.InputJsonValue,
    policy: row['policy'] === null ? Prisma.DbNull : (row['policy'] as Prisma.InputJsonValue),
  } as Prisma.KeyCreateManyInput;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
