import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  POLICY_LIMITS,
  type SkaModifyPolicy,
  SkaModifyPolicySchema,
  type SkaPolicy,
  SkaPolicySchema,
} from '../../../src/ska/policy.schema.js';
import { fixture } from './helpers.js';

const token = (over: Record<string, unknown> = {}) => ({
  name: 'T',
  timelock: 0,
  timeout: 0,
  groups: [{ name: 'G', quorum: 1, approvals: [{ type: 'public_key', value: 'AAAA' }] }],
  ...over,
});

describe('SkaPolicySchema', () => {
  it('accepts the reference samples', () => {
    const s01: SkaPolicy = fixture('01-create-key-ska-policy.json');
    const s18: SkaModifyPolicy = fixture('18-modify-policy.json');
    const s32: SkaPolicy = fixture('32-empty-policy.json');
    expect(Value.Check(SkaPolicySchema, s01)).toBe(true);
    expect(Value.Check(SkaModifyPolicySchema, s18)).toBe(true);
    expect(Value.Check(SkaPolicySchema, s18)).toBe(true);
    expect(Value.Check(SkaPolicySchema, s32)).toBe(true);
    expect(Value.Check(SkaPolicySchema, {})).toBe(true);
  });

  it('accepts unknown properties (clients send extra fields; validatePolicy drops them)', () => {
    expect(Value.Check(SkaPolicySchema, { foo: 1, ruleUse: { tokens: [token({ bar: 2 })], x: 1 } })).toBe(
      true,
    );
  });

  it.each([
    [
      'quorum 0',
      {
        ruleUse: {
          tokens: [token({ groups: [{ name: 'G', quorum: 0, approvals: [{ type: 'public_key' }] }] })],
        },
      },
    ],
    [
      'empty approvals',
      { ruleUse: { tokens: [token({ groups: [{ name: 'G', quorum: 1, approvals: [] }] })] } },
    ],
    [
      'bad type',
      { ruleUse: { tokens: [token({ groups: [{ name: 'G', quorum: 1, approvals: [{ type: 'key' }] }] })] } },
    ],
    ['negative timeout', { ruleUse: { tokens: [token({ timeout: -1 })] } }],
    ['fractional timelock', { ruleUse: { tokens: [token({ timelock: 1.5 })] } }],
    ['missing groups', { ruleUse: { tokens: [{ name: 'T', timelock: 0, timeout: 0 }] } }],
    [
      'too many tokens',
      { ruleUse: { tokens: Array.from({ length: POLICY_LIMITS.tokensPerRule + 1 }, () => token()) } },
    ],
    ['name too long', { ruleUse: { tokens: [token({ name: 'x'.repeat(129) })] } }],
    ['control char in name', { ruleUse: { tokens: [token({ name: 'a\nb' })] } }],
    ['blocked not boolean', { keyStatus: { blocked: 'false' } }],
    [
      'value too long',
      {
        ruleUse: {
          tokens: [
            token({
              groups: [
                { name: 'G', quorum: 1, approvals: [{ type: 'public_key', value: 'A'.repeat(16385) }] },
              ],
            }),
          ],
        },
      },
    ],
  ])('rejects %s', (_label, policy) => {
    expect(Value.Check(SkaPolicySchema, policy)).toBe(false);
  });

  it('has descriptions for the OpenAPI document and serializes to plain JSON schema', () => {
    const json = JSON.parse(JSON.stringify(SkaPolicySchema));
    expect(json.description).toMatch(/Smart Key Attributes/);
    expect(json.properties.ruleUse.description).toMatch(/sign/);
    expect(json.properties.keyStatus.anyOf[0].properties.blocked.type).toBe('boolean');
    expect(json.additionalProperties).toBeUndefined();
    expect(JSON.parse(JSON.stringify(SkaModifyPolicySchema)).properties.keyStatus).toBeUndefined();
  });
});
