import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toPolicyJson } from '../../../src/ska/policy-json.js';
import {
  approverFingerprints,
  isEmptyRule,
  type NormalizedPolicy,
} from '../../../src/ska/policy-normalized.js';
import { validateModifyPolicy, validatePolicy } from '../../../src/ska/policy-validate.js';
import {
  b64,
  bitString,
  cert,
  errorOf,
  fixture,
  genSpki,
  group,
  ML_DSA_OIDS,
  makeCertificate,
  mlDsaSpki,
  oid,
  pk,
  policyWith,
  seq,
} from './helpers.js';

const now = new Date('2026-01-01T00:00:00Z');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// keys generated once
const p256 = genSpki('ec', { namedCurve: 'P-256' });
const p256b = genSpki('ec', { namedCurve: 'P-256' });
const p384 = genSpki('ec', { namedCurve: 'P-384' });
const p521 = genSpki('ec', { namedCurve: 'P-521' });
const k1 = genSpki('ec', { namedCurve: 'secp256k1' });
const ed25519 = genSpki('ed25519');
const rsa2048 = genSpki('rsa', { modulusLength: 2048 });
const rsa1024 = genSpki('rsa', { modulusLength: 1024 });
const dsa = genSpki('dsa', { modulusLength: 1024, divisorLength: 160 });
const rsaPss = genSpki('rsa-pss', { modulusLength: 2048 });
const x25519 = genSpki('x25519');
const ed448 = genSpki('ed448');
const brainpool = genSpki('ec', { namedCurve: 'brainpoolP256r1' });
const mlDsa44 = mlDsaSpki(44);
const mlDsa65 = mlDsaSpki(65);
const mlDsa87 = mlDsaSpki(87);
const ecSigner = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('reference samples', () => {
  it('sample 01 (certificate approver, expired in 2021) validates', () => {
    const policy = validatePolicy(fixture('01-create-key-ska-policy.json'), { now });
    expect(policy.ruleBlock).toBeNull();
    expect(policy.ruleUnblock).toBeNull();
    expect(policy.ruleModify).toBeNull();
    expect(policy.keyStatus).toEqual({ blocked: false });
    const approval = policy.ruleUse!.tokens[0]!.groups[0]!.approvals[0]!;
    expect(approval).toMatchObject({
      type: 'certificate',
      name: null,
      keyType: 'RSA',
      keyAlgorithm: 'RSA-2048',
    });
    expect(approval.certificate).toMatchObject({
      notBefore: '2020-05-11T14:29:07.000Z',
      notAfter: '2021-05-11T14:29:07.000Z',
    });
    expect(approval.certificate!.subject).toContain('O=Securosys');
    // fingerprint = SHA-256 of the certificate's SPKI
    expect(approval.fingerprint).toBe(sha256(Buffer.from(approval.publicKey, 'base64')));
    expect(approval.fingerprint).not.toBe(approval.certificate!.fingerprint);
    expect(isEmptyRule(policy.ruleUse)).toBe(false);
    expect(isEmptyRule(policy.ruleModify)).toBe(true);
  });

  it('sample 18 (modify, secp256k1 + P-384 approvers) validates', () => {
    const raw = fixture<Record<string, unknown>>('18-modify-policy.json');
    const modify = validateModifyPolicy(raw, { now });
    expect(modify).not.toHaveProperty('keyStatus');
    const full = validatePolicy(raw, { now });
    expect(full.keyStatus).toEqual({ blocked: false });
    const use = full.ruleUse!.tokens[0]!;
    expect(use).toMatchObject({ name: 'Token1', timelock: 0, timeout: 600 });
    expect(use.groups[0]!.approvals[0]).toMatchObject({
      keyType: 'EC',
      keyAlgorithm: 'secp256k1',
      name: 'ApproverKey1',
    });
    expect(full.ruleBlock!.tokens[0]!.groups[0]!.approvals[0]!.keyAlgorithm).toBe('P-384');
    const useFp = approverFingerprints(full.ruleUse);
    const blockFp = approverFingerprints(full.ruleBlock);
    expect(useFp).toHaveLength(1);
    expect(blockFp).toEqual(approverFingerprints(full.ruleModify));
    expect(blockFp).not.toEqual(useFp);
    expect(toPolicyJson(modify)).toEqual(raw);
  });

  it('sample 32 (empty non-null policy) validates: every rule needs no approval', () => {
    const policy = validatePolicy(fixture('32-empty-policy.json'), { now });
    expect(policy).toEqual({
      ruleUse: null,
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    });
    for (const r of [policy.ruleUse, policy.ruleBlock, policy.ruleUnblock, policy.ruleModify]) {
      expect(isEmptyRule(r)).toBe(true);
      expect(approverFingerprints(r)).toEqual([]);
    }
  });
});

describe('normalization', () => {
  it('missing rules become null, missing keyStatus becomes not blocked', () => {
    expect(validatePolicy({}, { now })).toEqual({
      ruleUse: null,
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    });
  });

  it('groups null/[] normalize to [] and make the rule approval-free', () => {
    for (const groups of [null, []]) {
      const policy = validatePolicy(policyWith(groups as unknown as unknown[]), { now });
      expect(policy.ruleUse!.tokens[0]!.groups).toEqual([]);
      expect(isEmptyRule(policy.ruleUse)).toBe(true);
    }
    expect(isEmptyRule({ tokens: [] })).toBe(true);
  });

  it('tokens null or absent (a Go nil slice) normalize to [] and make the rule approval-free', () => {
    for (const rule of [{ tokens: null }, {}]) {
      const policy = validatePolicy({ ruleUse: rule }, { now });
      expect(policy.ruleUse).toEqual({ tokens: [] });
      expect(isEmptyRule(policy.ruleUse)).toBe(true);
    }
  });

  it('drops unknown properties and strips whitespace from values', () => {
    const wrapped = b64(p256).replace(/(.{20})/g, '$1\n');
    const policy = validatePolicy(
      { extra: 1, ...policyWith([{ ...group([{ type: 'public_key', value: wrapped, foo: 'bar' }]), x: 2 }]) },
      { now },
    );
    expect(policy).not.toHaveProperty('extra');
    const approval = policy.ruleUse!.tokens[0]!.groups[0]!.approvals[0]!;
    expect(approval).not.toHaveProperty('foo');
    expect(approval.value).toBe(b64(p256));
    expect(approval.fingerprint).toBe(sha256(p256));
  });

  it('approverFingerprints de-duplicates across groups and tokens', () => {
    const policy = validatePolicy(
      policyWith([group([pk(p256), pk(p384)], 1, 'A'), group([pk(p384), pk(k1)], 2, 'B')]),
      { now },
    );
    expect(approverFingerprints(policy.ruleUse)).toEqual([sha256(p256), sha256(p384), sha256(k1)]);
  });
});

describe('supported approver keys', () => {
  const cases: [string, Buffer, string, string][] = [
    ['EC P-256', p256, 'EC', 'P-256'],
    ['EC P-384', p384, 'EC', 'P-384'],
    ['EC P-521', p521, 'EC', 'P-521'],
    ['EC secp256k1', k1, 'EC', 'secp256k1'],
    ['Ed25519', ed25519, 'ED', 'Ed25519'],
    ['RSA-2048', rsa2048, 'RSA', 'RSA-2048'],
    ['ML-DSA-44', mlDsa44, 'ML-DSA', 'ML-DSA-44'],
    ['ML-DSA-65', mlDsa65, 'ML-DSA', 'ML-DSA-65'],
    ['ML-DSA-87', mlDsa87, 'ML-DSA', 'ML-DSA-87'],
  ];
  it.each(cases)('%s public_key parses', (_label, spki, keyType, keyAlgorithm) => {
    const policy = validatePolicy(policyWith([group([pk(spki, 'A')])]), { now });
    const approval = policy.ruleUse!.tokens[0]!.groups[0]!.approvals[0]!;
    expect(approval).toMatchObject({
      type: 'public_key',
      name: 'A',
      keyType,
      keyAlgorithm,
      certificate: null,
    });
    expect(approval.fingerprint).toBe(sha256(spki));
    expect(approval.publicKey).toBe(b64(spki));
  });

  it.each(cases)('%s inside a v3 certificate parses', (_label, spki, keyType, keyAlgorithm) => {
    const der = makeCertificate(spki, { signer: ecSigner.privateKey, notAfter: '20200101000000Z' });
    const policy = validatePolicy(policyWith([group([cert(der)])]), { now });
    const approval = policy.ruleUse!.tokens[0]!.groups[0]!.approvals[0]!;
    expect(approval).toMatchObject({ type: 'certificate', keyType, keyAlgorithm });
    expect(approval.fingerprint).toBe(sha256(spki));
    expect(approval.certificate).toMatchObject({
      notBefore: '2024-01-01T00:00:00.000Z',
      notAfter: '2020-01-01T00:00:00.000Z',
      subject: 'CN=approver',
      fingerprint: sha256(der),
    });
  });

  it('a public_key and a certificate approver may share a group', () => {
    const der = makeCertificate(p384);
    const policy = validatePolicy(policyWith([group([pk(p256), cert(der)], 2)]), { now });
    expect(approverFingerprints(policy.ruleUse)).toEqual([sha256(p256), sha256(p384)]);
  });
});

type ErrorCase = [label: string, policy: unknown, errorCode: number, messagePart?: string];

const mlDsaWrongLength = seq(seq(oid(ML_DSA_OIDS[44])), bitString(Buffer.alloc(1311)));
const mlDsaWithParams = seq(seq(oid(ML_DSA_OIDS[44]), Buffer.from([5, 0])), bitString(Buffer.alloc(1312)));
const unknownOid = seq(seq(oid('1.2.3.4.5')), bitString(Buffer.alloc(32)));
const badEcPoint = seq(
  seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')),
  bitString(Buffer.alloc(65, 9)),
);

/** The P-256 key p256 with its point compressed (02/03 ‖ x) or hybrid (06/07 ‖ x ‖ y), as SEC 1 allows. */
function p256Encoded(form: 'compressed' | 'hybrid'): Buffer {
  const uncompressed = p256.subarray(-65);
  const odd = (uncompressed[64]! & 1) === 1;
  const point =
    form === 'compressed'
      ? Buffer.concat([Buffer.from([odd ? 3 : 2]), uncompressed.subarray(1, 33)])
      : Buffer.concat([Buffer.from([odd ? 7 : 6]), uncompressed.subarray(1)]);
  return seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bitString(point));
}
/** Ed25519 SubjectPublicKeyInfo of 32 raw bytes. */
const ed25519Spki = (raw: Uint8Array) => seq(seq(oid('1.3.101.112')), bitString(raw));
const ED25519_IDENTITY = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
// a point of order 8 (RFC 8032 torsion subgroup), as listed in the ZIP-215 test vectors
const ED25519_ORDER_8 = Buffer.from(
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'hex',
);

const errorCases: ErrorCase[] = [
  [
    'one EC key twice in a group, uncompressed and compressed',
    policyWith([group([pk(p256, 'a'), pk(p256Encoded('compressed'), 'b')], 2)]),
    606,
    'approvals[1]',
  ],
  [
    'one EC key twice in a group, uncompressed and hybrid',
    policyWith([group([pk(p256, 'a'), pk(p256Encoded('hybrid'), 'b')], 2)]),
    606,
    'approvals[1]',
  ],
  [
    'the Ed25519 identity point',
    policyWith([group([pk(ed25519Spki(ED25519_IDENTITY))])]),
    407,
    'small-order',
  ],
  [
    'an Ed25519 point of order 8',
    policyWith([group([pk(ed25519Spki(ED25519_ORDER_8))])]),
    407,
    'small-order',
  ],
  // 606 semantic
  [
    'quorum above number of approvals',
    policyWith([group([pk(p256)]), group([pk(p384), pk(k1)], 3, 'Group2')]),
    606,
    'policy.ruleUse.tokens[0].groups[1].quorum',
  ],
  [
    'same public key twice in a group',
    policyWith([group([pk(p256, 'a'), pk(p256, 'b')])]),
    606,
    'approvals[1]',
  ],
  [
    'same key as public_key and in a certificate',
    policyWith([group([pk(p256), cert(makeCertificate(p256))])]),
    606,
    'same approver key',
  ],
  [
    'blocked without ruleUnblock',
    policyWith([group([pk(p256)])], { keyStatus: { blocked: true } }),
    606,
    'keyStatus.blocked',
  ],
  [
    'blocked with an approval-free ruleUnblock',
    policyWith([group([pk(p256)])], { keyStatus: { blocked: true }, ruleUnblock: { tokens: [] } }),
    606,
  ],
  [
    'timelock above timeout',
    policyWith([group([pk(p256)])], {}, { timelock: 600, timeout: 300 }),
    606,
    'timelock',
  ],
  [
    'timeout not a multiple of 60',
    policyWith([group([pk(p256)])], {}, { timeout: 90 }),
    606,
    'multiple of 60',
  ],
  [
    'timelock not a multiple of 60',
    policyWith([group([pk(p256)])], {}, { timelock: 30 }),
    606,
    'multiple of 60',
  ],
  ['duplicate group names', policyWith([group([pk(p256)]), group([pk(p384)])]), 606, 'duplicate group name'],
  [
    'duplicate token names',
    {
      ruleUse: {
        tokens: [
          { name: 'T', timelock: 0, timeout: 0, groups: [group([pk(p256)])] },
          { name: 'T', timelock: 0, timeout: 0, groups: [group([pk(p384)])] },
        ],
      },
    },
    606,
    'duplicate token name',
  ],
  [
    'approval-free token mixed with an approval token',
    {
      ruleUse: {
        tokens: [
          { name: 'A', timelock: 0, timeout: 0, groups: [group([pk(p256)])] },
          { name: 'B', timelock: 0, timeout: 0, groups: [] },
        ],
      },
    },
    606,
    'tokens[1].groups',
  ],
  // 600 shape
  ['policy not an object', 'x', 600],
  ['quorum 0', policyWith([group([pk(p256)], 0)]), 600, 'quorum'],
  ['quorum not an integer', policyWith([group([pk(p256)], 1.5)]), 600, 'quorum'],
  ['empty approvals', policyWith([group([])]), 600, 'approvals'],
  ['tokens not a list', { ruleUse: { tokens: 'none' } }, 600, 'ruleUse.tokens'],
  ['null approvals (none: the quorum is unreachable)', policyWith([group(null as never)]), 606, 'quorum'],
  ['missing timeout', policyWith([group([pk(p256)])], {}, { timeout: undefined }), 600, 'timeout'],
  ['negative timelock', policyWith([group([pk(p256)])], {}, { timelock: -60 }), 600, 'timelock'],
  ['timeout above 10 years', policyWith([group([pk(p256)])], {}, { timeout: 315_360_060 }), 600, 'timeout'],
  ['unknown approval type', policyWith([group([{ type: 'PUBLIC_KEY', value: b64(p256) }])]), 600, 'type'],
  ['missing value', policyWith([group([{ type: 'public_key', name: 'x' }])]), 600, 'value'],
  ['name too long', policyWith([group([pk(p256, 'n'.repeat(129))])]), 600, 'name'],
  ['name with control character', policyWith([group([pk(p256, 'a\u0000b')])]), 600, 'control'],
  ['empty token name', policyWith([group([pk(p256)])], {}, { name: '' }), 600, 'name'],
  ['keyStatus.blocked not boolean', { keyStatus: { blocked: 'yes' } }, 600, 'blocked'],
  ['too many tokens', { ruleUse: { tokens: Array.from({ length: 17 }, () => ({})) } }, 600, 'at most 16'],
  // keys
  ['public_key not base64', policyWith([group([{ type: 'public_key', value: 'not base64!' }])]), 625],
  [
    'public_key in PEM armour',
    policyWith([
      group([
        { type: 'public_key', value: `-----BEGIN PUBLIC KEY-----\n${b64(p256)}\n-----END PUBLIC KEY-----` },
      ]),
    ]),
    625,
  ],
  ['public_key garbage DER', policyWith([group([pk(Buffer.from('hello world, not a key'))])]), 407],
  ['public_key with trailing bytes', policyWith([group([pk(Buffer.concat([p256, Buffer.from([0])]))])]), 407],
  ['public_key EC point not on curve', policyWith([group([pk(badEcPoint)])]), 407],
  ['ML-DSA-44 key of wrong length', policyWith([group([pk(mlDsaWrongLength)])]), 407, 'ML-DSA-44'],
  ['ML-DSA-44 with parameters', policyWith([group([pk(mlDsaWithParams)])]), 407, 'parameters'],
  ['DSA key', policyWith([group([pk(dsa)])]), 601, 'DSA'],
  ['RSA-1024 key', policyWith([group([pk(rsa1024)])]), 601, '1024'],
  ['RSA-PSS key', policyWith([group([pk(rsaPss)])]), 601, 'RSASSA-PSS'],
  ['X25519 key', policyWith([group([pk(x25519)])]), 601, 'X25519'],
  ['Ed448 key', policyWith([group([pk(ed448)])]), 601, 'Ed448'],
  ['brainpool EC key', policyWith([group([pk(brainpool)])]), 601, 'brainpoolP256r1'],
  ['unknown algorithm OID', policyWith([group([pk(unknownOid)])]), 601, '1.2.3.4.5'],
  // certificates
  ['certificate not base64', policyWith([group([{ type: 'certificate', value: '%%%%' }])]), 626],
  ['certificate garbage', policyWith([group([cert(Buffer.from('definitely not a certificate'))])]), 409],
  ['certificate given as public_key value', policyWith([group([cert(p256)])]), 409],
  ['certificate with DSA key', policyWith([group([cert(makeCertificate(dsa))])]), 601, 'DSA'],
  ['certificate with RSA-1024 key', policyWith([group([cert(makeCertificate(rsa1024))])]), 601, '1024'],
  ['certificate with malformed key', policyWith([group([cert(makeCertificate(mlDsaWrongLength))])]), 402],
  // onboarded approvers
  [
    'onboarded_approver_certificate',
    policyWith([group([{ type: 'onboarded_approver_certificate', name: 'alice' }])]),
    601,
    'not supported by OpenTSB',
  ],
  [
    'onboarded_approver_certificate without name',
    policyWith([group([{ type: 'onboarded_approver_certificate' }])]),
    604,
  ],
  [
    'onboarded approver mixed with public_key',
    policyWith([group([pk(p256), { type: 'onboarded_approver_certificate', name: 'alice' }])]),
    602,
  ],
];

describe('errors', () => {
  it.each(errorCases)('%s → %i', (_label, policy, errorCode, messagePart) => {
    const err = errorOf(() => validatePolicy(policy, { now }));
    expect(err.errorCode).toBe(errorCode);
    if (messagePart) expect(err.message).toContain(messagePart);
  });

  it('error paths use the given prefix', () => {
    const err = errorOf(() =>
      validatePolicy(policyWith([group([pk(p256)], 2)]), { now, path: 'modifyRequest.policy' }),
    );
    expect(err.message).toMatch(/^modifyRequest\.policy\.ruleUse\.tokens\[0\]\.groups\[0\]\.quorum: /);
  });

  it('validateModifyPolicy ignores keyStatus but enforces ruleUnblock for blocked keys', () => {
    const raw = policyWith([group([pk(p256)])], { keyStatus: { blocked: true } });
    expect(validateModifyPolicy(raw, { now })).not.toHaveProperty('keyStatus');
    expect(errorOf(() => validateModifyPolicy(raw, { now, keyBlocked: true })).errorCode).toBe(606);
    const ok = validateModifyPolicy({ ...raw, ruleUnblock: raw['ruleUse'] }, { now, keyBlocked: true });
    expect(isEmptyRule(ok.ruleUnblock)).toBe(false);
  });

  it('a blocked key with a real ruleUnblock is accepted', () => {
    const raw = policyWith([group([pk(p256)])], {
      keyStatus: { blocked: true },
      ruleUnblock: { tokens: [{ name: 'U', timelock: 60, timeout: 60, groups: [group([pk(p256b)])] }] },
    });
    const policy: NormalizedPolicy = validatePolicy(raw, { now });
    expect(policy.keyStatus.blocked).toBe(true);
  });

  it('timelock equal to timeout, and any timelock with timeout 0, are accepted', () => {
    expect(() =>
      validatePolicy(policyWith([group([pk(p256)])], {}, { timelock: 180, timeout: 180 }), { now }),
    ).not.toThrow();
    expect(() =>
      validatePolicy(policyWith([group([pk(p256)])], {}, { timelock: 600, timeout: 0 }), { now }),
    ).not.toThrow();
  });

  it('limits the total number of approvals per policy', () => {
    const approvals = Array.from({ length: 64 }, () => pk(p256));
    // the count guard fires before any parsing or duplicate check: 4 rules x 5 groups x 64 approvals = 1280 > 1024
    const groups = Array.from({ length: 5 }, (_, i) => group(approvals, 1, `G${i}`));
    const rule = { tokens: [{ name: 'T', timelock: 0, timeout: 0, groups }] };
    const err = errorOf(() =>
      validatePolicy({ ruleUse: rule, ruleBlock: rule, ruleUnblock: rule, ruleModify: rule }, { now }),
    );
    expect(err.errorCode).toBe(606);
    expect(err.message).toContain('1024');
  });
});
