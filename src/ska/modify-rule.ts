/**
 * Which approvals a policy change needs (docs/policy-semantics.md, "Who may change a policy").
 *
 * A non-empty `ruleModify` governs every change, as in the TSB. When `ruleModify` is empty, a change
 * must not let one caller strip rules that have approvers: every non-empty rule the change alters
 * (replaced, weakened or removed) must approve it, and introducing a `ruleModify` hands the power over
 * all rules to its approvers, so it needs the approvals of every non-empty rule. Several rules are
 * required together by one rule whose tokens are the combinations of theirs.
 */
import { TsbError } from '../errors.js';
import { canonicalJson } from '../lib/canonical-json.js';
import {
  isEmptyRule,
  type NormalizedModifyPolicy,
  type NormalizedRule,
  type NormalizedToken,
  type RuleName,
} from './policy-normalized.js';

/** Rules whose approvers guard a change of themselves when `ruleModify` is empty. */
const GUARDED_RULES = ['ruleUse', 'ruleBlock', 'ruleUnblock'] as const satisfies readonly RuleName[];

/** More combinations than this would make approvers' tasks unreadable; the caller changes fewer rules at once. */
export const MAX_COMBINED_TOKENS = 64;

export interface ModifyGovernance {
  /** the rules whose approvals the change needs, all of them together (empty: none) */
  ruleNames: RuleName[];
  /** the rule the approvals are evaluated against; null when the change needs no approval */
  rule: NormalizedRule | null;
}

export function modifyGovernance(
  current: NormalizedModifyPolicy,
  next: NormalizedModifyPolicy,
): ModifyGovernance {
  if (!isEmptyRule(current.ruleModify)) return { ruleNames: ['ruleModify'], rule: current.ruleModify };
  const guarded = GUARDED_RULES.filter((name) => !isEmptyRule(current[name]));
  const introducesRuleModify = !isEmptyRule(next.ruleModify);
  const ruleNames = introducesRuleModify
    ? guarded
    : guarded.filter((name) => !sameRule(current[name], next[name]));
  if (ruleNames.length === 0) return { ruleNames: [], rule: null };
  return { ruleNames, rule: allOf(ruleNames.map((name) => [name, current[name]!] as const)) };
}

function sameRule(a: NormalizedRule | null, b: NormalizedRule | null): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * One rule that is met exactly when every given rule is met: a token for each combination of one token
 * per rule, with the groups of all of them (named after their rule), the longest timelock and the
 * shortest timeout (0 = none).
 */
function allOf(rules: ReadonlyArray<readonly [RuleName, NormalizedRule]>): NormalizedRule {
  if (rules.length === 1) return rules[0]![1];
  const combinations = rules.reduce((count, [, rule]) => count * rule.tokens.length, 1);
  if (combinations > MAX_COMBINED_TOKENS) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `this change needs the approvals of ${rules.map(([name]) => name).join(', ')} together ` +
        `(${combinations} token combinations, at most ${MAX_COMBINED_TOKENS}); change fewer rules at a time`,
    );
  }
  let tokens: NormalizedToken[] = [{ name: '', timelock: 0, timeout: 0, groups: [] }];
  for (const [ruleName, rule] of rules) {
    tokens = tokens.flatMap((partial) =>
      rule.tokens.map((token) => ({
        name: partial.name ? `${partial.name}+${ruleName}.${token.name}` : `${ruleName}.${token.name}`,
        timelock: Math.max(partial.timelock, token.timelock),
        timeout: shortestTimeout(partial.timeout, token.timeout),
        groups: [
          ...partial.groups,
          ...token.groups.map((group) => ({ ...group, name: `${ruleName}.${token.name}.${group.name}` })),
        ],
      })),
    );
  }
  return { tokens };
}

function shortestTimeout(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}
