import { normalizeAlgorithm } from '../../crypto/algorithms.js';
import { splitKeyName } from '../../crypto/derivation/key-derivation.js';
import { unwrapKeyOffThread, wrapKey } from '../../crypto/wrapping/key-wrapping.js';
import { TsbError } from '../../errors.js';
import type { Partition } from '../../generated/prisma/client.js';
import type { KeyAttributes } from '../../keystore/key-attributes.js';
import { assertImportAllowed } from '../../keystore/keys/key-input-rules.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import type { SignedKeyAttributes } from '../../keystore/keys/key-store.types.js';
import { refuseStatefulCopy } from '../../keystore/keys/stateful-indices.js';
import type { ApprovalGate, Authorization } from '../approval-gate.js';
import type { UnwrapInput, WrapInput } from './key-operations.types.js';
import type { KeyResolver } from './key-resolver.js';
import { binary, refuseDerivationFor } from './operation-inputs.js';
import type { OperationUses } from './operation-uses.js';

/** Wrap a stored key under another (export) and unwrap a wrapped key into a new stored key (import). */
export class WrapUnwrapOperations {
  constructor(
    private readonly keys: KeyStore,
    private readonly resolver: KeyResolver,
    private readonly gate: ApprovalGate,
    private readonly uses: OperationUses,
  ) {}

  async wrap(partition: Partition, input: WrapInput): Promise<Buffer> {
    const startedAt = performance.now();
    if (!partition.allowKeyExport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow exporting keys, wrapped or plain',
      );
    }
    const target = splitKeyName(input.keyToBeWrapped);
    refuseDerivationFor(target.path, 'wrapping');
    const toWrap = await this.keys.unlock(partition, target.label, input.keyToBeWrappedPassword);
    const toWrapAttributes = toWrap.attributes as unknown as KeyAttributes;
    if (!toWrapAttributes.extractable || toWrap.policy !== null) {
      throw new TsbError(
        'OPERATION_FORBIDDEN_FOR_KEY',
        `key "${toWrap.label}" is not extractable and cannot be wrapped`,
      );
    }
    if (!toWrap.materialSealed) {
      throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${toWrap.label}" holds only a public key`);
    }
    refuseStatefulCopy(toWrap, 'wrapped');
    const wrapping = splitKeyName(input.wrapKeyName);
    refuseDerivationFor(wrapping.path, 'wrapping');
    const wrappingKey = await this.resolver.wrapping(partition, wrapping.label, input.wrapKeyPassword);
    const wrapped = wrapKey(wrappingKey.key, input.wrapMethod, this.keys.materialOf(partition, toWrap));
    await this.uses.used(wrappingKey, 'wrap', { startedAt });
    return wrapped;
  }

  async unwrap(
    partition: Partition,
    input: UnwrapInput,
    authorization: Authorization | null,
    options: { requestId?: string } = {},
  ): Promise<SignedKeyAttributes> {
    const startedAt = performance.now();
    // refused before any unwrapping: a read-only partition stores no new key
    assertImportAllowed(partition, 'importing keys, wrapped or plain');
    const wrapped = binary(input.wrappedKey, 'unwrapKeyRequest.wrappedKey');
    const { key, ready, path, spend } = await this.resolver.ready(
      partition,
      input.unwrapKeyName,
      input.unwrapKeyPassword,
      'unwrap',
      { operation: 'UNWRAP', payload: wrapped, parameters: { ...input }, authorization },
    );
    refuseDerivationFor(path, 'unwrapping');
    const algorithm = input.algorithm ? normalizeAlgorithm(input.algorithm) : null;
    const material = await unwrapKeyOffThread(ready, input.wrapMethod, wrapped, { algorithm });
    // spent before the new key is stored: an approval stores at most one key
    await this.gate.spend(spend, { countUse: true });
    // counted once the new key is stored: a refused store (taken label, bad attributes) is no use
    const stored = await this.keys.storeNew(partition, {
      label: input.label,
      material,
      attributes: input.attributes,
      policy: input.policy,
      requestId: options.requestId ?? null,
    });
    await this.uses.used(key, 'unwrap', { startedAt, authorization, approvalsSpent: spend !== null });
    return stored;
  }
}
