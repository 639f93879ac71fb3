import { TsbError } from '../errors.js';
import type { Key, Partition } from '../generated/prisma/client.js';
import type { KeyAttributes } from '../keystore/key-attributes.js';

/** The operations a key's attributes and SKA policy govern. */
export type KeyUse = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'derive';

/** Uses that need a private or secret key (refused when the partition's object usage is off). */
const SECRET_USES: ReadonlySet<KeyUse> = new Set(['sign', 'decrypt', 'unwrap', 'derive']);
/** Uses governed by the SKA `ruleUse` (reference §3.1); the approval gate checks them. */
export const RULE_USE_USES: ReadonlySet<KeyUse> = new Set(['sign', 'decrypt', 'unwrap']);

/**
 * Decides whether `key` may be used for `use` right now, as the HSM would: the partition's object usage
 * flag, the key's blocked status and its attributes. Its SKA `ruleUse` is the approval gate's to check.
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
}
