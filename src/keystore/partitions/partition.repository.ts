/**
 * The partition rows: the only file of `hsm/partitions/` that talks to Prisma. It stores what it is given
 * (keys already sealed) and knows no rules; announcing a change is the PartitionStore's business.
 */
import type { Partition, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { toBytes } from '../../lib/encoding.js';
import type { PartitionFlags } from './partition-flags.js';

/** A new partition row; every secret is sealed already (the partition key under the master key). */
export interface NewPartitionRow extends PartitionFlags {
  id: string;
  name: string;
  partitionKeySealed: Buffer;
  attestationKeySealed: Buffer;
  attestationPublicKey: Buffer;
  timestampKeySealed: Buffer;
  timestampPublicKey: Buffer;
}

export class PartitionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(row: NewPartitionRow): Promise<Partition> {
    return this.prisma.partition.create({
      data: {
        ...row,
        partitionKeySealed: toBytes(row.partitionKeySealed),
        attestationKeySealed: toBytes(row.attestationKeySealed),
        attestationPublicKey: toBytes(row.attestationPublicKey),
        timestampKeySealed: toBytes(row.timestampKeySealed),
        timestampPublicKey: toBytes(row.timestampPublicKey),
      },
    });
  }

  findByName(name: string): Promise<Partition | null> {
    return this.prisma.partition.findUnique({ where: { name } });
  }

  /** The stored row (inside the caller's transaction when `tx` is given). */
  findById(id: string, tx: Prisma.TransactionClient = this.prisma): Promise<Partition | null> {
    return tx.partition.findUnique({ where: { id } });
  }

  /** The sealed partition key of every partition, by name. */
  sealedPartitionKeys(): Promise<Array<Pick<Partition, 'id' | 'name' | 'partitionKeySealed'>>> {
    return this.prisma.partition.findMany({
      select: { id: true, name: true, partitionKeySealed: true },
      orderBy: { name: 'asc' },
    });
  }

  /** Changes the flags (inside the caller's transaction when `tx` is given). */
  async updateFlags(
    id: string,
    flags: Partial<PartitionFlags>,
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<Partition> {
    return tx.partition.update({ where: { id }, data: flags });
  }

  async updateWebhookUrl(id: string, url: string | null): Promise<void> {
    await this.prisma.partition.update({ where: { id }, data: { webhookUrl: url } });
  }

  async updateApproverKeyAuthentication(id: string, enabled: boolean): Promise<void> {
    await this.prisma.partition.update({ where: { id }, data: { approverKeyAuthentication: enabled } });
  }

  /** Stores a timestamp key unless the partition has one already (the first writer wins). */
  async storeTimestampKeyIfNone(id: string, sealed: Buffer, publicKey: Buffer): Promise<void> {
    await this.prisma.partition.updateMany({
      where: { id, timestampKeySealed: null },
      data: { timestampKeySealed: toBytes(sealed), timestampPublicKey: toBytes(publicKey) },
    });
  }

  /** Stores the attestation certificate unless one is stored already (the first writer wins). */
  async storeAttestationCertificateIfNone(id: string, certificate: Buffer): Promise<void> {
    await this.prisma.partition.updateMany({
      where: { id, attestationCertificate: null },
      data: { attestationCertificate: toBytes(certificate) },
    });
  }

  /** Stores the timestamp certificate unless one is stored already (the first writer wins). */
  async storeTimestampCertificateIfNone(id: string, certificate: Buffer): Promise<void> {
    await this.prisma.partition.updateMany({
      where: { id, timestampCertificate: null },
      data: { timestampCertificate: toBytes(certificate) },
    });
  }
}
