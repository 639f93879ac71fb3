/**
 * The operations an SKA request can carry: how each names its key, password and payload in the TSB
 * wire format, which rule governs it, and how it runs through the HSM core once approved.
 */
import type { Key, Partition, SkaRequest } from '../../generated/prisma/client.js';
import { type Authorization, ruleOf } from '../../hsm/approval-gate.js';
import type { CertificateOperation } from '../../hsm/key-certificates/key-certificates.js';
import {
  type CsrInput,
  certificateApprovalPayload,
  type SelfSignInput,
  type SignCertificateInput,
} from '../../hsm/key-certificates/plans.js';
import type { DecryptInput, SignInput, UnwrapInput } from '../../hsm/key-operations/key-operations.types.js';
import { signPayloadOf } from '../../hsm/key-operations/operation-inputs.js';
import type { KeyUse } from '../../hsm/key-usage.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { decodeBase64 } from '../../lib/encoding.js';
import { payloadDigest, type SkaOperation } from '../../ska/challenge.js';
import { toPolicyJson } from '../../ska/policy-json.js';
import type { NormalizedRule, RuleName } from '../../ska/policy-normalized.js';

/** A request body as stored: the inner TSB request without its password. */
export type StoredBody = Record<string, unknown>;

export interface OperationSpec {
  ruleName: RuleName;
  /** field of the key name in the inner request */
  keyField: string;
  /** field of the key password in the inner request */
  passwordField: string;
  /** the key use a request must be allowed before it is stored (null: block, unblock, modify) */
  use: KeyUse | null;
  /** the bytes approvers approve: their SHA-256 is the challenge's payload digest (modify computes its own) */
  payloadField: string | null;
  /** certificate requests: approvers approve the canonical JSON of the whole stored body instead */
  approvesBody?: true;
}

const CERTIFICATE_SPEC = {
  ruleName: 'ruleUse',
  keyField: 'signKeyName',
  passwordField: 'keyPassword',
  use: 'sign',
  payloadField: null,
  approvesBody: true,
} as const satisfies OperationSpec;

export const OPERATIONS: Record<SkaOperation, OperationSpec> = {
  SIGN: {
    ruleName: 'ruleUse',
    keyField: 'signKeyName',
    passwordField: 'keyPassword',
    use: 'sign',
    payloadField: 'payload',
  },
  DECRYPT: {
    ruleName: 'ruleUse',
    keyField: 'decryptKeyName',
    passwordField: 'keyPassword',
    use: 'decrypt',
    payloadField: 'encryptedPayload',
  },
  UNWRAP: {
    ruleName: 'ruleUse',
    keyField: 'unwrapKeyName',
    passwordField: 'unwrapKeyPassword',
    use: 'unwrap',
    payloadField: 'wrappedKey',
  },
  BLOCK: {
    ruleName: 'ruleBlock',
    keyField: 'blockKeyName',
    passwordField: 'keyPassword',
    use: null,
    payloadField: null,
  },
  UNBLOCK: {
    ruleName: 'ruleUnblock',
    keyField: 'unblockKeyName',
    passwordField: 'keyPassword',
    use: null,
    payloadField: null,
  },
  MODIFY: {
    ruleName: 'ruleModify',
    keyField: 'modifyKeyName',
    passwordField: 'keyPassword',
    use: null,
    payloadField: null,
  },
  CERTIFICATE_REQUEST: CERTIFICATE_SPEC,
  SELF_SIGN_CERTIFICATE: CERTIFICATE_SPEC,
  SIGN_CERTIFICATE: CERTIFICATE_SPEC,
};

/**
 * The body to store, the payload digest approvers sign for and the rule they must satisfy, checked as
 * the HSM core will check them when the request runs. A modify stores its policy normalized (the wire
 * form of what was validated), so approvers see exactly the bytes whose digest they sign; the rules it
 * needs depend on what it changes (src/ska/modify-rule.ts).
 */
export function prepareBody(
  hsm: SoftHsm,
  operation: SkaOperation,
  key: Key,
  body: StoredBody,
): { body: StoredBody; digest: Buffer; rule: NormalizedRule | null } {
  if (operation === 'MODIFY') {
    const prepared = hsm.keyStatus.prepareModify(key, body['policy']);
    return {
      body: { ...body, policy: toPolicyJson(prepared.policy) },
      digest: prepared.digest,
      rule: prepared.governance.rule,
    };
  }
  if (isCertificateOperation(operation)) hsm.keyCertificates.check(operation, key, body);
  return {
    body,
    digest: payloadDigest(approvedPayload(operation, body)),
    rule: ruleOf(key, OPERATIONS[operation].ruleName),
  };
}

/** The bytes approvers approve: their SHA-256 is the challenge's payload digest. */
export function approvedPayload(operation: SkaOperation, body: StoredBody): Buffer {
  if (operation === 'MODIFY') return Buffer.from(canonicalJson(body['policy'] ?? null), 'utf8');
  if (OPERATIONS[operation].approvesBody) return certificateApprovalPayload(body);
  const field = OPERATIONS[operation].payloadField;
  if (field === null) return Buffer.alloc(0);
  if (operation === 'SIGN') {
    const payloadType = typeof body['payloadType'] === 'string' ? body['payloadType'] : null;
    return signPayloadOf(String(body[field] ?? ''), payloadType, field);
  }
  return decodeBase64(String(body[field] ?? ''), field, 'INVALID_PAYLOAD');
}

export interface RunContext {
  password: PasswordInput;
  authorization: Authorization;
}

/**
 * Runs an approved request in the HSM core; returns the result the request status shows (base64, or PEM
 * for certificate operations) or null.
 */
export async function runOperation(
  hsm: SoftHsm,
  partition: Partition,
  request: SkaRequest,
  { password, authorization }: RunContext,
): Promise<string | null> {
  const body = request.body as StoredBody;
  const operation = request.operation as SkaOperation;
  const keyName = String(body[OPERATIONS[operation].keyField]);
  const options = { requestId: request.id };
  switch (operation) {
    case 'SIGN': {
      const input = { ...body, keyPassword: password } as unknown as SignInput;
      return (await hsm.operations.sign(partition, input, authorization)).toString('base64');
    }
    case 'DECRYPT': {
      const input = { ...body, keyPassword: password } as unknown as DecryptInput;
      return (await hsm.operations.decrypt(partition, input, authorization)).toString('base64');
    }
    case 'UNWRAP': {
      const input = { ...body, unwrapKeyPassword: password } as unknown as UnwrapInput;
      await hsm.operations.unwrap(partition, input, authorization, options);
      return null;
    }
    case 'BLOCK':
      await hsm.keyStatus.block(partition, keyName, password, authorization, options);
      return null;
    case 'UNBLOCK':
      await hsm.keyStatus.unblock(partition, keyName, password, authorization, options);
      return null;
    case 'MODIFY':
      await hsm.keyStatus.modify(partition, keyName, password, body['policy'], authorization, options);
      return null;
    case 'CERTIFICATE_REQUEST': {
      const input = { ...body, keyPassword: password } as unknown as CsrInput;
      return (await hsm.keyCertificates.request(partition, input, authorization)).certificateSigningRequest;
    }
    case 'SELF_SIGN_CERTIFICATE': {
      const input = { ...body, keyPassword: password } as unknown as SelfSignInput;
      return (await hsm.keyCertificates.selfSign(partition, input, authorization)).certificate;
    }
    case 'SIGN_CERTIFICATE': {
      const input = { ...body, keyPassword: password } as unknown as SignCertificateInput;
      return (await hsm.keyCertificates.sign(partition, input, authorization)).certificate;
    }
  }
}

function isCertificateOperation(operation: SkaOperation): operation is CertificateOperation {
  return OPERATIONS[operation].approvesBody === true;
}
