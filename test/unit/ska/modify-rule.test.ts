import { describe, expect, it } from 'vitest';
import { type ApproverDecision, evaluateRule } from '../../../src/ska/evaluator.js';
import { MAX_COMBINED_TOKENS, modifyGovernance } from '../../../src/ska/modify-rule.js';
import type {
  NormalizedModifyPolicy,
  NormalizedRule,
  NormalizedToken,
} from '../../../src/ska/policy-normalized.js';

const approval = (fingerprint: string) => ({
  type: 'public_key' as const,
  name: fingerprint,
  value: fingerprint,
  fingerprint,
  publicKey: fingerprint,
  keyType: 'EC' as const,
  keyAlgorithm: 'P-256',
  certificate: null,
});
const token = (
  name: string,
  approvers: string[],
  options: Partial<NormalizedToken> = {},
): NormalizedToken => ({
  name,
  timelock: 0,
  timeout: 0,
  groups: [{ name: 'g', quorum: approvers.length, approvals: approvers.map(approval) }],
  ...options,
});
const ruleOf = (...tokens: NormalizedToken[]): NormalizedRule => ({ tokens });
const policy = (rules: Partial<NormalizedModifyPolicy>): NormalizedModifyPolicy => ({
  ruleUse: null,
  ruleBlock: null,
  ruleUnblock: null,
  ruleModify: null,
  ...rules,
});
const at = new Date('2026-01-01T00:00:00Z');
const approvedBy = (...fingerprints: string[]): ApproverDecision[] =>
  fingerprints.map((fingerprint) => ({ fingerprint, decision: 'approve', at }));
const met = (rule: NormalizedRule | null, ...fingerprints: string[]) =>
  evaluateRule(rule, approvedBy(...fingerprints), at, at).state === 'met';

describe('modifyGovernance', () => {
  const use = ruleOf(token('t', ['cfo']));
  const block = ruleOf(token('t', ['guard']));

  it('a non-empty ruleModify governs every change', () => {
    const modify = ruleOf(token('t', ['admin']));
    const current = policy({ ruleUse: use, ruleModify: modify });
    expect(modifyGovernance(current, policy({}))).toEqual({ ruleNames: ['ruleModify'], rule: modify });
    expect(modifyGovernance(current, current)).toEqual({ ruleNames: ['ruleModify'], rule: modify });
  });

  it('under an empty ruleModify, an unchanged or newly set rule needs nobody', () => {
    const current = policy({ ruleUse: use });
    expect(modifyGovernance(current, current)).toEqual({ ruleNames: [], rule: null });
    expect(modifyGovernance(current, policy({ ruleUse: use, ruleBlock: block }))).toEqual({
      ruleNames: [],
      rule: null,
    });
  });

  it('removing, replacing or weakening a guarded rule needs that rule', () => {
    const current = policy({ ruleUse: use, ruleBlock: block });
    for (const next of [
      policy({ ruleBlock: block }),
      policy({ ruleUse: ruleOf(token('t', ['mallory'])), ruleBlock: block }),
      policy({ ruleUse: ruleOf(token('t', ['cfo'], { timeout: 60 })), ruleBlock: block }),
    ]) {
      expect(modifyGovernance(current, next)).toEqual({ ruleNames: ['ruleUse'], rule: use });
    }
  });

  it('introducing a ruleModify needs every guarded rule that has approvers', () => {
    const current = policy({ ruleUse: use, ruleBlock: block });
    const governance = modifyGovernance(current, { ...current, ruleModify: ruleOf(token('t', ['mallory'])) });
    expect(governance.ruleNames).toEqual(['ruleUse', 'ruleBlock']);
    expect(met(governance.rule, 'cfo')).toBe(false);
    expect(met(governance.rule, 'guard')).toBe(false);
    expect(met(governance.rule, 'cfo', 'guard')).toBe(true);
  });

  it('several rules are required together: any token of each, all of their groups', () => {
    const current = policy({
      ruleUse: ruleOf(token('a', ['u1']), token('b', ['u2'], { timelock: 120, timeout: 600 })),
      ruleUnblock: ruleOf(token('c', ['k1', 'k2'], { timeout: 300 })),
    });
    const { ruleNames, rule } = modifyGovernance(current, policy({}));
    expect(ruleNames).toEqual(['ruleUse', 'ruleUnblock']);
    expect(rule!.tokens.map(({ name, timelock, timeout }) => [name, timelock, timeout])).toEqual([
      ['ruleUse.a+ruleUnblock.c', 0, 300],
      ['ruleUse.b+ruleUnblock.c', 120, 300],
    ]);
    expect(met(rule, 'u1', 'k1')).toBe(false);
    expect(met(rule, 'u1', 'k1', 'k2')).toBe(true);
    expect(met(rule, 'k1', 'k2')).toBe(false);
  });

  it('refuses a change whose combined rule would have too many tokens (600)', () => {
    const wide = ruleOf(...Array.from({ length: 9 }, (_, n) => token(`t${n}`, [`a${n}`])));
    expect(9 * 9 > MAX_COMBINED_TOKENS).toBe(true);
    expect(() => modifyGovernance(policy({ ruleUse: wide, ruleBlock: wide }), policy({}))).toThrow(
      expect.objectContaining({ errorCode: 600 }),
    );
  });
});
