/**
 * TypeBox schemas of the Smart Key Attributes (SKA) policy (TSB reference §3.1), used for Fastify
 * request validation and the OpenAPI document.
 *
 * The schemas check shape and bounds only; semantic rules (quorum vs. approvals, key parsing, duplicate
 * approvers, blocked ⇒ ruleUnblock, …) live in `policy-validate.ts`, which every caller must run.
 *
 * Unknown properties: the schemas do NOT set `additionalProperties: false`. The TSB (Jackson) ignores
 * unknown JSON fields and clients such as tsb-client-go send extra ones, so OpenTSB accepts them. They
 * are never used: `validatePolicy` builds its result from the known fields only, so it does not matter
 * whether ajv runs with `removeAdditional` or not.
 */
import { type Static, Type } from 'typebox';
import { OptionalOrNull } from '../lib/schema-fields.js';

export const POLICY_LIMITS = {
  /** Max length of token, group and approval names. */
  nameMaxLength: 128,
  /** Max length of an approval `value` (base64 of a SPKI or certificate), 16 KiB of text. */
  valueMaxLength: 16 * 1024,
  tokensPerRule: 16,
  groupsPerToken: 16,
  approvalsPerGroup: 64,
  /** Total approvals over all four rules (checked by validatePolicy). */
  approvalsPerPolicy: 1024,
  /** Max timelock/timeout: 10 years of 365 days, in seconds. */
  maxSeconds: 10 * 365 * 24 * 3600,
} as const;

/** No C0 control characters or DEL: names end up in XML attributes, which cannot carry most of them. */
const NAME_PATTERN = '^[^\\x00-\\x1F\\x7F]*$';

export const SkaApprovalTypeSchema = Type.Union(
  [Type.Literal('public_key'), Type.Literal('certificate'), Type.Literal('onboarded_approver_certificate')],
  {
    description:
      'How the approver is identified: `public_key` (value = base64 DER SubjectPublicKeyInfo), ' +
      '`certificate` (value = base64 DER X.509 certificate) or `onboarded_approver_certificate` ' +
      '(an approver registered through approver management, referenced by name; not supported by OpenTSB).',
  },
);

export const SkaApprovalSchema = Type.Object(
  {
    type: SkaApprovalTypeSchema,
    name: Type.Optional(
      Type.Union(
        [
          Type.String({
            maxLength: POLICY_LIMITS.nameMaxLength,
            pattern: NAME_PATTERN,
            description:
              'Display name of the approver (for `onboarded_approver_certificate`: the approver name).',
          }),
          Type.Null(),
        ],
        { description: 'Optional display name of the approver.' },
      ),
    ),
    value: Type.Optional(
      Type.Union(
        [
          Type.String({
            maxLength: POLICY_LIMITS.valueMaxLength,
            description:
              'Standard base64 (padded, no PEM armour) of the DER SubjectPublicKeyInfo (`public_key`) or ' +
              'of the DER X.509 certificate (`certificate`). Supported approver keys: RSA 2048-8192 bits, ' +
              'EC P-256, P-384, P-521, secp256k1, Ed25519, ML-DSA-44/65/87.',
          }),
          Type.Null(),
        ],
        { description: 'The approver key or certificate; required for `public_key` and `certificate`.' },
      ),
    ),
  },
  { title: 'SkaApproval', description: 'One approver of a group.' },
);

export const SkaGroupSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: POLICY_LIMITS.nameMaxLength,
      pattern: NAME_PATTERN,
      description: 'Group name, unique within its token.',
    }),
    quorum: Type.Integer({
      minimum: 1,
      maximum: POLICY_LIMITS.approvalsPerGroup,
      description: 'Number of distinct approvals of this group needed; at most the number of approvals.',
    }),
    approvals: OptionalOrNull(
      Type.Array(SkaApprovalSchema, {
        minItems: 1,
        maxItems: POLICY_LIMITS.approvalsPerGroup,
        description: 'The approvers of this group; each approver may appear only once per group.',
      }),
      { description: 'The approvers of this group (null or absent: none, so no quorum can be reached).' },
    ),
  },
  {
    title: 'SkaGroup',
    description: 'A group of approvers; all groups of a token must reach their quorum (AND).',
  },
);

export const SkaTokenSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: POLICY_LIMITS.nameMaxLength,
      pattern: NAME_PATTERN,
      description: 'Token name, unique within its rule.',
    }),
    timelock: Type.Integer({
      minimum: 0,
      maximum: POLICY_LIMITS.maxSeconds,
      description:
        'Minimum time in seconds between the request timestamp and an approval (a multiple of 60; 0 = none).',
    }),
    timeout: Type.Integer({
      minimum: 0,
      maximum: POLICY_LIMITS.maxSeconds,
      description:
        'Maximum time in seconds between the request timestamp and an approval (a multiple of 60; ' +
        '0 = no timeout). When non-zero it must be at least the timelock.',
    }),
    groups: Type.Union(
      [
        Type.Array(SkaGroupSchema, {
          maxItems: POLICY_LIMITS.groupsPerToken,
          description: 'Groups that must all reach their quorum (AND).',
        }),
        Type.Null(),
      ],
      {
        description:
          'The groups of the token. `null` or `[]` means the token needs no approval, which makes the whole ' +
          'rule need no approval; a rule must then consist of such tokens only.',
      },
    ),
  },
  { title: 'SkaToken', description: 'One way of satisfying a rule; any token of a rule suffices (OR).' },
);

function ruleSchema(description: string) {
  return Type.Union(
    [
      Type.Object(
        {
          tokens: OptionalOrNull(
            Type.Array(SkaTokenSchema, {
              maxItems: POLICY_LIMITS.tokensPerRule,
              description: 'Alternative tokens (OR). An empty list means no approval is needed.',
            }),
            { description: 'Alternative tokens (OR); `null`, absent or `[]`: no approval is needed.' },
          ),
        },
        { title: 'SkaRule', description: 'An approval rule.' },
      ),
      Type.Null(),
    ],
    { description },
  );
}

export const SkaRuleSchema = ruleSchema('An approval rule, or `null` when the operation needs no approval.');

const rules = {
  ruleUse: Type.Optional(
    ruleSchema(
      'Rule for using the key: sign, decrypt, unwrap and certificate operations. `null` = no approval.',
    ),
  ),
  ruleBlock: Type.Optional(ruleSchema('Rule for blocking the key. `null` = no approval.')),
  ruleUnblock: Type.Optional(
    ruleSchema(
      'Rule for unblocking the key. `null` = no approval. Required when the key is created blocked.',
    ),
  ),
  ruleModify: Type.Optional(ruleSchema('Rule for modifying the policy of the key. `null` = no approval.')),
};

function keyStatusSchema(description: string) {
  return Type.Object(
    { blocked: Type.Boolean({ description: 'Whether the key is blocked (no use operations possible).' }) },
    { description },
  );
}

export const SkaKeyStatusSchema = keyStatusSchema('Status of the key.');

export const SkaPolicySchema = Type.Object(
  {
    ...rules,
    keyStatus: OptionalOrNull(keyStatusSchema('Initial key status; default not blocked.')),
  },
  {
    title: 'SkaPolicy',
    description:
      'Smart Key Attributes policy. Missing rules mean `null` (no approval needed). A non-null policy makes ' +
      'the key an SKA key, which can never be extractable.',
  },
);

export const SkaModifyPolicySchema = Type.Object(rules, {
  title: 'SkaModifyPolicy',
  description: 'New SKA policy of a key (the key status is changed through block/unblock, not here).',
});

export type SkaApprovalType = Static<typeof SkaApprovalTypeSchema>;
export type SkaApproval = Static<typeof SkaApprovalSchema>;
export type SkaGroup = Static<typeof SkaGroupSchema>;
export type SkaToken = Static<typeof SkaTokenSchema>;
export type SkaRule = Static<typeof SkaRuleSchema>;
export type SkaKeyStatus = Static<typeof SkaKeyStatusSchema>;
export type SkaPolicy = Static<typeof SkaPolicySchema>;
export type SkaModifyPolicy = Static<typeof SkaModifyPolicySchema>;
