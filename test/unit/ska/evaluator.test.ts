import { describe, expect, it } from 'vitest';
import {
  type ApproverDecision,
  evaluateRule,
  notYetDecided,
  type RuleEvaluation,
  ruleApprovers,
  ruleDeadline,
  soleApprovalDeadline,
} from '../../../src/ska/evaluator.js';
import type {
  NormalizedApproval,
  NormalizedGroup,
  NormalizedRule,
  NormalizedToken,
} from '../../../src/ska/policy-normalized.js';

const T0 = new Date('2026-01-01T00:00:00Z');
/** T0 + seconds (+ ms). */
const t = (seconds: number, ms = 0) => new Date(T0.getTime() + seconds * 1000 + ms);

/** An approver with a fake fingerprint: the evaluator only looks at fingerprints. */
const approver = (id: string): NormalizedApproval => ({
  type: 'public_key',
  name: id,
  value: `value-${id}`,
  fingerprint: `fp-${id}`,
  publicKey: `spki-${id}`,
  keyType: 'EC',
  keyAlgorithm: 'P-256',
  certificate: null,
});
const group = (name: string, quorum: number, ...ids: string[]): NormalizedGroup => ({
  name,
  quorum,
  approvals: ids.map(approver),
});
const token = (
  name: string,
  times: { timelock?: number; timeout?: number },
  ...groups: NormalizedGroup[]
): NormalizedToken => ({ name, timelock: times.timelock ?? 0, timeout: times.timeout ?? 3600, groups });
const rule = (...tokens: NormalizedToken[]): NormalizedRule => ({ tokens });

const approve = (id: string, at: Date): ApproverDecision => ({
  fingerprint: `fp-${id}`,
  decision: 'approve',
  at,
});
const reject = (id: string, at: Date): ApproverDecision => ({
  fingerprint: `fp-${id}`,
  decision: 'reject',
  at,
});

const met = (name: string, executableAt: Date): RuleEvaluation => ({
  state: 'met',
  token: name,
  executableAt,
});
const approved = (name: string, executableAt: Date): RuleEvaluation => ({
  state: 'approved',
  token: name,
  executableAt,
});
const pending = (expiresAt: Date | null): RuleEvaluation => ({ state: 'pending', expiresAt });
const REJECTED: RuleEvaluation = { state: 'rejected' };
const EXPIRED: RuleEvaluation = { state: 'expired' };

interface Case {
  name: string;
  rule: NormalizedRule | null;
  decisions: ApproverDecision[];
  now: Date;
  expected: RuleEvaluation;
}

// 2-of-3, timeout 1 h
const twoOfThree = rule(token('T1', {}, group('G1', 2, 'a', 'b', 'c')));
// T1: a (timelock 600 s), T2: b (timelock 300 s)
const twoTokens = rule(
  token('T1', { timelock: 600 }, group('G1', 1, 'a')),
  token('T2', { timelock: 300 }, group('G1', 1, 'b')),
);
const twoGroups = rule(token('T1', {}, group('G1', 1, 'a', 'b'), group('G2', 1, 'c', 'd')));
// a is in both groups
const sharedApprover = rule(token('T1', {}, group('G1', 2, 'a', 'b'), group('G2', 1, 'a', 'c')));

const cases: Case[] = [
  // --- OR of tokens ---
  {
    name: 'OR: first token alone suffices',
    rule: twoTokens,
    decisions: [approve('a', t(10))],
    now: t(100),
    expected: approved('T1', t(600)),
  },
  {
    name: 'OR: second token alone suffices',
    rule: twoTokens,
    decisions: [approve('b', t(10))],
    now: t(100),
    expected: approved('T2', t(300)),
  },
  {
    name: 'OR: both met, the earliest executableAt wins',
    rule: twoTokens,
    decisions: [approve('a', t(10)), approve('b', t(20))],
    now: t(300),
    expected: met('T2', t(300)),
  },
  {
    name: 'OR: equal timelocks, first token in policy order wins',
    rule: rule(token('T1', {}, group('G1', 1, 'a')), token('T2', {}, group('G1', 1, 'b'))),
    decisions: [approve('b', t(10)), approve('a', t(20))],
    now: t(30),
    expected: met('T1', T0),
  },
  // --- AND of groups ---
  {
    name: 'AND: one group met is not enough',
    rule: twoGroups,
    decisions: [approve('a', t(10))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'AND: all groups met',
    rule: twoGroups,
    decisions: [approve('a', t(10)), approve('d', t(11))],
    now: t(20),
    expected: met('T1', T0),
  },
  // --- quorum edges ---
  {
    name: 'quorum - 1 approvals: pending',
    rule: twoOfThree,
    decisions: [approve('a', t(10))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'quorum approvals: met',
    rule: twoOfThree,
    decisions: [approve('a', t(10)), approve('c', t(11))],
    now: t(20),
    expected: met('T1', T0),
  },
  {
    name: 'all approvals: met',
    rule: twoOfThree,
    decisions: [approve('a', t(10)), approve('b', t(11)), approve('c', t(12))],
    now: t(20),
    expected: met('T1', T0),
  },
  {
    name: 'quorum = group size, one missing: pending',
    rule: rule(token('T1', {}, group('G1', 3, 'a', 'b', 'c'))),
    decisions: [approve('a', t(10)), approve('b', t(11))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'quorum = group size, all approve: met',
    rule: rule(token('T1', {}, group('G1', 3, 'a', 'b', 'c'))),
    decisions: [approve('a', t(10)), approve('b', t(11)), approve('c', t(12))],
    now: t(20),
    expected: met('T1', T0),
  },
  {
    name: 'quorum = group size, one rejection: rejected',
    rule: rule(token('T1', {}, group('G1', 3, 'a', 'b', 'c'))),
    decisions: [approve('a', t(10)), reject('b', t(11))],
    now: t(20),
    expected: REJECTED,
  },
  {
    name: 'quorum 1: any single approval',
    rule: rule(token('T1', {}, group('G1', 1, 'a', 'b', 'c'))),
    decisions: [approve('c', t(10))],
    now: t(20),
    expected: met('T1', T0),
  },
  // --- shared approvers, duplicates, strangers ---
  {
    name: 'an approver in two groups counts in both',
    rule: sharedApprover,
    decisions: [approve('a', t(10)), approve('b', t(11))],
    now: t(20),
    expected: met('T1', T0),
  },
  {
    name: 'an approver in two groups, alone: the 2-of-2 group is not met',
    rule: sharedApprover,
    decisions: [approve('a', t(10))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'a rejection by an approver in two tokens counts in both',
    rule: rule(token('T1', {}, group('G1', 1, 'a')), token('T2', {}, group('G1', 2, 'a', 'b'))),
    decisions: [reject('a', t(10))],
    now: t(20),
    expected: REJECTED,
  },
  {
    name: 'duplicate approvals count once',
    rule: twoOfThree,
    decisions: [approve('a', t(10)), approve('a', t(20))],
    now: t(30),
    expected: pending(t(3600)),
  },
  {
    name: 'duplicate decisions: the earliest counts (reject, then approve)',
    rule: rule(token('T1', {}, group('G1', 2, 'a', 'b'))),
    decisions: [reject('a', t(10)), approve('a', t(20)), approve('b', t(21))],
    now: t(30),
    expected: REJECTED,
  },
  {
    name: 'duplicate decisions: the earliest counts whatever the input order',
    rule: rule(token('T1', {}, group('G1', 2, 'a', 'b'))),
    decisions: [reject('a', t(20)), approve('b', t(21)), approve('a', t(10))],
    now: t(30),
    expected: met('T1', T0),
  },
  {
    name: 'duplicate decisions at the same instant: the rejection counts',
    rule: rule(token('T1', {}, group('G1', 1, 'a'))),
    decisions: [approve('a', t(10)), reject('a', t(10))],
    now: t(30),
    expected: REJECTED,
  },
  {
    name: 'approvals by strangers are ignored',
    rule: twoOfThree,
    decisions: [approve('a', t(10)), approve('x', t(11)), approve('y', t(12))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'rejections by strangers are ignored',
    rule: rule(token('T1', {}, group('G1', 1, 'a'))),
    decisions: [reject('x', t(10))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'a decision with an invalid date counts nowhere',
    rule: rule(token('T1', { timeout: 0 }, group('G1', 1, 'a', 'b'))),
    decisions: [approve('a', new Date(Number.NaN))],
    now: t(20),
    expected: pending(null),
  },
  // --- timelock ---
  {
    name: 'timelock: 1 ms before executableAt → approved',
    rule: rule(token('T1', { timelock: 600 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(10))],
    now: t(600, -1),
    expected: approved('T1', t(600)),
  },
  {
    name: 'timelock: at executableAt → met',
    rule: rule(token('T1', { timelock: 600 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(10))],
    now: t(600),
    expected: met('T1', t(600)),
  },
  {
    name: 'timelock = timeout: stays met after the timeout passes',
    rule: rule(token('T1', { timelock: 600, timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(590))],
    now: t(5000),
    expected: met('T1', t(600)),
  },
  {
    name: 'timelock > timeout (not valid, still evaluated): approved while the timelock runs',
    rule: rule(token('T1', { timelock: 1200, timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(590))],
    now: t(900),
    expected: approved('T1', t(1200)),
  },
  // --- timeout ---
  {
    name: 'timeout: approval at exactly createdAt + timeout counts',
    rule: rule(token('T1', { timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(600))],
    now: t(600),
    expected: met('T1', T0),
  },
  {
    name: 'timeout: approval 1 ms after createdAt + timeout does not count',
    rule: rule(token('T1', { timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(600, 1))],
    now: t(600, 1),
    expected: EXPIRED,
  },
  {
    name: 'timeout: still pending at exactly the deadline',
    rule: rule(token('T1', { timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [],
    now: t(600),
    expected: pending(t(600)),
  },
  {
    name: 'timeout: expired 1 ms after the deadline',
    rule: rule(token('T1', { timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [],
    now: t(600, 1),
    expected: EXPIRED,
  },
  {
    name: 'timeout: each token has its own (a shared approver late for T1, in time for T2)',
    rule: rule(
      token('T1', { timeout: 600 }, group('G1', 1, 'a')),
      token('T2', { timelock: 60, timeout: 1200 }, group('G1', 1, 'a', 'b')),
    ),
    decisions: [approve('a', t(900))],
    now: t(1000),
    expected: met('T2', t(60)),
  },
  {
    name: 'timeout 0: never expires',
    rule: rule(token('T1', { timeout: 0 }, group('G1', 1, 'a'))),
    decisions: [],
    now: t(10 * 365 * 86400),
    expected: pending(null),
  },
  {
    name: 'timeout 0: an approval years later counts',
    rule: rule(token('T1', { timeout: 0 }, group('G1', 1, 'a'))),
    decisions: [approve('a', t(10 * 365 * 86400))],
    now: t(10 * 365 * 86400),
    expected: met('T1', T0),
  },
  // --- pending / rejected / expired ---
  {
    name: 'a rejection that leaves the quorum reachable: pending',
    rule: twoOfThree,
    decisions: [reject('a', t(10))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'a rejection plus an approval, quorum still reachable: pending',
    rule: twoOfThree,
    decisions: [reject('a', t(10)), approve('b', t(11))],
    now: t(20),
    expected: pending(t(3600)),
  },
  {
    name: 'rejections that make the quorum unreachable: rejected',
    rule: twoOfThree,
    decisions: [reject('a', t(10)), reject('c', t(11))],
    now: t(20),
    expected: REJECTED,
  },
  {
    name: 'rejected stays rejected after the timeout',
    rule: twoOfThree,
    decisions: [reject('a', t(10)), reject('c', t(11))],
    now: t(5000),
    expected: REJECTED,
  },
  {
    name: 'both tokens impossible by rejections: rejected',
    rule: rule(token('T1', {}, group('G1', 1, 'a')), token('T2', { timeout: 600 }, group('G1', 1, 'b'))),
    decisions: [reject('a', t(10)), reject('b', t(20))],
    now: t(30),
    expected: REJECTED,
  },
  {
    name: 'one token rejected, the other timed out: expired',
    rule: rule(token('T1', {}, group('G1', 1, 'a')), token('T2', { timeout: 600 }, group('G1', 1, 'b'))),
    decisions: [reject('a', t(10))],
    now: t(3601),
    expected: EXPIRED,
  },
  {
    name: 'one token rejected, the other alive: pending until the live token times out',
    rule: rule(
      token('T1', { timeout: 1200 }, group('G1', 1, 'a')),
      token('T2', { timeout: 600 }, group('G1', 1, 'b')),
    ),
    decisions: [reject('a', t(10))],
    now: t(30),
    expected: pending(t(600)),
  },
  {
    name: 'a rejection after the timeout does not count: expired',
    rule: rule(token('T1', { timeout: 600 }, group('G1', 1, 'a'))),
    decisions: [reject('a', t(601))],
    now: t(700),
    expected: EXPIRED,
  },
  {
    name: 'an approver who decided late can no longer help: expired',
    rule: rule(token('T1', { timeout: 600 }, group('G1', 2, 'a', 'b'))),
    decisions: [approve('a', t(10)), approve('b', t(700))],
    now: t(700),
    expected: EXPIRED,
  },
  // --- expiresAt ---
  {
    name: 'expiresAt: the latest deadline of the live tokens',
    rule: rule(
      token('T1', { timeout: 600 }, group('G1', 1, 'a')),
      token('T2', { timeout: 1200 }, group('G1', 1, 'b')),
    ),
    decisions: [],
    now: t(30),
    expected: pending(t(1200)),
  },
  {
    name: 'expiresAt: a token past its deadline no longer counts',
    rule: rule(
      token('T1', { timeout: 600 }, group('G1', 1, 'a')),
      token('T2', { timeout: 1200 }, group('G1', 1, 'b')),
    ),
    decisions: [],
    now: t(900),
    expected: pending(t(1200)),
  },
  {
    name: 'expiresAt: null while a live token has timeout 0',
    rule: rule(
      token('T1', { timeout: 0 }, group('G1', 1, 'a')),
      token('T2', { timeout: 600 }, group('G1', 1, 'b')),
    ),
    decisions: [],
    now: t(30),
    expected: pending(null),
  },
  {
    name: 'expiresAt: a rejected timeout-0 token does not make it null',
    rule: rule(
      token('T1', { timeout: 0 }, group('G1', 1, 'a')),
      token('T2', { timeout: 600 }, group('G1', 1, 'b')),
    ),
    decisions: [reject('a', t(10))],
    now: t(30),
    expected: pending(t(600)),
  },
  // --- approval-free ---
  { name: 'approval-free: null rule', rule: null, decisions: [], now: T0, expected: met('', T0) },
  { name: 'approval-free: no tokens', rule: rule(), decisions: [], now: T0, expected: met('', T0) },
  {
    name: 'approval-free: a token without groups (its timelock is ignored)',
    rule: rule(token('Free', { timelock: 600, timeout: 600 })),
    decisions: [reject('a', t(10))],
    now: T0,
    expected: met('Free', T0),
  },
];

describe('evaluateRule', () => {
  it.each(cases)('$name', ({ rule, decisions, now, expected }) => {
    expect(evaluateRule(rule, decisions, T0, now)).toStrictEqual(expected);
  });

  it('does not mutate its inputs', () => {
    const r = structuredClone(twoOfThree);
    const decisions = [approve('b', t(20)), approve('a', t(10))];
    const copy = structuredClone(decisions);
    evaluateRule(r, decisions, T0, t(30));
    expect(r).toStrictEqual(twoOfThree);
    expect(decisions).toStrictEqual(copy);
  });

  it('is fast on the largest rule (16 tokens × 16 groups × 64 approvals)', () => {
    const ids = Array.from({ length: 64 }, (_, i) => `k${i}`);
    const big = rule(
      ...Array.from({ length: 16 }, (_, ti) =>
        token(`T${ti}`, {}, ...Array.from({ length: 16 }, (_, gi) => group(`G${gi}`, 64, ...ids))),
      ),
    );
    const decisions = ids.slice(0, 63).map((id, i) => approve(id, t(i)));
    const start = performance.now();
    for (let i = 0; i < 20; i++) expect(evaluateRule(big, decisions, T0, t(100)).state).toBe('pending');
    expect((performance.now() - start) / 20).toBeLessThan(50);
  });
});

describe('ruleApprovers / notYetDecided / ruleDeadline', () => {
  const r = rule(
    token('T1', { timeout: 600 }, group('G1', 1, 'b', 'a'), group('G2', 1, 'a', 'c')),
    token('T2', { timeout: 1200 }, group('G1', 1, 'c', 'd')),
  );

  it('ruleApprovers lists each approver once, in policy order', () => {
    expect(ruleApprovers(r)).toStrictEqual(['b', 'a', 'c', 'd'].map(approver));
  });

  it('ruleApprovers of an approval-free rule is empty', () => {
    expect(ruleApprovers(null)).toStrictEqual([]);
    expect(ruleApprovers(rule())).toStrictEqual([]);
    expect(ruleApprovers(rule(token('Free', {})))).toStrictEqual([]);
  });

  it('notYetDecided lists the approvers without any decision, in policy order', () => {
    const decisions = [approve('a', t(10)), reject('d', t(11)), approve('x', t(12)), approve('c', t(5000))];
    expect(notYetDecided(r, decisions)).toStrictEqual(['fp-b']);
    expect(notYetDecided(r, [])).toStrictEqual(['fp-b', 'fp-a', 'fp-c', 'fp-d']);
    expect(notYetDecided(null, [])).toStrictEqual([]);
  });

  it('ruleDeadline is the latest token deadline', () => {
    expect(ruleDeadline(r, T0)).toStrictEqual(t(1200));
  });

  it('ruleDeadline is null when a token has timeout 0 or the rule is approval-free', () => {
    expect(ruleDeadline(rule(token('T1', { timeout: 0 }, group('G1', 1, 'a')), ...r.tokens), T0)).toBeNull();
    expect(ruleDeadline(null, T0)).toBeNull();
    expect(ruleDeadline(rule(token('Free', { timeout: 600 })), T0)).toBeNull();
  });
});

// --- properties over random rules and decisions ---

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL = ['a', 'b', 'c', 'd', 'e', 'f'];
const SECONDS = [0, 60, 600, 3600];

function randomWorld(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const randomGroup = (name: string): NormalizedGroup => {
    const members = POOL.filter(() => random() < 0.5);
    if (members.length === 0) members.push(pick(POOL));
    // mostly valid quorums, sometimes 0 or unreachable to exercise robustness
    const quorum = random() < 0.9 ? 1 + int(members.length) : int(members.length + 3);
    return group(name, quorum, ...members);
  };
  const randomToken = (name: string): NormalizedToken =>
    token(
      name,
      { timelock: pick(SECONDS), timeout: pick(SECONDS) },
      ...Array.from({ length: 1 + int(3) }, (_, i) => randomGroup(`G${i}`)),
    );
  const randomTime = () => (random() < 0.02 ? new Date(Number.NaN) : t(int(5000) - 100, int(3) - 1));
  const randomDecision = (): ApproverDecision =>
    (random() < 0.7 ? approve : reject)(random() < 0.1 ? 'stranger' : pick(POOL), randomTime());
  const r =
    random() < 0.05 ? rule() : rule(...Array.from({ length: 1 + int(4) }, (_, i) => randomToken(`T${i}`)));
  const decisions = Array.from({ length: int(8) }, randomDecision);
  return { rule: r, decisions, randomTime, pick, now: t(int(6000) - 100) };
}

const STATES = ['met', 'approved', 'pending', 'rejected', 'expired'];
const RUNS = 3000;

describe('evaluateRule properties', () => {
  it('never throws and returns a well-formed result', () => {
    const random = prng(1);
    for (let i = 0; i < RUNS; i++) {
      const w = randomWorld(random);
      const result = evaluateRule(w.rule, w.decisions, T0, w.now);
      expect(STATES).toContain(result.state);
      if (result.state === 'pending' && result.expiresAt) {
        expect(result.expiresAt.getTime()).toBeGreaterThanOrEqual(w.now.getTime());
      }
    }
  });

  it('adding an approval never turns met/approved into anything else', () => {
    const random = prng(2);
    for (let i = 0; i < RUNS; i++) {
      const w = randomWorld(random);
      const before = evaluateRule(w.rule, w.decisions, T0, w.now);
      if (before.state !== 'met' && before.state !== 'approved') continue;
      const more = [...w.decisions, approve(w.pick(POOL), w.randomTime())];
      const after = evaluateRule(w.rule, more, T0, w.now);
      expect(['met', 'approved']).toContain(after.state);
      if (after.state === 'met' || after.state === 'approved') {
        expect(after.executableAt.getTime()).toBeLessThanOrEqual(before.executableAt.getTime());
      }
    }
  });

  it('a later now never turns expired or rejected back into pending (nor met into anything else)', () => {
    const random = prng(3);
    for (let i = 0; i < RUNS; i++) {
      const w = randomWorld(random);
      const before = evaluateRule(w.rule, w.decisions, T0, w.now);
      const later = new Date(w.now.getTime() + Math.floor(random() * 5000) * 1000);
      const after = evaluateRule(w.rule, w.decisions, T0, later);
      if (before.state === 'expired' || before.state === 'rejected' || before.state === 'met') {
        expect(after).toStrictEqual(before);
      }
    }
  });

  it('does not depend on the order of the decisions', () => {
    const random = prng(4);
    for (let i = 0; i < RUNS; i++) {
      const w = randomWorld(random);
      const shuffled = [...w.decisions].sort(() => random() - 0.5);
      expect(evaluateRule(w.rule, shuffled, T0, w.now)).toStrictEqual(
        evaluateRule(w.rule, w.decisions, T0, w.now),
      );
    }
  });
});

describe('soleApprovalDeadline', () => {
  const HOUR = 3600_000;

  it('is the deadline of a token one approval meets alone, and only without any timelock', () => {
    const oneOfOne = rule(token('T', { timeout: 3600 }, group('G', 1, 'a')));
    expect(soleApprovalDeadline(oneOfOne, 'fp-a', T0)).toBe(T0.getTime() + HOUR);
    expect(soleApprovalDeadline(oneOfOne, 'fp-b', T0)).toBeNull();
    const noTimeout = rule(token('T', { timeout: 0 }, group('G', 1, 'a', 'b')));
    expect(soleApprovalDeadline(noTimeout, 'fp-b', T0)).toBe(Number.POSITIVE_INFINITY);
    // the latest of the tokens it meets alone
    const twoWays = rule(
      token('short', { timeout: 60 }, group('G', 1, 'a')),
      token('long', { timeout: 600 }, group('G', 1, 'a', 'b')),
      token('never', { timeout: 6000 }, group('G', 2, 'a', 'b')),
    );
    expect(soleApprovalDeadline(twoWays, 'fp-a', T0)).toBe(T0.getTime() + 600_000);
    expect(soleApprovalDeadline(twoWays, 'fp-b', T0)).toBe(T0.getTime() + 600_000);
  });

  it('is null when another approver is needed, when any token has a timelock, and for an empty rule', () => {
    expect(soleApprovalDeadline(twoOfThree, 'fp-a', T0)).toBeNull();
    expect(
      soleApprovalDeadline(rule(token('T', {}, group('G1', 1, 'a'), group('G2', 1, 'b'))), 'fp-a', T0),
    ).toBeNull();
    // met alone, but another token's timelock could make it executable later (or another token earlier)
    const timelocked = rule(
      token('now', {}, group('G', 1, 'a')),
      token('later', { timelock: 60 }, group('G', 1, 'b')),
    );
    expect(soleApprovalDeadline(timelocked, 'fp-a', T0)).toBeNull();
    expect(
      soleApprovalDeadline(rule(token('T', { timelock: 1 }, group('G', 1, 'a'))), 'fp-a', T0),
    ).toBeNull();
    expect(soleApprovalDeadline(rule(), 'fp-a', T0)).toBeNull();
    expect(soleApprovalDeadline(null, 'fp-a', T0)).toBeNull();
  });

  it('agrees with evaluateRule: before it the approval makes any set of other decisions met at createdAt, after it alone it does not', () => {
    const random = prng(5);
    let shortcuts = 0;
    for (let i = 0; i < RUNS; i++) {
      const w = randomWorld(random);
      // half of the worlds without timelocks, or the shortcut would hardly ever apply
      const r: NormalizedRule | null =
        w.rule && random() < 0.5 ? { tokens: w.rule.tokens.map((tk) => ({ ...tk, timelock: 0 })) } : w.rule;
      const who = w.pick(POOL);
      const deadline = soleApprovalDeadline(r, `fp-${who}`, T0);
      const decidedAt = t(Math.floor(random() * 5000));
      const now = new Date(decidedAt.getTime() + Math.floor(random() * 100) * 1000);
      const mine = approve(who, decidedAt);
      const alone = evaluateRule(r, [mine], T0, decidedAt);
      const untimed = r !== null && r.tokens.length > 0 && r.tokens.every((tk) => tk.timelock === 0);
      const within = deadline !== null && decidedAt.getTime() <= deadline;
      // tight for rules a policy can hold (a group of quorum 0 is met by nobody, at any time)
      const valid = r?.tokens.every((tk) => tk.groups.length > 0 && tk.groups.every((g) => g.quorum >= 1));
      if (untimed && valid) expect(within).toBe(alone.state === 'met');
      if (!within) continue;
      shortcuts++;
      // the task of `who` was undecided: the others are everyone else's decisions
      const others = w.decisions.filter((decision) => decision.fingerprint !== `fp-${who}`);
      const result = evaluateRule(r, [...others, mine], T0, now);
      expect(result.state).toBe('met');
      if (result.state === 'met') expect(result.executableAt).toStrictEqual(T0);
    }
    expect(shortcuts).toBeGreaterThan(100);
  });
});
