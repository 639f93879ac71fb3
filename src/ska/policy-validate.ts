/**
 * Semantic validation and normalization of SKA policies (reference §3.1). Runs after (and does not
 * rely on) the TypeBox shape check of `policy.schema.ts`: every field is re-checked (policy-checks.ts) so the function
 * is safe on any input. Approval evaluation is not done here.
 *
 * Error codes: 600 shape/bounds, 606 inconsistent policy, 601 unsupported approver key type (and
 * onboarded approvers), 602 onboarded approvers mixed with key/certificate approvers in one group,
 * 604 onboarded approver without name, 407/625 bad public key / bad base64, 409/402/626 bad certificate.
 * Decisions are listed in docs/policy-semantics.md.
 */
import { TsbError } from '../errors.js';
import { PolicyChecks } from './policy-checks.js';
import { isEmptyRule, type NormalizedModifyPolicy, type NormalizedPolicy } from './policy-normalized.js';

export interface ValidatePolicyOptions {
  /**
   * Validation time. Currently not used for any check: certificate validity periods are checked when
   * an approval is submitted, not when the policy is set (sample 01's certificate expired in 2021).
   */
  now: Date;
  /** Prefix of the field paths in error messages; default `policy`. */
  path?: string;
}

export interface ValidateModifyPolicyOptions extends ValidatePolicyOptions {
  /** Whether the key is currently blocked: then the new policy must keep a non-empty `ruleUnblock`. */
  keyBlocked?: boolean;
}

/** Validates a creation policy (`policy` of `POST /v1/key`); `null` (non-SKA key) must be handled by the caller. */
export function validatePolicy(policy: unknown, options: ValidatePolicyOptions): NormalizedPolicy {
  const ctx = new PolicyChecks(options.path ?? 'policy');
  const raw = ctx.object(policy, ctx.root);
  const rules = ctx.rules(raw);
  const keyStatus = ctx.keyStatus(raw['keyStatus'], `${ctx.root}.keyStatus`);
  if (keyStatus.blocked && isEmptyRule(rules.ruleUnblock)) {
    throw new TsbError(
      'KEY_ATTRIBUTES_INVALID',
      `${ctx.root}.keyStatus.blocked: a key created blocked needs a ruleUnblock that requires approval`,
    );
  }
  return { ...rules, keyStatus };
}

/** Validates a modify policy (`/v1/modify`, `/v1/synchronousModify`); a `keyStatus` field is ignored. */
export function validateModifyPolicy(
  policy: unknown,
  options: ValidateModifyPolicyOptions,
): NormalizedModifyPolicy {
  const ctx = new PolicyChecks(options.path ?? 'policy');
  const raw = ctx.object(policy, ctx.root);
  const rules = ctx.rules(raw);
  if (options.keyBlocked && isEmptyRule(rules.ruleUnblock)) {
    throw new TsbError(
      'KEY_ATTRIBUTES_INVALID',
      `${ctx.root}.ruleUnblock: the key is blocked, the new policy needs a ruleUnblock that requires approval`,
    );
  }
  return rules;
}
