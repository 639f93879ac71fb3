/**
 * The security officers of each partition: public keys the operator registers (`tsb officer add`).
 * A revoked officer stays listed (its name and key stay taken) but can neither propose nor decide.
 */
import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { TsbError } from '../../errors.js';
import type { Prisma, PrismaClient, SecurityOfficer } from '../../generated/prisma/client.js';
import { toBytes } from '../../lib/encoding.js';
import type { ApproverKeyInfo } from '../../ska/approver-key.js';

export const OFFICER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class OfficerRegistry {
  constructor(private readonly prisma: PrismaClient) {}

  async add(partitionId: string, name: string, key: ApproverKeyInfo): Promise<SecurityOfficer> {
    if (!OFFICER_NAME_PATTERN.test(name)) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        'an officer name is 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
      );
    }
    try {
      return await this.prisma.securityOfficer.create({
        data: {
          id: randomUUID(),
          partitionId,
          name,
          fingerprint: key.fingerprint,
          publicKey: toBytes(key.spki),
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        const taken = await this.prisma.securityOfficer.findFirst({
          where: { partitionId, OR: [{ name }, { fingerprint: key.fingerprint }] },
        });
        throw new TsbError(
          'PROPOSAL_CONFLICT',
          taken?.name === name
            ? `an officer named "${name}" is registered already${taken.revokedAt ? ' (revoked)' : ''}`
            : `this key is registered already, as officer "${taken?.name ?? '?'}"`,
        );
      }
      throw error;
    }
  }

  list(partitionId?: string): Promise<(SecurityOfficer & { partition: { name: string } })[]> {
    return this.prisma.securityOfficer.findMany({
      where: partitionId ? { partitionId } : {},
      include: { partition: { select: { name: true } } },
      orderBy: [{ partitionId: 'asc' }, { name: 'asc' }],
    });
  }

  /** Revokes an active officer; false when there is no active officer of that name. */
  async revoke(partitionId: string, name: string, at: Date): Promise<boolean> {
    const { count } = await this.prisma.securityOfficer.updateMany({
      where: { partitionId, name, revokedAt: null },
      data: { revokedAt: at },
    });
    return count === 1;
  }

  /**
   * `requireActive` inside `tx`, holding the officer's row (FOR SHARE) until `tx` ends: a revocation committed
   * before is seen, one that comes later waits for `tx`'s commit.
   */
  async lockActive(tx: Prisma.TransactionClient, partitionId: string, fingerprint: string): Promise<void> {
    const [officer] = await tx.$queryRaw<{ name: string; revokedAt: Date | null }[]>`
      SELECT "name", "revokedAt" FROM "SecurityOfficer"
      WHERE "partitionId" = ${partitionId}::uuid AND "fingerprint" = ${fingerprint}
      FOR SHARE`;
    assertActive(officer);
  }

  /** The active officer with this key fingerprint; refused (413) for an unknown or revoked key. */
  async requireActive(partitionId: string, fingerprint: string): Promise<SecurityOfficer> {
    const officer = await this.prisma.securityOfficer.findUnique({
      where: { partitionId_fingerprint: { partitionId, fingerprint } },
    });
    assertActive(officer);
    return officer;
  }
}

/** Refuses (413) an officer row that is missing or revoked. */
function assertActive<T extends { name: string; revokedAt: Date | null }>(
  officer: T | null | undefined,
): asserts officer is T {
  if (!officer) {
    throw new TsbError(
      'APPROVER_NOT_EXISTENT',
      'this key is not a registered security officer of the partition',
    );
  }
  if (officer.revokedAt) {
    throw new TsbError(
      'APPROVER_NOT_EXISTENT',
      `security officer "${officer.name}" was revoked on ${officer.revokedAt.toISOString()}`,
    );
  }
}
