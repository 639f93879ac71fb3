import { TsbError } from '../errors.js';
import type { Key, Partition } from '../generated/prisma/client.js';
import { isEmptyRule, type NormalizedPolicy } from '../ska/policy-validate.js';
import type { KeyAttributes } from './key-attributes.js';

/** The operations a key's attributes and SKA policy govern. */
export type KeyUse = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'derive';

/** Uses that need a private or secret key (refused when the partition's object usage is off). */
const SECRET_USES: ReadonlySet<KeyUse> = new Set(['sign', 'decrypt', 'unwrap', 'derive']);
/** Uses governed by the SKA `ruleUse` (reference §3.1). */
const RULE_USE_USES: ReadonlySet<KeyUse> = new Set(['sign', 'decrypt', 'unwrap']);

/**
 * Decides whether `key` may be used for `use` right now, as the HSM would: the partition's object usage
 * flag, the key's blocked status, its attributes, and its SKA `ruleUse` (synchronous use of a key whose
 * rule needs approvals is refused with 401 "missing approval" until approvals can be presented).
 */
export function authorizeKeyUse(
  partition: Partition,
  key: Key,
  use: KeyUse,
  options: { secretKey: boolean },
): void {
  if (!partition.allowObjectUsage && (SECRET_USES.has(use) || options.secretKey)) {
    throw new TsbError(
      'SECURITY_NOT_ALLOWED',
      'the partition security policy does not allow using secret or private keys',
    );
  }
  if (key.blocked) {
    throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${key.label}" is blocked`);
  }
  const attributes = key.attributes as unknown as KeyAttributes;
  if (!attributes[use]) {
    throw new TsbError(
      'OPERATION_FORBIDDEN_FOR_KEY',
      `key "${key.label}" does not allow ${use} (attribute ${use} is false)`,
    );
  }
  if (RULE_USE_USES.has(use) && key.policy !== null) {
    const policy = key.policy as unknown as NormalizedPolicy;
    if (!isEmptyRule(policy.ruleUse)) {
      throw new TsbError(
        'MISSING_APPROVAL',
        `key "${key.label}" needs approvals for ${use} (SKA ruleUse); use the asynchronous endpoint or present approvals`,
      );
    }
  }
}
