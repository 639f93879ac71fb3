/**
 * Block, unblock and policy change (SKA `ruleBlock`, `ruleUnblock`, `ruleModify`; reference §2.3–2.4).
 * Each runs through the approval gate, writes with a compare-and-set on the key version, and records
 * the SKA request that made it, so that a re-run of the same request changes nothing a second time.
 * Pre-signed approvals are spent in the transaction that writes the change.
 */

import type { Clock } from '../clock.js';
import { TsbError } from '../errors.js';
import type { Key, Partition, Prisma } from '../generated/prisma/client.js';
import type { PasswordInput } from '../keystore/key-password.js';
import type { KeyStatusChange } from '../keystore/keys/key.repository.js';
import type { KeyChange } from '../keystore/keys/key-changes.js';
import { assertWritable } from '../keystore/keys/key-input-rules.js';
import type { KeyStore } from '../keystore/keys/key-store.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { parseApproverValuesAhead } from '../ska/approver-keys-pool.js';
import { payloadDigest } from '../ska/challenge.js';
import { type ModifyGovernance, modifyGovernance } from '../ska/modify-rule.js';
import { parametersDigest } from '../ska/operation-parameters.js';
import { toPolicyJson } from '../ska/policy-json.js';
import type { NormalizedModifyPolicy, NormalizedPolicy } from '../ska/policy-normalized.js';
import { validateModifyPolicy } from '../ska/policy-validate.js';
import type { ApprovalGate, ApprovalSpend, Authorization } from './approval-gate.js';

export interface StatusChangeOptions {
  /** the SKA request this change runs for */
  requestId?: string | null;
}

/** A validated policy change: the normalized policy, the digest approvers sign for and whose approvals it needs. */
export interface PreparedModify {
  policy: NormalizedModifyPolicy;
  digest: Buffer;
  governance: ModifyGovernance;
}

const EMPTY_DIGEST = payloadDigest(Buffer.alloc(0));
/** block, unblock and modify have no parameters besides their payload */
const NO_PARAMETERS = parametersDigest('MODIFY', {});

/** What `plan` decided: the update to write (null: nothing to change) and the approvals to spend with it. */
interface PlannedChange {
  update: { data: KeyStatusChange; kind: KeyChange['kind'] | null } | null;
  spend: ApprovalSpend | null;
}
const CAS_ATTEMPTS = 3;

export class KeyStatusChanges {
  constructor(
    private readonly keys: KeyStore,
    private readonly gate: ApprovalGate,
    private readonly clock: Clock,
  ) {}

  block(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    authorization: Authorization | null,
    options: StatusChangeOptions = {},
  ): Promise<void> {
    return this.setBlocked(partition, keyName, password, true, authorization, options);
  }

  unblock(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    authorization: Authorization | null,
    options: StatusChangeOptions = {},
  ): Promise<void> {
    return this.setBlocked(partition, keyName, password, false, authorization, options);
  }

  /** Validates a new policy for `key` (a key without SKA policy can never get one). */
  prepareModify(key: Key, policy: unknown): PreparedModify {
    if (key.policy === null) {
      throw new TsbError(
        'OPERATION_FORBIDDEN_FOR_KEY',
        `key "${key.label}" was created without an SKA policy and can never get one`,
      );
    }
    const normalized = validateModifyPolicy(policy, { now: this.clock.now(), keyBlocked: key.blocked });
    return {
      policy: normalized,
      digest: modifyDigest(normalized),
      governance: modifyGovernance(key.policy as unknown as NormalizedPolicy, normalized),
    };
  }

  async modify(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    policy: unknown,
    authorization: Authorization | null,
    options: StatusChangeOptions = {},
  ): Promise<void> {
    const parseAhead = () => parseApproverValuesAhead(policy);
    await this.change(partition, keyName, password, options, parseAhead, (key) => {
      const prepared = this.prepareModify(key, policy);
      const spend = this.gate.authorize(
        partition,
        key,
        {
          ruleName: 'ruleModify',
          governedBy: prepared.governance,
          operation: 'MODIFY',
          keyName,
          payloadDigest: prepared.digest,
          parametersDigest: NO_PARAMETERS,
        },
        authorization,
      );
      const stored: NormalizedPolicy = { ...prepared.policy, keyStatus: { blocked: key.blocked } };
      return {
        update: { data: { policy: stored as unknown as Prisma.InputJsonValue }, kind: 'policy' },
        spend,
      };
    });
  }

  private async setBlocked(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    blocked: boolean,
    authorization: Authorization | null,
    options: StatusChangeOptions,
  ): Promise<void> {
    await this.change(partition, keyName, password, options, null, (key) => {
      const spend = this.gate.authorize(
        partition,
        key,
        {
          ruleName: blocked ? 'ruleBlock' : 'ruleUnblock',
          operation: blocked ? 'BLOCK' : 'UNBLOCK',
          keyName,
          payloadDigest: EMPTY_DIGEST,
          parametersDigest: NO_PARAMETERS,
        },
        authorization,
      );
      if (key.blocked === blocked) return { update: null, spend };
      const policy =
        key.policy === null
          ? undefined
          : ({
              ...(key.policy as unknown as NormalizedPolicy),
              keyStatus: { blocked },
            } as Prisma.InputJsonValue);
      return {
        update: { data: { blocked, ...(policy ? { policy } : {}) }, kind: blocked ? 'blocked' : null },
        spend,
      };
    });
  }

  /**
   * Reads the key, lets `plan` authorize and describe the update (null: nothing to change), and writes
   * it only if the key did not change meanwhile (else reads again); accepted pre-signed approvals are
   * spent in the same transaction (also when there is nothing to change: they were used).
   * `prepare` runs once, after the first read that passed the key's password check and before any plan:
   * work done for the caller's input (parsing a new policy's approver keys off the event loop) is not
   * done for a caller who cannot change the key.
   */
  private async change(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    options: StatusChangeOptions,
    prepare: (() => Promise<void>) | null,
    plan: (key: Key) => PlannedChange,
  ): Promise<void> {
    assertWritable(partition);
    if (keyName.includes('/')) {
      throw new TsbError(
        'DERIVATION_NOT_SUPPORTED',
        'block, unblock and modify act on stored keys, not derived ones',
      );
    }
    const requestId = options.requestId ?? null;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const key = await this.keys.unlock(partition, keyName, password);
      if (requestId !== null && key.lastRequestId === requestId) return;
      if (attempt === 0) await prepare?.();
      const { update, spend } = plan(key);
      if (!update) {
        await this.gate.spend(spend, { countUse: false });
        return;
      }
      const data = { ...update.data, lastRequestId: requestId };
      const written = spend
        ? await this.gate
            .spend(spend, { countUse: false }, async (tx) => {
              // the key changed meanwhile: nothing spent, read it again (its approvals named the old version)
              if (!(await this.keys.writeStatusIfUnchanged(key, data, tx))) throw new KeyChangedMeanwhile();
              return true;
            })
            .catch((error: unknown) => {
              if (error instanceof KeyChangedMeanwhile) return false;
              throw error;
            })
        : await this.keys.writeStatusIfUnchanged(key, data);
      if (written) {
        const change = update.kind
          ? { partitionId: partition.id, keyId: key.id, kind: update.kind, byRequestId: requestId }
          : null;
        await this.keys.keyChanged(partition, key, change);
        return;
      }
    }
    throw new TsbError('TECHNICAL', `key "${keyName}" kept changing; try again`);
  }
}

class KeyChangedMeanwhile extends Error {}

/** SHA-256 of the canonical JSON of the policy as the TSB wire format writes it. */
export function modifyDigest(policy: NormalizedModifyPolicy): Buffer {
  return payloadDigest(Buffer.from(canonicalJson(toPolicyJson(policy)), 'utf8'));
}
