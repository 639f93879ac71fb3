/** The rows that tell which master key a database belongs to: the stored check value and the partition keys. */
import type { Partition, PrismaClient } from '../generated/prisma/client.js';
import { toBytes } from '../lib/encoding.js';

/** The one row of MasterKeyCheck. */
const CHECK_NAME = 'master-key';

export class MasterKeyCheckRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async findCheck(): Promise<Uint8Array | null> {
    const row = await this.prisma.masterKeyCheck.findUnique({ where: { name: CHECK_NAME } });
    return row?.sealed ?? null;
  }

  /** Stores the check value unless one is stored already (the first writer wins when processes race). */
  async storeCheckIfNone(sealed: Buffer): Promise<void> {
    await this.prisma.masterKeyCheck.createMany({
      data: [{ name: CHECK_NAME, sealed: toBytes(sealed) }],
      skipDuplicates: true,
    });
  }

  /** The sealed partition key of one partition, or null while the database holds none. */
  anySealedPartitionKey(): Promise<Pick<Partition, 'id' | 'partitionKeySealed'> | null> {
    return this.prisma.partition.findFirst({
      select: { id: true, partitionKeySealed: true },
      orderBy: { id: 'asc' },
    });
  }

  /** Whether anything in the database was sealed under a master key already (a check value or a partition). */
  async inUse(): Promise<boolean> {
    const [check, partition] = await Promise.all([
      this.prisma.masterKeyCheck.count(),
      this.prisma.partition.count({ take: 1 }),
    ]);
    return check > 0 || partition > 0;
  }
}
