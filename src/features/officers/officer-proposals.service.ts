/**
 * Four-eyes changes of a partition (reference §6.1): one registered security officer proposes by signing a
 * statement, another approves (signing "APPROVE:" ‖ statement) or rejects (signing "REJECT:" ‖ statement)
 * before the proposal expires. Every check happens before anything is stored; status changes are
 * compare-and-set (PENDING → EXECUTED | REJECTED | FAILED | EXPIRED), so a proposal runs at most once.
 */
import { createHash } from 'node:crypto';
import { encodePrincipals, sharesPrincipal } from '../../auth/caller.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { TsbError } from '../../errors.js';
import type { OfficerProposal, Partition, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { toBytes, UUID_PATTERN } from '../../lib/encoding.js';
import { verifyApproverSignature } from '../../ska/approval-signature.js';
import { type ApproverKeyInfo, decodeBase64Strict, parseApproverPublicKey } from '../../ska/approver-key.js';
import type { FreshnessWindow } from '../../ska/timestamp-proof.js';
import type { OfficerRegistry } from './officer-registry.js';
import { checkAction, executeAction } from './proposal-actions.js';
import {
  approvalToBeSigned,
  type ProposalAction,
  type ProposalParameters,
  parseStatement,
  rejectionToBeSigned,
} from './proposal-statement.js';

export interface OfficerSignatureInput {
  /** base64 SubjectPublicKeyInfo DER of the signing officer's key */
  officerPublicKey: string;
  /** base64 signature */
  signature: string;
  /** SHA-256 (default), SHA-384, …, or EdDSA / ML-DSA: as for SKA approvers */
  digestAlgorithm?: string | null;
}

export interface ProposalInput extends OfficerSignatureInput {
  /** base64 of the statement bytes */
  statement: string;
}

export interface DecisionInput extends OfficerSignatureInput {
  id: string;
  reason?: string | null;
}

export type ProposalStatus = 'PENDING' | 'EXECUTED' | 'REJECTED' | 'EXPIRED' | 'FAILED';

export interface ProposalView {
  id: string;
  action: string;
  parameters: unknown;
  status: ProposalStatus;
  statement: string;
  approvalToBeSigned: string;
  rejectionToBeSigned: string;
  proposedBy: string;
  proposedByFingerprint: string;
  decidedBy: string | null;
  decidedByFingerprint: string | null;
  reason: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
}

export interface OfficerProposalsOptions {
  proposalLifetimeSeconds: number;
  statementWindow: FreshnessWindow;
}

const MAX_REASON_LENGTH = 1024;

export class OfficerProposals {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly hsm: SoftHsm,
    private readonly registry: OfficerRegistry,
    private readonly options: OfficerProposalsOptions,
  ) {}

  /** The partition's proposals, newest first. */
  async list(partition: Partition): Promise<ProposalView[]> {
    const proposals = await this.prisma.officerProposal.findMany({
      where: { partitionId: partition.id },
      orderBy: { createdAt: 'desc' },
      take: 500,
    });
    const names = await this.officerNames(partition.id);
    return proposals.map((proposal) => this.view(proposal, names));
  }

  async propose(
    partition: Partition,
    principals: readonly string[],
    input: ProposalInput,
  ): Promise<ProposalView> {
    const statementBytes = decodeBase64Strict(input.statement);
    if (!statementBytes) throw new TsbError('INPUT_VALIDATION_FAILED', 'statement is not standard base64');
    const statement = parseStatement(statementBytes);
    if (statement.partition !== partition.name) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        `the statement names partition "${statement.partition}", but the caller acts for "${partition.name}"`,
      );
    }
    const now = this.hsm.clock.now();
    this.assertFresh(statement.proposedAt, now);
    const officer = await this.officer(partition, input);
    this.verify(officer, statementBytes, input, 'proposal');
    const parameters = await checkAction(this.hsm, partition, statement.action, statement.parameters);
    try {
      const created = await this.prisma.officerProposal.create({
        data: {
          id: proposalId(partition.id, statement.nonce),
          partitionId: partition.id,
          action: statement.action,
          parameters: parameters as Prisma.InputJsonValue,
          statement: toBytes(statementBytes),
          status: 'PENDING',
          proposedBy: officer.fingerprint,
          proposerPrincipal: encodePrincipals(principals),
          proposerSignature: toBytes(signatureOf(input)),
          createdAt: now,
          expiresAt: new Date(now.getTime() + this.options.proposalLifetimeSeconds * 1000),
        },
      });
      return this.view(created, await this.officerNames(partition.id));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new TsbError('PROPOSAL_CONFLICT', `nonce "${statement.nonce}" was used by an earlier proposal`);
      }
      throw error;
    }
  }

  /** Approves and runs a proposal; an action that fails leaves the proposal FAILED with the error. */
  async approve(
    partition: Partition,
    principals: readonly string[],
    input: DecisionInput,
  ): Promise<ProposalView> {
    const { proposal, officer } = await this.decisionContext(partition, principals, input, 'approval');
    this.verify(officer, approvalToBeSigned(proposal.statement), input, 'approval');
    const decision = {
      decidedBy: officer.fingerprint,
      deciderPrincipal: encodePrincipals(principals),
      deciderSignature: toBytes(signatureOf(input)),
      decidedAt: this.hsm.clock.now(),
    };
    let afterCommit: () => Promise<void>;
    try {
      afterCommit = await this.prisma.$transaction(async (tx) => {
        await this.officersStillActive(tx, partition.id, proposal, officer);
        const claimed = await tx.officerProposal.updateMany({
          where: { id: proposal.id, status: 'PENDING', expiresAt: { gt: decision.decidedAt } },
          data: { status: 'EXECUTED', ...decision },
        });
        if (claimed.count !== 1) throw notOpen(proposal.id);
        return executeAction(
          this.hsm,
          tx,
          partition.id,
          proposal.action as ProposalAction,
          proposal.parameters as ProposalParameters,
        );
      });
    } catch (error) {
      if (
        error instanceof TsbError &&
        error.kind !== 'PROPOSAL_CONFLICT' &&
        !(error instanceof OfficerRevoked)
      ) {
        await this.prisma.officerProposal.updateMany({
          where: { id: proposal.id, status: 'PENDING' },
          data: { status: 'FAILED', ...decision, errorCode: error.errorCode, errorMessage: error.message },
        });
      }
      throw error;
    }
    await afterCommit();
    return this.reread(partition, proposal.id);
  }

  async reject(
    partition: Partition,
    principals: readonly string[],
    input: DecisionInput,
  ): Promise<ProposalView> {
    const reason = input.reason ?? null;
    if (reason !== null && reason.length > MAX_REASON_LENGTH) {
      throw new TsbError('INPUT_VALIDATION_FAILED', `reason is longer than ${MAX_REASON_LENGTH} characters`);
    }
    const { proposal, officer } = await this.decisionContext(partition, principals, input, 'rejection');
    this.verify(officer, rejectionToBeSigned(proposal.statement), input, 'rejection');
    const { count } = await this.prisma.$transaction(async (tx) => {
      await this.officersStillActive(tx, partition.id, proposal, officer);
      return tx.officerProposal.updateMany({
        where: { id: proposal.id, status: 'PENDING', expiresAt: { gt: this.hsm.clock.now() } },
        data: {
          status: 'REJECTED',
          decidedBy: officer.fingerprint,
          deciderPrincipal: encodePrincipals(principals),
          deciderSignature: toBytes(signatureOf(input)),
          decidedAt: this.hsm.clock.now(),
          reason,
        },
      });
    });
    if (count !== 1) throw notOpen(proposal.id);
    return this.reread(partition, proposal.id);
  }

  /**
   * The open proposal and the deciding officer: a registered, active officer other than the proposer, on a
   * credential other than the proposer's, while the proposer is still an active officer.
   */
  private async decisionContext(
    partition: Partition,
    principals: readonly string[],
    input: DecisionInput,
    what: 'approval' | 'rejection',
  ): Promise<{ proposal: OfficerProposal; officer: ApproverKeyInfo }> {
    if (!UUID_PATTERN.test(input.id)) throw new TsbError('INVALID_UUID', `id "${input.id}" is not a UUID`);
    const proposal = await this.prisma.officerProposal.findFirst({
      where: { id: input.id.toLowerCase(), partitionId: partition.id },
    });
    if (!proposal) throw new TsbError('NOT_FOUND', `proposal ${input.id} does not exist`);
    if (proposal.status !== 'PENDING') throw notOpen(proposal.id, proposal.status);
    const now = this.hsm.clock.now();
    if (proposal.expiresAt.getTime() <= now.getTime()) {
      await this.prisma.officerProposal.updateMany({
        where: { id: proposal.id, status: 'PENDING' },
        data: { status: 'EXPIRED' },
      });
      throw new TsbError(
        'PROPOSAL_CONFLICT',
        `proposal ${proposal.id} expired at ${proposal.expiresAt.toISOString()} and takes no ${what}s`,
      );
    }
    const officer = await this.officer(partition, input);
    if (officer.fingerprint === proposal.proposedBy) {
      throw new TsbError('SECURITY_NOT_ALLOWED', `the proposing officer cannot decide on their own proposal`);
    }
    if (sharesPrincipal(proposal.proposerPrincipal, principals)) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the credential that submitted the proposal cannot decide on it: the second officer signs in on their own',
      );
    }
    await this.registry.requireActive(partition.id, proposal.proposedBy).catch((error: unknown) => {
      throw error instanceof TsbError
        ? new TsbError('APPROVER_NOT_EXISTENT', `the proposing officer is no longer active: ${error.message}`)
        : error;
    });
    return { proposal, officer };
  }

  /**
   * Both officers of a decision, checked again in the transaction that records it (`decisionContext` checked them
   * before the signature): a revocation that committed meanwhile refuses the decision, one that comes later waits
   * for it. The proposal stays PENDING, as when `decisionContext` refuses.
   */
  private async officersStillActive(
    tx: Prisma.TransactionClient,
    partitionId: string,
    proposal: OfficerProposal,
    decider: ApproverKeyInfo,
  ): Promise<void> {
    for (const [fingerprint, prefix] of [
      [proposal.proposedBy, 'the proposing officer is no longer active: '],
      [decider.fingerprint, ''],
    ] as const) {
      try {
        await this.registry.lockActive(tx, partitionId, fingerprint);
      } catch (error) {
        throw error instanceof TsbError ? new OfficerRevoked(`${prefix}${error.message}`) : error;
      }
    }
  }

  /** The signing officer's key, which must be a registered, active officer of the partition. */
  private async officer(partition: Partition, input: OfficerSignatureInput): Promise<ApproverKeyInfo> {
    const der = decodeBase64Strict(input.officerPublicKey);
    if (!der) throw new TsbError('KEY_INVALID_ENCODING', 'officerPublicKey is not standard base64');
    const key = parseApproverPublicKey(der, 'officerPublicKey');
    await this.registry.requireActive(partition.id, key.fingerprint);
    return key;
  }

  private verify(
    officer: ApproverKeyInfo,
    data: Uint8Array,
    input: OfficerSignatureInput,
    what: string,
  ): void {
    const digest = input.digestAlgorithm ?? (officer.keyType === 'ED' ? 'EdDSA' : 'SHA-256');
    if (!verifyApproverSignature(officer, data, signatureOf(input), digest)) {
      throw new TsbError('INVALID_SIGNATURE', `the ${what} signature does not verify with the officer key`);
    }
  }

  private assertFresh(proposedAt: Date, now: Date): void {
    const { pastSeconds, futureSeconds } = this.options.statementWindow;
    const offset = (proposedAt.getTime() - now.getTime()) / 1000;
    if (offset < -pastSeconds || offset > futureSeconds) {
      throw new TsbError(
        'TIMESTAMP_OFF',
        `proposedAt ${proposedAt.toISOString()} is not within ${pastSeconds} s before and ${futureSeconds} s after the service time ${now.toISOString()}`,
      );
    }
  }

  private async reread(partition: Partition, id: string): Promise<ProposalView> {
    const proposal = await this.prisma.officerProposal.findUniqueOrThrow({ where: { id } });
    return this.view(proposal, await this.officerNames(partition.id));
  }

  private async officerNames(partitionId: string): Promise<Map<string, string>> {
    const officers = await this.prisma.securityOfficer.findMany({
      where: { partitionId },
      select: { fingerprint: true, name: true },
    });
    return new Map(officers.map((officer) => [officer.fingerprint, officer.name]));
  }

  private view(proposal: OfficerProposal, names: Map<string, string>): ProposalView {
    const expired =
      proposal.status === 'PENDING' && proposal.expiresAt.getTime() <= this.hsm.clock.now().getTime();
    return {
      id: proposal.id,
      action: proposal.action,
      parameters: proposal.parameters,
      status: expired ? 'EXPIRED' : (proposal.status as ProposalStatus),
      statement: Buffer.from(proposal.statement).toString('base64'),
      approvalToBeSigned: approvalToBeSigned(proposal.statement).toString('base64'),
      rejectionToBeSigned: rejectionToBeSigned(proposal.statement).toString('base64'),
      proposedBy: names.get(proposal.proposedBy) ?? proposal.proposedBy,
      proposedByFingerprint: proposal.proposedBy,
      decidedBy: proposal.decidedBy ? (names.get(proposal.decidedBy) ?? proposal.decidedBy) : null,
      decidedByFingerprint: proposal.decidedBy,
      reason: proposal.reason,
      errorCode: proposal.errorCode,
      errorMessage: proposal.errorMessage,
      createdAt: proposal.createdAt.toISOString(),
      expiresAt: proposal.expiresAt.toISOString(),
      decidedAt: proposal.decidedAt?.toISOString() ?? null,
    };
  }
}

/**
 * The proposal id: a UUID made from the partition and the statement's nonce, so the primary key refuses a
 * second proposal with the same nonce (a replayed statement) in the same partition.
 */
export function proposalId(partitionId: string, nonce: string): string {
  const hash = createHash('sha256').update(`opentsb:officer-proposal:${partitionId}:${nonce}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80; // version 8 (custom)
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function signatureOf(input: { signature: string }): Buffer {
  const signature = decodeBase64Strict(input.signature);
  if (!signature) throw new TsbError('INPUT_VALIDATION_FAILED', 'signature is not standard base64');
  return signature;
}

/** An officer of a decision was revoked while it was checked: 403 / 413, and the proposal stays PENDING. */
class OfficerRevoked extends TsbError {
  constructor(message: string) {
    super('APPROVER_NOT_EXISTENT', message);
  }
}

const notOpen = (id: string, status = 'no longer PENDING'): TsbError =>
  new TsbError('PROPOSAL_CONFLICT', `proposal ${id} is ${status} and takes no decisions`);
