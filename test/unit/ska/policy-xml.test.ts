import { describe, expect, it } from 'vitest';
import { validatePolicy } from '../../../src/ska/policy-validate.js';
import { escapeXml, renderPolicyXml } from '../../../src/ska/policy-xml.js';
import { b64, fixture, fixtureText, genSpki, group, pk, policyWith } from './helpers.js';

const now = new Date('2026-01-01T00:00:00Z');

describe('renderPolicyXml', () => {
  it('reproduces the <policy> block of sample 21 byte for byte', () => {
    const xml = fixtureText('21-key-attributes.xml');
    const expected = xml.slice(xml.indexOf('\t<policy>'), xml.indexOf('\t</policy>') + '\t</policy>'.length);
    // the key's policy shown in sample 21: all four rules = Token1 (0 s / 600 s), Group1 1-of-1, P-384 approver
    const p384 = /<approval type="public_key" name="ApproverKey1">([^<]+)<\/approval>/.exec(expected)![1]!;
    const rule = {
      tokens: [
        {
          name: 'Token1',
          timelock: 0,
          timeout: 600,
          groups: [
            {
              name: 'Group1',
              quorum: 1,
              approvals: [{ type: 'public_key', name: 'ApproverKey1', value: p384 }],
            },
          ],
        },
      ],
    };
    const policy = validatePolicy(
      { ruleUse: rule, ruleBlock: rule, ruleUnblock: rule, ruleModify: rule, keyStatus: { blocked: false } },
      { now },
    );
    expect(renderPolicyXml(policy, { depth: 1 })).toBe(expected);
  });

  it('renders sample 18 with structure in the TSB order', () => {
    const policy = validatePolicy(fixture('18-modify-policy.json'), { now });
    const xml = renderPolicyXml(policy, { pretty: false });
    const raw = fixture<{ ruleUse: { tokens: { groups: { approvals: { value: string }[] }[] }[] } }>(
      '18-modify-policy.json',
    );
    const k1 = raw.ruleUse.tokens[0]!.groups[0]!.approvals[0]!.value;
    expect(xml.startsWith('<policy><key_status><blocked>false</blocked></key_status><rule_use>')).toBe(true);
    expect(xml).toContain(
      '<rule_use><token name="Token1"><timelock>0</timelock><timeout>600</timeout><group name="Group1">' +
        `<quorum>1</quorum><approval type="public_key" name="ApproverKey1">${k1}</approval></group></token></rule_use>`,
    );
    expect(xml).toContain('<rule_block><token name="Token1"><timelock>180</timelock><timeout>180</timeout>');
    const order = ['<key_status>', '<rule_use>', '<rule_block>', '<rule_unblock>', '<rule_modify>'].map((t) =>
      xml.indexOf(t),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(xml.endsWith('</rule_modify></policy>')).toBe(true);
    // pretty form is the same document with tab indentation
    expect(renderPolicyXml(policy).replace(/\n\t*/g, '')).toBe(xml);
  });

  it('escapes names in attributes', () => {
    const key = genSpki('ed25519');
    const policy = validatePolicy(
      policyWith([group([pk(key, `<&"'>`)], 1, `g<&"'>`)], {}, { name: `t"&'<>` }),
      { now },
    );
    const xml = renderPolicyXml(policy, { pretty: false });
    expect(xml).toContain('<token name="t&quot;&amp;&apos;&lt;&gt;">');
    expect(xml).toContain('<group name="g&lt;&amp;&quot;&apos;&gt;">');
    expect(xml).toContain(
      `<approval type="public_key" name="&lt;&amp;&quot;&apos;&gt;">${b64(key)}</approval>`,
    );
    for (const [, value] of xml.matchAll(/name="([^"]*)"/g)) {
      expect(value).toMatch(/^(?:[^<>&"']|&(?:amp|lt|gt|quot|apos);)*$/);
    }
  });

  it('omits null rules, the name of unnamed approvers and key_status of modify policies', () => {
    const key = genSpki('ec', { namedCurve: 'P-256' });
    const policy = validatePolicy(
      {
        ruleBlock: { tokens: [] },
        ruleModify: { tokens: [{ name: 'free', timelock: 0, timeout: 0, groups: null }] },
        ...policyWith([group([pk(key)])]),
      },
      { now },
    );
    expect(renderPolicyXml(policy, { pretty: false })).toBe(
      '<policy><key_status><blocked>false</blocked></key_status>' +
        '<rule_use><token name="Token1"><timelock>0</timelock><timeout>3600</timeout><group name="Group1">' +
        `<quorum>1</quorum><approval type="public_key">${b64(key)}</approval></group></token></rule_use>` +
        '<rule_block/>' +
        '<rule_modify><token name="free"><timelock>0</timelock><timeout>0</timeout></token></rule_modify>' +
        '</policy>',
    );
    const { keyStatus: _ignored, ...modify } = policy;
    expect(renderPolicyXml(modify, { pretty: false })).not.toContain('key_status');
    expect(renderPolicyXml(validatePolicy({}, { now }))).toBe(
      '<policy>\n\t<key_status>\n\t\t<blocked>false</blocked>\n\t</key_status>\n</policy>',
    );
  });

  it('escapeXml escapes the five XML special characters', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
