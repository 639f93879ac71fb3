/**
 * A policy's approver keys and certificates are parsed in a worker thread before validation when there are
 * many new ones (approver-keys-pool.ts): 1,024 new approvers held the event loop for a third of a second.
 * Checked here: the work leaves the calling thread, what comes back is what node:crypto says of the same keys,
 * and validation still reports a bad value at its place.
 */
import { createHash, createPublicKey, ECDH, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  approverKeyPoolStats,
  OFF_THREAD_MIN_VALUES,
  parseApproverValuesAhead,
  shutdownApproverKeyPool,
  VALUES_PER_TASK,
} from '../../../src/ska/approver-keys-pool.js';
import { unparsedApproverValues } from '../../../src/ska/approver-values.js';
import { POLICY_LIMITS } from '../../../src/ska/policy.schema.js';
import { validatePolicy } from '../../../src/ska/policy-validate.js';
import { countEventLoopTurns } from '../../helpers/event-loop-turns.js';
import {
  b64,
  bitString,
  cert,
  errorOf,
  genSpki,
  group,
  makeCertificate,
  oid,
  pk,
  policyWith,
  seq,
} from './helpers.js';

const now = new Date('2026-01-01T00:00:00Z');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The SPKI of a P-256 key with its point compressed: approvers are named by the uncompressed form. */
function compressedP256(uncompressedSpki: Buffer): Buffer {
  const point = createPublicKey({ key: uncompressedSpki, format: 'der', type: 'spki' }).export({
    format: 'jwk',
  });
  const raw = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(point.x!, 'base64url'),
    Buffer.from(point.y!, 'base64url'),
  ]);
  return seq(
    seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')),
    bitString(ECDH.convertKey(raw, 'prime256v1', undefined, undefined, 'compressed') as Buffer),
  );
}

/** Groups of at most the per-group limit, one approval each needed. */
const groupsOf = (approvals: unknown[]) =>
  Array.from({ length: Math.ceil(approvals.length / POLICY_LIMITS.approvalsPerGroup) }, (_, i) =>
    group(
      approvals.slice(i * POLICY_LIMITS.approvalsPerGroup, (i + 1) * POLICY_LIMITS.approvalsPerGroup),
      1,
      `G${i}`,
    ),
  );

describe('parsing a big policy ahead of validation', () => {
  it('parses the new approvers in a worker while the event loop runs on, and validation finds them as node:crypto sees them', async () => {
    const ed25519 = Array.from({ length: 40 }, () => genSpki('ed25519'));
    const p256 = Array.from({ length: 24 }, () => genSpki('ec', { namedCurve: 'P-256' }));
    const rsa = Array.from({ length: 8 }, () => genSpki('rsa', { modulusLength: 2048 }));
    const certified = Array.from({ length: 16 }, () => genSpki('ec', { namedCurve: 'P-384' }));
    const certificates = certified.map((spki, i) => makeCertificate(spki, { cn: `approver ${i}` }));
    const approvals = [
      ...ed25519.map((spki) => pk(spki)),
      ...p256.map((spki) => pk(compressedP256(spki))),
      ...rsa.map((spki) => pk(spki)),
      ...certificates.map((der) => cert(der)),
    ];
    const policy = policyWith(groupsOf(approvals));
    expect(unparsedApproverValues(policy)).toHaveLength(approvals.length);

    const before = approverKeyPoolStats();
    const turns = countEventLoopTurns();
    await parseApproverValuesAhead(policy);
    expect(turns.stop(), 'event-loop turns while the worker parsed').toBeGreaterThan(0);
    const after = approverKeyPoolStats();
    expect(after.worker - before.worker).toBe(Math.ceil(approvals.length / VALUES_PER_TASK));
    expect(after.inline).toBe(before.inline);
    expect(unparsedApproverValues(policy)).toEqual([]);

    const parsed = validatePolicy(policy, { now }).ruleUse!.tokens[0]!.groups.flatMap((g) => g.approvals);
    const expectedSpki = [...ed25519, ...p256, ...rsa, ...certified];
    expect(parsed.map((a) => a.publicKey)).toEqual(expectedSpki.map(b64));
    expect(parsed.map((a) => a.fingerprint)).toEqual(expectedSpki.map(sha256));
    expect(parsed.map((a) => a.keyAlgorithm)).toEqual([
      ...ed25519.map(() => 'Ed25519'),
      ...p256.map(() => 'P-256'),
      ...rsa.map(() => 'RSA-2048'),
      ...certified.map(() => 'P-384'),
    ]);
    parsed.slice(-certificates.length).forEach((approval, i) => {
      const x509 = new X509Certificate(certificates[i]!);
      expect(approval.certificate).toEqual({
        notBefore: new Date(x509.validFrom).toISOString(),
        notAfter: new Date(x509.validTo).toISOString(),
        subject: x509.subject,
        issuer: x509.issuer,
        fingerprint: sha256(certificates[i]!),
      });
    });
  });

  it('leaves a bad value to validation, which names its place', async () => {
    const good = Array.from({ length: 20 }, () => pk(genSpki('ed25519')));
    const smallOrder = seq(seq(oid('1.3.101.112')), bitString(Buffer.alloc(32)));
    const notAKey = Buffer.from('3003020101', 'hex');
    const approvals = [
      ...good.slice(0, 5),
      pk(notAKey),
      ...good.slice(5, 12),
      pk(smallOrder),
      ...good.slice(12),
    ];
    const policy = policyWith([group(approvals)]);
    const before = approverKeyPoolStats();
    await parseApproverValuesAhead(policy);
    expect(approverKeyPoolStats().worker).toBeGreaterThan(before.worker);
    expect(unparsedApproverValues(policy).map((value) => b64(value.der))).toEqual([
      b64(notAKey),
      b64(smallOrder),
    ]);

    const error = errorOf(() => validatePolicy(policy, { now }));
    expect(error.kind).toBe('PARSING_KEY');
    expect(error.message).toContain('policy.ruleUse.tokens[0].groups[0].approvals[5].value');
    const withoutFirst = policyWith([group(approvals.filter((_, i) => i !== 5))]);
    const second = errorOf(() => validatePolicy(withoutFirst, { now }));
    expect(second.kind).toBe('PARSING_KEY');
    expect(second.message).toContain('approvals[12].value');
    expect(second.message).toContain('small-order');
  });

  it('parses each new value once, and nothing of a policy too big to be valid', async () => {
    const keys = Array.from({ length: OFF_THREAD_MIN_VALUES }, () => genSpki('ec', { namedCurve: 'P-256' }));
    const repeated = Array.from({ length: 5 }, () => keys.map((spki) => pk(spki))).flat();
    expect(unparsedApproverValues(policyWith(groupsOf(repeated)))).toHaveLength(keys.length);

    const one = pk(genSpki('ed25519'));
    const limit = POLICY_LIMITS.approvalsPerPolicy;
    expect(unparsedApproverValues(policyWith(groupsOf(Array(limit).fill(one))))).toHaveLength(1);
    const oversized = policyWith(groupsOf(Array(limit + 1).fill(one)));
    expect(unparsedApproverValues(oversized)).toEqual([]);
    expect(errorOf(() => validatePolicy(oversized, { now })).kind).toBe('KEY_ATTRIBUTES_INVALID');

    const before = approverKeyPoolStats();
    await parseApproverValuesAhead(policyWith(groupsOf(repeated)));
    expect(approverKeyPoolStats().worker - before.worker).toBe(1);
  });

  it('a pool shut down meanwhile leaves the parsing to validation, which still succeeds', async () => {
    const keys = Array.from({ length: 2 * VALUES_PER_TASK }, () => genSpki('ed25519'));
    const policy = policyWith(groupsOf(keys.map((spki) => pk(spki))));
    const ahead = parseApproverValuesAhead(policy);
    await shutdownApproverKeyPool();
    await expect(ahead).resolves.toBeUndefined();
    const parsed = validatePolicy(policy, { now }).ruleUse!.tokens[0]!.groups.flatMap((g) => g.approvals);
    expect(parsed.map((a) => a.fingerprint)).toEqual(keys.map(sha256));
  });

  it('a value parsed ahead as one type does not pass as the other: a certificate named as a public key, a key as a certificate', async () => {
    const keys = Array.from({ length: OFF_THREAD_MIN_VALUES }, () => genSpki('ed25519'));
    const certificate = makeCertificate(genSpki('ec', { namedCurve: 'P-256' }));
    // both parse ahead as what they are: the key as a key, the certificate as a certificate
    const honest = policyWith([group([...keys.map((spki) => pk(spki)), cert(certificate)])]);
    await parseApproverValuesAhead(honest);
    expect(unparsedApproverValues(honest)).toEqual([]);
    validatePolicy(honest, { now });

    const keyAsCertificate = policyWith([group([...keys.slice(1).map((spki) => pk(spki)), cert(keys[0]!)])]);
    await parseApproverValuesAhead(keyAsCertificate);
    const asCertificate = errorOf(() => validatePolicy(keyAsCertificate, { now }));
    expect([asCertificate.kind, asCertificate.errorCode]).toEqual(['PARSING_CERTIFICATE', 409]);

    const certificateAsKey = policyWith([group([...keys.map((spki) => pk(spki)), pk(certificate)])]);
    await parseApproverValuesAhead(certificateAsKey);
    const asKey = errorOf(() => validatePolicy(certificateAsKey, { now }));
    expect([asKey.kind, asKey.errorCode]).toEqual(['PARSING_KEY', 407]);
  });
});
