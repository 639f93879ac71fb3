/**
 * Pure evaluator of an SKA rule (reference §3.1, §4.6): given the approvers' decisions, is the rule met,
 * approved and waiting for its timelock, still pending, rejected or expired? No clock reads and no I/O
 * (`now` is a parameter); total on any input of the right types; linear in the size of the rule.
 * The decisions behind it are listed in docs/policy-semantics.md ("Evaluation").
 */
import {
  isEmptyRule,
  type NormalizedApproval,
  type NormalizedGroup,
  type NormalizedRule,
  type NormalizedToken,
} from './policy-normalized.js';

export interface ApproverDecision {
  fingerprint: string;
  decision: 'approve' | 'reject';
  at: Date;
}

export type RuleEvaluation =
  | { state: 'met'; token: string; executableAt: Date }
  | { state: 'approved'; token: string; executableAt: Date }
  | { state: 'pending'; expiresAt: Date | null }
  | { state: 'rejected' }
  | { state: 'expired' };

const MS_PER_SECOND = 1000;

/** The decision that counts for each fingerprint. */
type DecisionIndex = ReadonlyMap<string, ApproverDecision>;

interface GroupTally {
  quorum: number;
  /** Distinct approvers of the group. */
  members: number;
  /** Approvals decided within the token's timeout. */
  approved: number;
  /** Rejections decided within the token's timeout. */
  rejected: number;
  /** Approvers without any decision. */
  undecided: number;
}

interface TokenStatus {
  token: NormalizedToken;
  /** Epoch ms of createdAt + timeout; `Infinity` for `timeout: 0`. */
  deadline: number;
  met: boolean;
  /** Not met, but could still be met by approvers who have not decided yet. */
  alive: boolean;
  /** Could not be met even with unlimited time, because of rejections. */
  rejected: boolean;
}

/** The state of a request governed by `rule`, created at `createdAt`, as seen at `now`. */
export function evaluateRule(
  rule: NormalizedRule | null,
  decisions: readonly ApproverDecision[],
  createdAt: Date,
  now: Date,
): RuleEvaluation {
  if (!rule || isEmptyRule(rule)) {
    return { state: 'met', token: approvalFreeTokenName(rule), executableAt: new Date(createdAt.getTime()) };
  }
  const index = indexDecisions(decisions);
  const createdAtMs = createdAt.getTime();
  const nowMs = now.getTime();
  const statuses = rule.tokens.map((token) => tokenStatus(token, index, createdAtMs, nowMs));
  return metResult(statuses, createdAtMs, nowMs) ?? pendingResult(statuses) ?? failedResult(statuses);
}

/**
 * Every entry of each approver of the rule, by fingerprint, in policy order of first occurrence: an approver
 * may be named in several groups (as a public key in one, by a certificate in another). Empty for an
 * approval-free rule.
 */
export function approverEntries(rule: NormalizedRule | null): Map<string, NormalizedApproval[]> {
  const entries = new Map<string, NormalizedApproval[]>();
  if (!rule || isEmptyRule(rule)) return entries;
  for (const token of rule.tokens) {
    for (const group of token.groups) {
      for (const approval of group.approvals) {
        const known = entries.get(approval.fingerprint);
        if (known) known.push(approval);
        else entries.set(approval.fingerprint, [approval]);
      }
    }
  }
  return entries;
}

/** Each distinct approver (by fingerprint) once, in policy order; `[]` for an approval-free rule. */
export function ruleApprovers(rule: NormalizedRule | null): NormalizedApproval[] {
  return [...approverEntries(rule).values()].map((entries) => entries[0]!);
}

/** Fingerprints of the rule's approvers who have no decision (of any kind, at any time) yet. */
export function notYetDecided(rule: NormalizedRule | null, decisions: readonly ApproverDecision[]): string[] {
  const decided = new Set(decisions.map((d) => d.fingerprint));
  return ruleApprovers(rule)
    .map((approval) => approval.fingerprint)
    .filter((fingerprint) => !decided.has(fingerprint));
}

/**
 * The latest createdAt + timeout over the rule's tokens: after it no approval can count any more.
 * `null` when some token never times out (`timeout: 0`) or the rule needs no approval.
 */
export function ruleDeadline(rule: NormalizedRule | null, createdAt: Date): Date | null {
  if (!rule || isEmptyRule(rule)) return null;
  const deadlines = rule.tokens.map((token) => tokenDeadline(token, createdAt.getTime()));
  const latest = Math.max(...deadlines);
  return latest === Number.POSITIVE_INFINITY ? null : new Date(latest);
}

/**
 * Until when (epoch ms; Infinity without timeout) an approval by `fingerprint` alone makes `evaluateRule` answer
 * `met` with `executableAt` = `createdAt`, whatever the other approvers decide or have decided: some token's
 * groups are all met by this one approval, and no token has a timelock (so that whichever token is met, the
 * request is executable at once, at `createdAt`). Decisions only add approvals, and a met token wins over
 * rejections, so no other decision can change that answer. null when this approval alone never does.
 */
export function soleApprovalDeadline(
  rule: NormalizedRule | null,
  fingerprint: string,
  createdAt: Date,
): number | null {
  if (!rule || isEmptyRule(rule) || rule.tokens.some((token) => token.timelock !== 0)) return null;
  const createdAtMs = createdAt.getTime();
  if (Number.isNaN(createdAtMs)) return null;
  const alone: DecisionIndex = new Map([[fingerprint, { fingerprint, decision: 'approve', at: createdAt }]]);
  let latest: number | null = null;
  for (const token of rule.tokens) {
    const status = tokenStatus(token, alone, createdAtMs, createdAtMs);
    if (status.met && (latest === null || status.deadline > latest)) latest = status.deadline;
  }
  return latest;
}

function approvalFreeTokenName(rule: NormalizedRule | null): string {
  return rule?.tokens.find((t) => !t.groups || t.groups.length === 0)?.name ?? '';
}

function tokenDeadline(token: NormalizedToken, createdAtMs: number): number {
  return token.timeout === 0 ? Number.POSITIVE_INFINITY : createdAtMs + token.timeout * MS_PER_SECOND;
}

/** Per fingerprint the earliest decision; on a tie the rejection, so the input order never matters. */
function indexDecisions(decisions: readonly ApproverDecision[]): DecisionIndex {
  const index = new Map<string, ApproverDecision>();
  for (const decision of decisions) {
    const current = index.get(decision.fingerprint);
    if (!current || precedes(decision, current)) index.set(decision.fingerprint, decision);
  }
  return index;
}

function precedes(a: ApproverDecision, b: ApproverDecision): boolean {
  const ta = sortableTime(a.at);
  const tb = sortableTime(b.at);
  return ta < tb || (ta === tb && a.decision === 'reject' && b.decision !== 'reject');
}

/** An invalid date sorts after every valid one. */
function sortableTime(at: Date): number {
  const ms = at.getTime();
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

function tokenStatus(
  token: NormalizedToken,
  index: DecisionIndex,
  createdAtMs: number,
  nowMs: number,
): TokenStatus {
  const deadline = tokenDeadline(token, createdAtMs);
  // boundary inclusive: an approver may still decide at exactly the deadline
  const timeLeft = nowMs <= deadline;
  const tallies = token.groups.map((group) => tallyGroup(group, index, deadline));
  const met = tallies.every((t) => t.approved >= t.quorum);
  const reachable = tallies.every((t) => t.approved + (timeLeft ? t.undecided : 0) >= t.quorum);
  const rejected = tallies.some((t) => t.members - t.rejected < t.quorum);
  return { token, deadline, met, alive: !met && reachable, rejected };
}

function tallyGroup(group: NormalizedGroup, index: DecisionIndex, deadline: number): GroupTally {
  const seen = new Set<string>();
  const tally: GroupTally = { quorum: group.quorum, members: 0, approved: 0, rejected: 0, undecided: 0 };
  for (const { fingerprint } of group.approvals) {
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    tally.members++;
    const decision = index.get(fingerprint);
    // a late decision (or one with an invalid date) counts neither way, but its approver has decided
    if (!decision) tally.undecided++;
    else if (decidedInTime(decision, deadline)) {
      if (decision.decision === 'approve') tally.approved++;
      else tally.rejected++;
    }
  }
  return tally;
}

function decidedInTime(decision: ApproverDecision, deadline: number): boolean {
  return decision.at.getTime() <= deadline; // false for an invalid date
}

/** The met token that may run first (first in policy order on a tie), or undefined when none is met. */
function metResult(statuses: TokenStatus[], createdAtMs: number, nowMs: number): RuleEvaluation | undefined {
  let best: { token: NormalizedToken; executableAt: number } | undefined;
  for (const { token, met } of statuses) {
    if (!met) continue;
    const executableAt = createdAtMs + token.timelock * MS_PER_SECOND;
    if (!best || executableAt < best.executableAt) best = { token, executableAt };
  }
  if (!best) return undefined;
  const state = nowMs >= best.executableAt ? 'met' : 'approved';
  return { state, token: best.token.name, executableAt: new Date(best.executableAt) };
}

function pendingResult(statuses: TokenStatus[]): RuleEvaluation | undefined {
  const alive = statuses.filter((s) => s.alive);
  if (alive.length === 0) return undefined;
  const latest = Math.max(...alive.map((s) => s.deadline));
  return { state: 'pending', expiresAt: latest === Number.POSITIVE_INFINITY ? null : new Date(latest) };
}

/** No token can be met any more: rejected when rejections alone explain it, else expired. */
function failedResult(statuses: TokenStatus[]): RuleEvaluation {
  return statuses.every((s) => s.rejected) ? { state: 'rejected' } : { state: 'expired' };
}
