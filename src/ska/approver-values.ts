/** Approver values (policy `public_key` and `certificate` approvals) as bytes, and their parse in bulk. */
import {
  type ApproverCertificateInfo,
  type ApproverKeyInfo,
  type ApproverValueType,
  decodeBase64Strict,
  isApproverValueParsed,
  parseApproverCertificate,
  parseApproverPublicKey,
} from './approver-key.js';
import { POLICY_LIMITS } from './policy.schema.js';
import { rawApprovals } from './policy-checks.js';
import { RULE_NAMES } from './policy-normalized.js';

export interface ApproverValue {
  type: ApproverValueType;
  der: Uint8Array;
}

export type ParsedApproverValue = ApproverKeyInfo | ApproverCertificateInfo | null;

/** The approver values of a raw policy not parsed yet, once each; none for a policy validation would refuse by size. */
export function unparsedApproverValues(policy: unknown): ApproverValue[] {
  if (typeof policy !== 'object' || policy === null) return [];
  const approvals = RULE_NAMES.flatMap((ruleName) =>
    rawApprovals((policy as Record<string, unknown>)[ruleName]),
  );
  if (approvals.length > POLICY_LIMITS.approvalsPerPolicy) return [];
  const seen = new Set<string>();
  const values: ApproverValue[] = [];
  for (const approval of approvals) {
    const { type, value } = (approval ?? {}) as Record<string, unknown>;
    if (type !== 'public_key' && type !== 'certificate') continue;
    if (typeof value !== 'string' || value.length > POLICY_LIMITS.valueMaxLength) continue;
    const der = decodeBase64Strict(value);
    if (!der) continue;
    const id = `${type}:${der.toString('base64')}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!isApproverValueParsed(type, der)) values.push({ type, der });
  }
  return values;
}

/** Each value's parse, or null where it fails (validation will say why). */
export function parseApproverValues(values: readonly ApproverValue[]): ParsedApproverValue[] {
  return values.map(({ type, der }) => {
    try {
      return type === 'public_key' ? parseApproverPublicKey(der) : parseApproverCertificate(der);
    } catch {
      return null;
    }
  });
}
