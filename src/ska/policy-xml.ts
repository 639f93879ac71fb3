/**
 * XML mirror of an SKA policy, as embedded in the key attribute statement (`<private_key>…<policy>`),
 * following sample 21 (`keyAttributes` of a level5 task): element order key_status, rule_use,
 * rule_block, rule_unblock, rule_modify; tab indentation, one element per line.
 *
 * Not shown by the sample, decided here: a `null` rule is omitted, a rule with no tokens renders as
 * `<rule_use/>`, a token without groups has only timelock/timeout, an approval without name has no
 * `name` attribute.
 */
import type { NormalizedModifyPolicy, NormalizedRule } from './policy-normalized.js';

export interface PolicyXmlOptions {
  /** One element per line with indentation (default true); false gives a single line. */
  pretty?: boolean;
  /** Indentation depth of the `<policy>` element itself (default 0; 1 inside `<private_key>`). */
  depth?: number;
  /** Indentation unit (default a tab, as in the TSB). */
  indent?: string;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text for XML element content and (single- or double-quoted) attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

const RULE_ELEMENTS = [
  ['ruleUse', 'rule_use'],
  ['ruleBlock', 'rule_block'],
  ['ruleUnblock', 'rule_unblock'],
  ['ruleModify', 'rule_modify'],
] as const;

/** Renders the `<policy>` element (without XML declaration and without trailing newline). */
export function renderPolicyXml(
  policy: NormalizedModifyPolicy & { keyStatus?: { blocked: boolean } },
  options: PolicyXmlOptions = {},
): string {
  const pretty = options.pretty ?? true;
  const unit = options.indent ?? '\t';
  const base = options.depth ?? 0;
  const lines: string[] = [];
  const line = (depth: number, text: string) => lines.push(pretty ? unit.repeat(base + depth) + text : text);

  line(0, '<policy>');
  if (policy.keyStatus) {
    line(1, '<key_status>');
    line(2, `<blocked>${policy.keyStatus.blocked ? 'true' : 'false'}</blocked>`);
    line(1, '</key_status>');
  }
  for (const [field, element] of RULE_ELEMENTS) {
    const rule: NormalizedRule | null = policy[field];
    if (!rule) continue;
    if (rule.tokens.length === 0) {
      line(1, `<${element}/>`);
      continue;
    }
    line(1, `<${element}>`);
    for (const token of rule.tokens) {
      line(2, `<token name="${escapeXml(token.name)}">`);
      line(3, `<timelock>${token.timelock}</timelock>`);
      line(3, `<timeout>${token.timeout}</timeout>`);
      for (const group of token.groups) {
        line(3, `<group name="${escapeXml(group.name)}">`);
        line(4, `<quorum>${group.quorum}</quorum>`);
        for (const approval of group.approvals) {
          const name = approval.name === null ? '' : ` name="${escapeXml(approval.name)}"`;
          line(4, `<approval type="${approval.type}"${name}>${escapeXml(approval.value)}</approval>`);
        }
        line(3, '</group>');
      }
      line(2, '</token>');
    }
    line(1, `</${element}>`);
  }
  line(0, '</policy>');
  return lines.join(pretty ? '\n' : '');
}
