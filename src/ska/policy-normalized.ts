/**
 * The normalized form of an SKA policy that validation (policy-validate.ts) returns and the rest of the
 * service keeps: parsed approver keys and certificates, defaults filled in.
 */
import type { ApproverKeyType } from './approver-key.js';
import type { SkaRule } from './policy.schema.js';

export interface NormalizedCertificateInfo {
  /** ISO-8601 UTC; checked when an approval is submitted. */
  notBefore: string;
  notAfter: string;
  subject: string;
  issuer: string;
  /** Lower-case hex SHA-256 of the certificate DER. */
  fingerprint: string;
}

export interface NormalizedApproval {
  type: 'public_key' | 'certificate';
  name: string | null;
  /** The value as sent, with whitespace removed (canonical base64 of the DER). */
  value: string;
  /** Lower-case hex SHA-256 of the approver's SPKI DER (for certificates: the certificate's SPKI). */
  fingerprint: string;
  /** Base64 SPKI DER of the approver key (for certificates: extracted from the certificate). */
  publicKey: string;
  keyType: ApproverKeyType;
  /** 'RSA-2048', 'P-256', 'P-384', 'P-521', 'secp256k1', 'Ed25519', 'ML-DSA-44', ... */
  keyAlgorithm: string;
  certificate: NormalizedCertificateInfo | null;
}

export interface NormalizedGroup {
  name: string;
  quorum: number;
  approvals: NormalizedApproval[];
}

export interface NormalizedToken {
  name: string;
  timelock: number;
  timeout: number;
  /** `[]` (sent as `null` or `[]`) means the token, and therefore its rule, needs no approval. */
  groups: NormalizedGroup[];
}

export interface NormalizedRule {
  tokens: NormalizedToken[];
}

export interface NormalizedModifyPolicy {
  ruleUse: NormalizedRule | null;
  ruleBlock: NormalizedRule | null;
  ruleUnblock: NormalizedRule | null;
  ruleModify: NormalizedRule | null;
}

export interface NormalizedPolicy extends NormalizedModifyPolicy {
  keyStatus: { blocked: boolean };
}

export const RULE_NAMES = ['ruleUse', 'ruleBlock', 'ruleUnblock', 'ruleModify'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

/**
 * True when the rule needs no approval: `null`/missing, no tokens, or a token without groups
 * (tokens are OR-ed, so one approval-free token makes the whole rule approval-free).
 */
export function isEmptyRule(rule: NormalizedRule | SkaRule | null | undefined): boolean {
  if (!rule?.tokens) return true;
  return rule.tokens.length === 0 || rule.tokens.some((t) => !t.groups || t.groups.length === 0);
}

/** Distinct approver fingerprints of a rule, in order of first appearance. */
export function approverFingerprints(rule: NormalizedRule | null | undefined): string[] {
  const seen = new Set<string>();
  for (const token of rule?.tokens ?? []) {
    for (const group of token.groups) {
      for (const approval of group.approvals) seen.add(approval.fingerprint);
    }
  }
  return [...seen];
}
