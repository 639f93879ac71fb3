/** The public JSON form of a normalized policy. */

import type { SkaModifyPolicy, SkaPolicy, SkaRule } from './policy.schema.js';
import type { NormalizedModifyPolicy, NormalizedPolicy, NormalizedRule } from './policy-normalized.js';

/** The public JSON form of a normalized policy (computed fields dropped), e.g. for key attribute responses. */
export function toPolicyJson(policy: NormalizedPolicy): SkaPolicy;
export function toPolicyJson(policy: NormalizedModifyPolicy): SkaModifyPolicy;
export function toPolicyJson(
  policy: NormalizedModifyPolicy & { keyStatus?: { blocked: boolean } },
): SkaPolicy {
  const rule = (r: NormalizedRule | null): SkaRule =>
    r && {
      tokens: r.tokens.map((t) => ({
        name: t.name,
        timelock: t.timelock,
        timeout: t.timeout,
        groups: t.groups.map((g) => ({
          name: g.name,
          quorum: g.quorum,
          approvals: g.approvals.map((a) => ({ type: a.type, name: a.name, value: a.value })),
        })),
      })),
    };
  const out: SkaPolicy = {
    ruleUse: rule(policy.ruleUse),
    ruleBlock: rule(policy.ruleBlock),
    ruleUnblock: rule(policy.ruleUnblock),
    ruleModify: rule(policy.ruleModify),
  };
  if (policy.keyStatus) out.keyStatus = { blocked: policy.keyStatus.blocked };
  return out;
}
