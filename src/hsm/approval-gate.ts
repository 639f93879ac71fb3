/**
 * The HSM's own check of SKA approvals, right before an operation governed by a non-empty rule runs.
 * It trusts neither the workflow nor the client: it re-verifies the partition's signature on the
 * challenge, that the challenge names this operation, key, payload, operation parameters and rule, every
 * approver's signature over the challenge, and then evaluates the key's current rule at the HSM's own
 * clock. Pre-signed approvals it accepts come back as an {@link ApprovalSpend}: the caller spends them
 * ({@link ApprovalGate.spend}) with the operation, so each authorizes one execution only.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { Clock } from '../clock.js';
import { VerifiedSignatures } from '../crypto/signatures/verified-signatures.js';
import { TsbError } from '../errors.js';
import type { Key, Partition } from '../generated/prisma/client.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';
import { verifyApproverSignature } from '../ska/approval-signature.js';
import { parseApproverPublicKey } from '../ska/approver-key.js';
import { type DecodedChallenge, ruleDigest, type SkaOperation } from '../ska/challenge.js';
import { decodeChallenge } from '../ska/challenge-decoder.js';
import { type ApproverDecision, approverEntries, evaluateRule } from '../ska/evaluator.js';
import {
  isEmptyRule,
  type NormalizedCertificateInfo,
  type NormalizedPolicy,
  type NormalizedRule,
  type RuleName,
} from '../ska/policy-normalized.js';
import { decodeSignedApproval, type PresentedApproval } from '../ska/signed-approval.js';
import { certificateValidAt, checkTimestampFreshness, type FreshnessWindow } from '../ska/timestamp-proof.js';
import type { ApprovalLedger, ApprovalSpend, LedgerTransaction } from './approval-ledger.js';

export type { ApprovalSpend } from './approval-ledger.js';

/** An approver's recorded decision on a workflow request, as stored with the request. */
export interface RecordedDecision {
  fingerprint: string;
  decision: 'approve' | 'reject';
  decidedAt: Date;
  approverPublicKey: Buffer;
  signature: Buffer | null;
  digestAlgorithm: string | null;
}

/** What a caller presents to run an operation whose rule needs approvals. */
export type Authorization =
  /** pre-signed approvals sent with a synchronous request (`signedApprovals`) */
  | { kind: 'signedApprovals'; entries: readonly string[] }
  /** a workflow request: its challenge and the decisions collected for it */
  | { kind: 'workflow'; requestId: string; challenge: Buffer; decisions: readonly RecordedDecision[] };

/** The operation asking for approval: which rule governs it and what the approvers must have seen. */
export interface GatedOperation {
  ruleName: RuleName;
  /** the rules to satisfy when they are not the key's `ruleName` (a policy change under an empty ruleModify) */
  governedBy?: { ruleNames: readonly RuleName[]; rule: NormalizedRule | null };
  operation: SkaOperation;
  /** the key name as requested, with a derivation path suffix if one was given */
  keyName: string;
  payloadDigest: Buffer;
  /** `parametersDigest(operation, request)` of the request as it will run (src/ska/operation-parameters.ts) */
  parametersDigest: Buffer;
}

/** The operation together with the stored key it acts on. */
type Subject = GatedOperation & { key: Key };

const RULE_DESCRIPTION: Record<RuleName, string> = {
  ruleUse: 'use',
  ruleBlock: 'blocking',
  ruleUnblock: 'unblocking',
  ruleModify: 'modifying the policy of',
};

/** The rule of a key's SKA policy, or null when the key has no policy. */
export function ruleOf(key: Pick<Key, 'policy'>, ruleName: RuleName): NormalizedRule | null {
  if (key.policy === null) return null;
  return (key.policy as unknown as NormalizedPolicy)[ruleName] ?? null;
}

/** How the partition's timestamp key signs a challenge's timestamp block (ECDSA P-256, SHA-256, DER). */
const TIMESTAMP_SCHEME = 'ECDSA-SHA256-DER';

export class ApprovalGate {
  /** the partitions' signatures over challenges, made or verified by this process */
  private readonly challengeSignatures = new VerifiedSignatures(8192);

  constructor(
    private readonly clock: Clock,
    private readonly window: FreshnessWindow,
    private readonly ledger: ApprovalLedger,
  ) {}

  /**
   * Throws unless `authorization` satisfies the key's rule for `operation` now. Answers the pre-signed
   * approvals it accepted, which the caller must {@link spend} right before the operation runs; null when
   * the rule needs no approval or a workflow request (which runs once by its own claim) is authorized.
   */
  authorize(
    partition: Partition,
    key: Key,
    operation: GatedOperation,
    authorization: Authorization | null | undefined,
  ): ApprovalSpend | null {
    const rule = operation.governedBy ? operation.governedBy.rule : ruleOf(key, operation.ruleName);
    if (isEmptyRule(rule)) return null;
    const what = `${RULE_DESCRIPTION[operation.ruleName]} key "${key.label}"`;
    if (!authorization) {
      throw new TsbError(
        'MISSING_APPROVAL',
        `${what} needs approvals (SKA ${ruleNamesOf(operation)}); use the asynchronous endpoint or present signedApprovals`,
      );
    }
    if (authorization.kind === 'workflow') {
      this.authorizeWorkflow(partition, rule!, { ...operation, key }, authorization, what);
      return null;
    }
    if (!partition.approverKeyAuthentication) {
      // a pre-signed approval proves only its approver key; a partition with approver keys off wants
      // approvals from credentials with the approver role, which only the workflow's decisions carry
      throw new TsbError(
        'MISSING_APPROVAL',
        `${what}: this partition accepts approvals only from approvers who present a credential (approver keys off), so signedApprovals are refused; use the asynchronous endpoint`,
      );
    }
    return this.authorizePresented(rule!, { ...operation, key }, authorization.entries, what);
  }

  /** Notes a challenge's timestamp signature this process has just made with the partition's timestamp key. */
  challengeSigned(timestampPublicKey: Uint8Array, timestampBlock: Uint8Array, signature: Uint8Array): void {
    this.challengeSignatures.remember(timestampPublicKey, TIMESTAMP_SCHEME, timestampBlock, signature);
  }

  /**
   * Spends accepted pre-signed approvals: records them as used, counts one key use when `countUse`, and
   * runs `alongside` (a key change), all in one transaction. MISSING_APPROVAL, with nothing changed, when
   * one of them was spent already. Nothing to do for `null`.
   */
  async spend<T = undefined>(
    spend: ApprovalSpend | null,
    options: { countUse: boolean },
    alongside?: (tx: LedgerTransaction) => Promise<T>,
  ): Promise<T | undefined> {
    if (spend === null) return undefined;
    return this.ledger.spend(spend, options, alongside);
  }

  private authorizeWorkflow(
    partition: Partition,
    rule: NormalizedRule,
    operation: Subject,
    authorization: Extract<Authorization, { kind: 'workflow' }>,
    what: string,
  ): void {
    const challenge = decodeChallenge(authorization.challenge);
    if (!partition.timestampPublicKey || !challenge.timestampSignature) {
      throw new TsbError(
        'MISSING_APPROVAL',
        `${what}: the request's challenge carries no partition timestamp`,
      );
    }
    const { timestampPublicKey } = partition;
    const { timestampBlock, timestampSignature } = challenge;
    const signedByPartition = this.challengeSignatures.check(
      timestampPublicKey,
      TIMESTAMP_SCHEME,
      timestampBlock,
      timestampSignature,
      () => verify('sha256', timestampBlock, timestampPublicKeyOf(timestampPublicKey), timestampSignature),
    );
    if (!signedByPartition) {
      throw new TsbError('MISSING_APPROVAL', `${what}: the challenge was not signed by this partition`);
    }
    const mismatch =
      challenge.content.requestId === authorization.requestId
        ? challengeMismatch(challenge, operation)
        : 'belongs to another request';
    if (mismatch) throw new TsbError('MISSING_APPROVAL', `${what}: the challenge ${mismatch}`);
    if (!challenge.content.requestId || !challenge.content.ruleDigest?.equals(ruleDigest(rule))) {
      throw new TsbError(
        'MISSING_APPROVAL',
        `${what}: the key's ${ruleNamesOf(operation)} changed after the request was created`,
      );
    }
    const approvers = approversByFingerprint(rule);
    const decisions: ApproverDecision[] = [];
    for (const recorded of authorization.decisions) {
      const approver = approvers.get(recorded.fingerprint);
      if (!approver) continue;
      if (recorded.decision === 'reject') {
        decisions.push({ fingerprint: recorded.fingerprint, decision: 'reject', at: recorded.decidedAt });
      } else if (this.validApproval(approver, recorded, authorization.challenge)) {
        decisions.push({ fingerprint: recorded.fingerprint, decision: 'approve', at: recorded.decidedAt });
      }
    }
    const result = evaluateRule(rule, decisions, challenge.content.createdAt, this.clock.now());
    if (result.state !== 'met') {
      throw new TsbError(
        'MISSING_APPROVAL',
        `${what}: the approvals do not satisfy the rule (${result.state})`,
      );
    }
  }

  private validApproval(approver: GateApprover, recorded: RecordedDecision, challenge: Buffer): boolean {
    if (!recorded.signature || !recorded.digestAlgorithm) return false;
    if (!certificatesValidAt(approver, recorded.decidedAt)) return false;
    const key = parseApproverPublicKey(recorded.approverPublicKey);
    if (key.fingerprint !== approver.fingerprint) return false;
    return verifyApproverSignature(key, challenge, recorded.signature, recorded.digestAlgorithm);
  }

  /**
   * Pre-signed approvals are accepted only for tokens without a timelock (there is no request whose
   * creation a timelock could count from); each approval counts for a token when its challenge time
   * is within the token's timeout and the approval freshness window.
   */
  private authorizePresented(
    rule: NormalizedRule,
    operation: Subject,
    entries: readonly string[],
    what: string,
  ): ApprovalSpend {
    const now = this.clock.now();
    const approvers = approversByFingerprint(rule);
    const presented = entries.map((entry, index) =>
      this.checkPresented(
        decodeSignedApproval(entry, `signedApprovals[${index}]`),
        index,
        approvers,
        operation,
        now,
      ),
    );
    for (const token of rule.tokens) {
      if (token.timelock !== 0) continue;
      const decisions: ApproverDecision[] = presented
        .filter(
          (approval) =>
            token.timeout === 0 ||
            now.getTime() - approval.challenge.content.createdAt.getTime() <= token.timeout * 1000,
        )
        .map((approval) => ({
          fingerprint: approval.identity.key.fingerprint,
          decision: 'approve',
          at: now,
        }));
      const result = evaluateRule({ tokens: [token] }, decisions, now, now);
      if (result.state === 'met') return spendOf(operation.key, presented);
    }
    throw new TsbError(
      'MISSING_APPROVAL',
      `${what}: the signed approvals do not satisfy any token of ${ruleNamesOf(operation)} without a timelock`,
    );
  }

  private checkPresented(
    approval: PresentedApproval,
    index: number,
    approvers: Map<string, GateApprover>,
    operation: Subject,
    now: Date,
  ): PresentedApproval & { where: string } {
    const where = `signedApprovals[${index}]`;
    const mismatch = approval.challenge.content.requestId
      ? 'belongs to a workflow request'
      : challengeMismatch(approval.challenge, operation);
    if (mismatch) throw new TsbError('MISSING_APPROVAL', `${where}: the approved challenge ${mismatch}`);
    const approver = approvers.get(approval.identity.key.fingerprint);
    if (!approver) {
      throw new TsbError(
        'MISSING_APPROVAL',
        `${where}: the approver is not in the key's ${ruleNamesOf(operation)}`,
      );
    }
    checkTimestampFreshness(approval.challenge.content.createdAt, now, this.window);
    if (!certificatesValidAt(approver, now)) {
      throw new TsbError('INVALID_CERTIFICATE', `${where}: the approver certificate is not valid now`);
    }
    if (
      !verifyApproverSignature(
        approval.identity.key,
        approval.challengeBytes,
        approval.signature,
        approval.digestAlgorithm,
      )
    ) {
      throw new TsbError(
        'INVALID_SIGNATURE',
        `${where}: the signature does not verify with the approver key`,
      );
    }
    return { ...approval, where };
  }
}

function ruleNamesOf(operation: GatedOperation): string {
  return operation.governedBy ? operation.governedBy.ruleNames.join(' and ') : operation.ruleName;
}

function challengeMismatch(challenge: DecodedChallenge, operation: Subject): string | null {
  const { key } = operation;
  const { content } = challenge;
  if (content.operation !== operation.operation)
    return `is for ${content.operation}, not ${operation.operation}`;
  if (content.keyLabel !== operation.keyName) return `names key "${content.keyLabel}"`;
  if (content.keyId !== key.id) return 'was made for another key of that name';
  if (content.keyVersion !== key.version) return 'was made before the key last changed';
  if (!content.payloadDigest.equals(operation.payloadDigest)) return 'was made for another payload';
  if (!content.parametersDigest.equals(operation.parametersDigest)) {
    return `was made for other operation parameters (${PARAMETERS_OF[operation.operation]})`;
  }
  return null;
}

const PARAMETERS_OF: Record<SkaOperation, string> = {
  SIGN: 'signatureAlgorithm, signatureType, payloadType, context',
  DECRYPT: 'cipherAlgorithm, initializationVector, tagLength, additionalAuthenticationData',
  UNWRAP: "the new key's label, wrapMethod, algorithm, attributes, policy",
  BLOCK: 'none',
  UNBLOCK: 'none',
  MODIFY: 'none',
  CERTIFICATE_REQUEST: 'none',
  SELF_SIGN_CERTIFICATE: 'none',
  SIGN_CERTIFICATE: 'none',
};

/** Each distinct presented challenge once (several approvers may sign the same one). */
function spendOf(key: Key, presented: readonly (PresentedApproval & { where: string })[]): ApprovalSpend {
  const challenges = new Map<string, { digest: Buffer; where: string }>();
  for (const approval of presented) {
    const digest = createHash('sha256').update(approval.challengeBytes).digest();
    const hex = digest.toString('hex');
    if (!challenges.has(hex)) challenges.set(hex, { digest, where: approval.where });
  }
  return { keyId: key.id, challenges: [...challenges.values()] };
}

/**
 * Each approver of the rule once, with every certificate the rule pins for it (the same key may be named
 * as a public key in one group and by a certificate in another: every such certificate must be valid).
 */
function approversByFingerprint(rule: NormalizedRule): Map<string, GateApprover> {
  return new Map(
    [...approverEntries(rule)].map(([fingerprint, entries]) => [
      fingerprint,
      {
        fingerprint,
        certificates: entries.flatMap((entry) => (entry.certificate ? [entry.certificate] : [])),
      },
    ]),
  );
}

interface GateApprover {
  fingerprint: string;
  certificates: NormalizedCertificateInfo[];
}

function certificatesValidAt(approver: GateApprover, at: Date): boolean {
  return approver.certificates.every((certificate) => certificateValidAt(certificate, at));
}

/** The authorization of a synchronous request: its `signedApprovals`, if it sent any. */
export function presentedApprovals(entries: readonly string[] | null | undefined): Authorization | null {
  return entries && entries.length > 0 ? { kind: 'signedApprovals', entries } : null;
}

const timestampKeys = new BoundedTtlCache<KeyObject>(1024);

/** The partition's timestamp public key as a KeyObject, parsed once. */
function timestampPublicKeyOf(spki: Uint8Array): KeyObject {
  return timestampKeys.getOrSet(Buffer.from(spki).toString('base64'), () =>
    createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
  );
}
