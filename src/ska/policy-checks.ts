/**
 * The walk over a raw policy that checks every field (shape 600, consistency 606, approver keys and
 * certificates) and builds its normalized form; policy-validate.ts runs it.
 */
import { TsbError } from '../errors.js';
import { decodeBase64Strict, parseApproverCertificate, parseApproverPublicKey } from './approver-key.js';
import { POLICY_LIMITS } from './policy.schema.js';
import {
  type NormalizedApproval,
  type NormalizedGroup,
  type NormalizedModifyPolicy,
  type NormalizedRule,
  type NormalizedToken,
  RULE_NAMES,
} from './policy-normalized.js';

/** The approvals of a raw rule, whatever its shape: a part that is not an array holds none. */
export function rawApprovals(rule: unknown): unknown[] {
  const items = (v: unknown, key: string): unknown[] => {
    const list = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    return Array.isArray(list) ? list : [];
  };
  return items(rule, 'tokens').flatMap((token) =>
    items(token, 'groups').flatMap((group) => items(group, 'approvals')),
  );
}

/** C0 controls, DEL and lone surrogates cannot be carried by the XML mirror. */
function hasUnrepresentableChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return /[\uD800-\uDFFF]/u.test(text);
}
const SECONDS_GRANULARITY = 60;

type Parsed = Omit<NormalizedApproval, 'type' | 'name'>;

export class PolicyChecks {
  private readonly cache = new Map<string, Parsed>();

  constructor(readonly root: string) {}

  shape(path: string, message: string): never {
    throw new TsbError('INPUT_VALIDATION_FAILED', `${path}: ${message}`);
  }

  invalid(path: string, message: string): never {
    throw new TsbError('KEY_ATTRIBUTES_INVALID', `${path}: ${message}`);
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.shape(path, 'must be an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string, min: number, max: number): unknown[] {
    if (!Array.isArray(value)) this.shape(path, 'must be an array');
    if (value.length < min) this.shape(path, `must contain at least ${min} item(s)`);
    if (value.length > max) this.shape(path, `must contain at most ${max} items`);
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) this.shape(path, 'must be an integer');
    if (value < min || value > max) this.shape(path, `must be between ${min} and ${max}`);
    return value;
  }

  name(value: unknown, path: string, required: boolean): string | null {
    if (value === undefined || value === null) {
      if (required) this.shape(path, 'is required');
      return null;
    }
    if (typeof value !== 'string') this.shape(path, 'must be a string');
    if (required && value.length === 0) this.shape(path, 'must not be empty');
    if (value.length > POLICY_LIMITS.nameMaxLength) {
      this.shape(path, `must be at most ${POLICY_LIMITS.nameMaxLength} characters`);
    }
    if (hasUnrepresentableChars(value))
      this.shape(path, 'must not contain control characters or lone surrogates');
    return value;
  }

  rules(raw: Record<string, unknown>): NormalizedModifyPolicy {
    // count first (tolerating shape errors, which the walk below reports) so that an oversized policy is
    // refused before any key is parsed
    const total = RULE_NAMES.reduce((sum, ruleName) => sum + rawApprovals(raw[ruleName]).length, 0);
    if (total > POLICY_LIMITS.approvalsPerPolicy) {
      this.invalid(
        this.root,
        `at most ${POLICY_LIMITS.approvalsPerPolicy} approvals in total are allowed, got ${total}`,
      );
    }
    const out = {} as NormalizedModifyPolicy;
    for (const ruleName of RULE_NAMES) out[ruleName] = this.rule(raw[ruleName], `${this.root}.${ruleName}`);
    return out;
  }

  keyStatus(value: unknown, path: string): { blocked: boolean } {
    if (value === undefined || value === null) return { blocked: false };
    const raw = this.object(value, path);
    const blocked = raw['blocked'];
    if (blocked === undefined || blocked === null) return { blocked: false };
    if (typeof blocked !== 'boolean') this.shape(`${path}.blocked`, 'must be a boolean');
    return { blocked };
  }

  rule(value: unknown, path: string): NormalizedRule | null {
    if (value === undefined || value === null) return null;
    const raw = this.object(value, path);
    // null or absent tokens are none (a Go nil slice): the rule needs no approval
    const rawTokens = this.array(raw['tokens'] ?? [], `${path}.tokens`, 0, POLICY_LIMITS.tokensPerRule);
    const tokens = rawTokens.map((t, i) => this.token(t, `${path}.tokens[${i}]`));
    const names = new Set<string>();
    tokens.forEach((t, i) => {
      if (names.has(t.name)) this.invalid(`${path}.tokens[${i}].name`, `duplicate token name "${t.name}"`);
      names.add(t.name);
    });
    const free = tokens.findIndex((t) => t.groups.length === 0);
    if (free >= 0 && tokens.some((t) => t.groups.length > 0)) {
      this.invalid(
        `${path}.tokens[${free}].groups`,
        'a token without groups needs no approval and would make the other tokens of the rule pointless; ' +
          'use a null rule for "no approval"',
      );
    }
    return { tokens };
  }

  token(value: unknown, path: string): NormalizedToken {
    const raw = this.object(value, path);
    const name = this.name(raw['name'], `${path}.name`, true)!;
    const timelock = this.integer(raw['timelock'], `${path}.timelock`, 0, POLICY_LIMITS.maxSeconds);
    const timeout = this.integer(raw['timeout'], `${path}.timeout`, 0, POLICY_LIMITS.maxSeconds);
    for (const [field, v] of [
      ['timelock', timelock],
      ['timeout', timeout],
    ] as const) {
      if (v % SECONDS_GRANULARITY !== 0) {
        this.invalid(`${path}.${field}`, `must be a multiple of ${SECONDS_GRANULARITY} seconds, got ${v}`);
      }
    }
    if (timeout > 0 && timelock > timeout) {
      this.invalid(
        `${path}.timelock`,
        `timelock ${timelock} exceeds timeout ${timeout}; no approval could ever be valid`,
      );
    }
    const rawGroups =
      raw['groups'] === undefined || raw['groups'] === null
        ? []
        : this.array(raw['groups'], `${path}.groups`, 0, POLICY_LIMITS.groupsPerToken);
    const groups = rawGroups.map((g, i) => this.group(g, `${path}.groups[${i}]`));
    const names = new Set<string>();
    groups.forEach((g, i) => {
      if (names.has(g.name)) this.invalid(`${path}.groups[${i}].name`, `duplicate group name "${g.name}"`);
      names.add(g.name);
    });
    return { name, timelock, timeout, groups };
  }

  group(value: unknown, path: string): NormalizedGroup {
    const raw = this.object(value, path);
    const name = this.name(raw['name'], `${path}.name`, true)!;
    const quorum = this.integer(raw['quorum'], `${path}.quorum`, 1, POLICY_LIMITS.approvalsPerGroup);
    // null or absent approvals are none (a Go nil slice), which leaves the quorum unreachable (below)
    const rawApprovals =
      raw['approvals'] === undefined || raw['approvals'] === null
        ? []
        : this.array(raw['approvals'], `${path}.approvals`, 1, POLICY_LIMITS.approvalsPerGroup);
    if (quorum > rawApprovals.length) {
      this.invalid(
        `${path}.quorum`,
        `quorum ${quorum} exceeds the ${rawApprovals.length} approval(s) of the group; the group could never be satisfied`,
      );
    }
    const types = rawApprovals.map((a, i) => this.approvalType(a, `${path}.approvals[${i}]`));
    if (
      types.includes('onboarded_approver_certificate') &&
      types.some((t) => t !== 'onboarded_approver_certificate')
    ) {
      throw new TsbError(
        'UNSUPPORTED_APPROVAL_TYPES',
        `${path}.approvals: onboarded_approver_certificate approvals cannot be combined with public_key or certificate approvals in one group`,
      );
    }
    const approvals = rawApprovals.map((a, i) =>
      this.approval(a as Record<string, unknown>, `${path}.approvals[${i}]`),
    );
    const seen = new Map<string, number>();
    approvals.forEach((a, i) => {
      const first = seen.get(a.fingerprint);
      if (first !== undefined) {
        this.invalid(`${path}.approvals[${i}]`, `same approver key as ${path}.approvals[${first}]`);
      }
      seen.set(a.fingerprint, i);
    });
    return { name, quorum, approvals };
  }

  approvalType(value: unknown, path: string): string {
    const raw = this.object(value, path);
    const type = raw['type'];
    if (type !== 'public_key' && type !== 'certificate' && type !== 'onboarded_approver_certificate') {
      this.shape(`${path}.type`, 'must be one of public_key, certificate, onboarded_approver_certificate');
    }
    return type;
  }

  approval(raw: Record<string, unknown>, path: string): NormalizedApproval {
    const type = raw['type'] as 'public_key' | 'certificate' | 'onboarded_approver_certificate';
    const name = this.name(raw['name'], `${path}.name`, false);
    if (type === 'onboarded_approver_certificate') {
      if (!name) {
        throw new TsbError(
          'NO_NAME_FOR_CERTIFICATE_APPROVER',
          `${path}.name: an onboarded_approver_certificate approval must name the approver`,
        );
      }
      throw new TsbError(
        'UNSUPPORTED_APPROVER_KEY_TYPE',
        `${path}: onboarded_approver_certificate approvals are not supported by OpenTSB (no approver management); ` +
          'use a public_key or certificate approval',
      );
    }
    const value = raw['value'];
    if (typeof value !== 'string' || value.length === 0)
      this.shape(`${path}.value`, `is required for ${type}`);
    if (value.length > POLICY_LIMITS.valueMaxLength) {
      this.shape(`${path}.value`, `must be at most ${POLICY_LIMITS.valueMaxLength} characters`);
    }
    const parsed = this.parse(type, value, `${path}.value`);
    return { type, name, ...parsed };
  }

  parse(type: 'public_key' | 'certificate', value: string, path: string): Parsed {
    const der = decodeBase64Strict(value);
    if (!der) {
      throw new TsbError(
        type === 'public_key' ? 'KEY_INVALID_ENCODING' : 'CERTIFICATE_INVALID_ENCODING',
        `${path}: must be standard base64 (padded, no PEM armour) of the DER ${type === 'public_key' ? 'SubjectPublicKeyInfo' : 'certificate'}`,
      );
    }
    const canonical = der.toString('base64');
    const cacheKey = `${type}:${canonical}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    let parsed: Parsed;
    if (type === 'public_key') {
      const key = parseApproverPublicKey(der, path);
      parsed = {
        value: canonical,
        fingerprint: key.fingerprint,
        publicKey: key.spki.toString('base64'),
        keyType: key.keyType,
        keyAlgorithm: key.keyAlgorithm,
        certificate: null,
      };
    } else {
      const cert = parseApproverCertificate(der, path);
      parsed = {
        value: canonical,
        fingerprint: cert.fingerprint,
        publicKey: cert.spki.toString('base64'),
        keyType: cert.keyType,
        keyAlgorithm: cert.keyAlgorithm,
        certificate: {
          notBefore: cert.notBefore,
          notAfter: cert.notAfter,
          subject: cert.subject,
          issuer: cert.issuer,
          fingerprint: cert.certificateFingerprint,
        },
      };
    }
    this.cache.set(cacheKey, parsed);
    return parsed;
  }
}
