/**
 * The one place key operations find their key. A key name is a label, optionally followed by a derivation
 * path (`wallet/44'/0'/0'`); the key must be active, its password right, and the partition flags, its
 * block status and attributes must allow the use; uses under the SKA `ruleUse` also pass the approval gate.
 * Answers the key in the shape the operation needs: ready to operate (private or secret), its public half,
 * a derived child, or a wrapping key.
 */
import { isSymmetric, normalizeAlgorithm } from '../../crypto/algorithms.js';
import { deriveOffThread } from '../../crypto/derivation/derivation-pool.js';
import {
  type DerivationStep,
  type DerivedKey,
  splitKeyName,
} from '../../crypto/derivation/key-derivation.js';
import {
  type KeyMaterial,
  loadPrivate,
  loadPublic,
  type ReadyKey,
  type ReadyPublicKey,
} from '../../crypto/mechanisms/key-mechanisms.js';
import { publicOf } from '../../crypto/signatures/signatures.js';
import { publicKeyInput, type WrappingKey } from '../../crypto/wrapping/key-wrapping.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import { payloadDigest, type SkaOperation } from '../../ska/challenge.js';
import { type InnerRequest, parametersDigest } from '../../ska/operation-parameters.js';
import type { ApprovalGate, ApprovalSpend, Authorization } from '../approval-gate.js';
import { authorizeKeyUse, type KeyUse, RULE_USE_USES } from '../key-usage.js';

/** What the approval gate needs to check a use governed by the SKA `ruleUse`. */
export interface GatedUse {
  operation: SkaOperation;
  payload: Buffer;
  /** the request whose operation parameters the approvals must name (src/ska/operation-parameters.ts) */
  parameters: InnerRequest;
  authorization: Authorization | null;
}

export interface ResolvedKey {
  key: Key;
  /** the key to operate with: the stored key, or the child derived along the name's path */
  ready: ReadyKey;
  path: DerivationStep[] | null;
  /** pre-signed approvals the gate accepted: spent (and the use counted) right before the operation runs */
  spend: ApprovalSpend | null;
}

export class KeyResolver {
  constructor(
    private readonly keys: KeyStore,
    private readonly gate: ApprovalGate,
  ) {}

  /** The private or secret key (or the derived child) ready to operate with, authorized for `use`. */
  async ready(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    use: KeyUse,
    gated?: GatedUse,
  ): Promise<ResolvedKey> {
    const { label, path } = splitKeyName(keyName);
    if (path && path.length > 0) {
      const { key, derived } = await this.derived(partition, label, password, path);
      const spend = this.authorize(partition, key, use, keyName, gated);
      return { key, ready: loadPrivate(derived.material), path, spend };
    }
    const { key, ready } = await this.keys.readyKey(partition, label, password);
    const spend = this.authorize(partition, key, use, keyName, gated);
    return { key, ready, path: null, spend };
  }

  /** The public half of the key (or of the derived child), authorized for `use` (no secret needed). */
  async public(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    use: KeyUse,
  ): Promise<{ key: Key; publicKey: ReadyPublicKey }> {
    const { label, path } = splitKeyName(keyName);
    if (path && path.length > 0) {
      const { key, derived } = await this.derived(partition, label, password, path);
      authorizeKeyUse(partition, key, use, { secretKey: false });
      return { key, publicKey: publicOf(loadPrivate(derived.material)) };
    }
    const key = await this.keys.unlock(partition, label, password, { cached: true });
    authorizeKeyUse(partition, key, use, { secretKey: false });
    if (!key.publicKey) {
      throw new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', `key "${label}" has no public key to verify with`);
    }
    return {
      key,
      publicKey: loadPublic(normalizeAlgorithm(key.algorithm), Buffer.from(key.publicKey), key.curveOid),
    };
  }

  /** The child of the stored key `label` along `path` (the parent must allow `derive` and have a chain code). */
  async derived(
    partition: Partition,
    label: string,
    password: PasswordInput,
    path: DerivationStep[],
  ): Promise<{ key: Key; derived: DerivedKey }> {
    const { key } = await this.keys.readyKey(partition, label, password);
    authorizeKeyUse(partition, key, 'derive', { secretKey: true });
    if (!key.chainCode) {
      throw new TsbError(
        'DERIVATION_NOT_SUPPORTED',
        `key "${label}" has no chain code: create it with derive and bip32 or slip10`,
      );
    }
    const material = this.keys.materialOf(partition, key);
    try {
      return { key, derived: await deriveOffThread(material, Buffer.from(key.chainCode), path) };
    } finally {
      material.secret?.fill(0);
    }
  }

  /** The key that wraps: a secret key (or a private key without a public half) ready, else the public key. */
  async wrapping(
    partition: Partition,
    label: string,
    password: PasswordInput,
  ): Promise<{ id: string; algorithm: string; key: WrappingKey }> {
    const key = await this.keys.requireKey(partition, label);
    if (key.materialSealed && (isSymmetric(normalizeAlgorithm(key.algorithm)) || !key.publicKey)) {
      const { ready } = await this.ready(partition, label, password, 'wrap');
      return { id: key.id, algorithm: key.algorithm, key: ready };
    }
    await this.keys.unlock(partition, label, password);
    authorizeKeyUse(partition, key, 'wrap', { secretKey: false });
    if (!key.publicKey) throw new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', `key "${label}" cannot wrap`);
    const material: KeyMaterial = {
      algorithm: normalizeAlgorithm(key.algorithm),
      algorithmOid: key.algorithmOid,
      curveOid: key.curveOid,
      keySize: key.keySize ?? 0,
      publicKey: Buffer.from(key.publicKey),
      secret: null,
    };
    return { id: key.id, algorithm: key.algorithm, key: publicKeyInput(material) };
  }

  /** Partition flags, block status and attributes, then (for uses under `ruleUse`) the approval gate. */
  private authorize(
    partition: Partition,
    key: Key,
    use: KeyUse,
    keyName: string,
    gated?: GatedUse,
  ): ApprovalSpend | null {
    authorizeKeyUse(partition, key, use, { secretKey: true });
    if (!RULE_USE_USES.has(use) || key.policy === null) return null;
    const operation = gated?.operation ?? 'SIGN';
    return this.gate.authorize(
      partition,
      key,
      {
        ruleName: 'ruleUse',
        operation,
        keyName,
        payloadDigest: payloadDigest(gated?.payload ?? Buffer.alloc(0)),
        parametersDigest: parametersDigest(operation, gated?.parameters ?? {}),
      },
      gated?.authorization ?? null,
    );
  }
}
