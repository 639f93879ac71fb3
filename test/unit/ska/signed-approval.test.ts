import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyApproverSignature } from '../../../src/ska/approval-signature.js';
import { payloadDigest } from '../../../src/ska/challenge.js';
import { selfComputedChallenge } from '../../../src/ska/challenge-encoder.js';
import { parametersDigest } from '../../../src/ska/operation-parameters.js';
import { decodeSignedApproval, encodeSignedApproval } from '../../../src/ska/signed-approval.js';
import { errorOf, makeCertificate, spkiOf, tsbSample } from './helpers.js';

const SAMPLE_08_CHALLENGE = tsbSample<{ tasks: { approvalToBeSigned: string }[] }>(
  '08-filtered-sign-approval-task-response-level1.json',
).tasks[0]!.approvalToBeSigned;

const WHERE = 'signedApprovals[1]';
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = spkiOf(publicKey);
const createdAt = new Date('2026-02-03T04:05:06Z');
const key = { label: 'payments-key', id: '0f1e2d3c-4b5a-4697-8877-665544332211', version: 1 };
const challenge = selfComputedChallenge({
  operation: 'SIGN',
  key,
  payloadDigest: payloadDigest(Buffer.from('tx')),
  parametersDigest: parametersDigest('SIGN', { signatureAlgorithm: 'SHA256_WITH_ECDSA' }),
  createdAt,
});
const signature = sign('sha256', challenge, privateKey);

const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
const validFields = () => ({
  approvalToBeSigned: challenge.toString('base64'),
  signature: signature.toString('base64'),
  approvalDigestAlgorithm: 'SHA-256',
  approverPublicKey: spki.toString('base64'),
});

describe('encodeSignedApproval / decodeSignedApproval', () => {
  it('round trips with a public key; the decoded parts verify', () => {
    const entry = encodeSignedApproval({
      approvalToBeSigned: challenge,
      signature,
      approvalDigestAlgorithm: 'SHA-256',
      approverPublicKey: spki,
    });
    const decoded = decodeSignedApproval(entry, WHERE);
    expect(decoded.challengeBytes).toEqual(challenge);
    expect(decoded.signature).toEqual(signature);
    expect(decoded.digestAlgorithm).toBe('SHA-256');
    expect(decoded.challenge.content).toMatchObject({
      operation: 'SIGN',
      keyLabel: 'payments-key',
      createdAt,
    });
    expect(decoded.identity.key.spki).toEqual(spki);
    expect(decoded.identity.certificate).toBeNull();
    const { key } = decoded.identity;
    expect(
      verifyApproverSignature(key, decoded.challengeBytes, decoded.signature, decoded.digestAlgorithm),
    ).toBe(true);
  });

  it('round trips with a certificate', () => {
    const certificate = makeCertificate(spki);
    const entry = encodeSignedApproval({
      approvalToBeSigned: challenge,
      signature,
      approvalDigestAlgorithm: 'SHA-256',
      approverCertificate: certificate,
    });
    const decoded = decodeSignedApproval(entry, WHERE);
    expect(decoded.identity.certificate?.certificateFingerprint).toBeDefined();
    expect(decoded.identity.key.spki).toEqual(spki);
  });

  it('the entry is base64 of the JSON with the POST /v1/approval field names', () => {
    const entry = encodeSignedApproval({
      approvalToBeSigned: challenge,
      signature,
      approvalDigestAlgorithm: 'SHA-256',
      approverPublicKey: spki,
    });
    expect(JSON.parse(Buffer.from(entry, 'base64').toString('utf8'))).toEqual(validFields());
  });

  it('normalizes the digest name and accepts null for the absent identity field', () => {
    const entry = base64Json({
      ...validFields(),
      approvalDigestAlgorithm: 'sha256',
      approverCertificate: null,
    });
    expect(decodeSignedApproval(entry, WHERE).digestAlgorithm).toBe('SHA-256');
  });

  it('encodeSignedApproval needs exactly one of key and certificate', () => {
    const base = { approvalToBeSigned: challenge, signature, approvalDigestAlgorithm: 'SHA-256' };
    expect(errorOf(() => encodeSignedApproval(base)).errorCode).toBe(600);
    expect(
      errorOf(() => encodeSignedApproval({ ...base, approverPublicKey: spki, approverCertificate: spki }))
        .errorCode,
    ).toBe(600);
  });
});

describe('decodeSignedApproval refuses malformed entries', () => {
  const fieldsWithout = (name: string) => {
    const fields: Record<string, unknown> = validFields();
    delete fields[name];
    return fields;
  };

  it.each([
    ['not base64', 'not base64!', 600, /^signedApprovals\[1\]: a signed approval must be standard base64/],
    ['empty', '', 600, /standard base64/],
    ['base64 of non-UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'), 600, /not UTF-8 JSON/],
    ['base64 of text that is not JSON', Buffer.from('{nope').toString('base64'), 600, /not UTF-8 JSON/],
    ['a JSON array', base64Json([validFields()]), 600, /must be a JSON object/],
    ['a JSON string', base64Json('x'), 600, /must be a JSON object/],
    ['JSON null', base64Json(null), 600, /must be a JSON object/],
    [
      'no approvalToBeSigned',
      base64Json(fieldsWithout('approvalToBeSigned')),
      600,
      /approvalToBeSigned must be a string/,
    ],
    ['no signature', base64Json(fieldsWithout('signature')), 600, /\.signature must be a string/],
    [
      'no approvalDigestAlgorithm',
      base64Json(fieldsWithout('approvalDigestAlgorithm')),
      600,
      /approvalDigestAlgorithm must be a string/,
    ],
    [
      'a numeric signature',
      base64Json({ ...validFields(), signature: 12 }),
      600,
      /\.signature must be a string/,
    ],
    ['an unknown field', base64Json({ ...validFields(), id: 'task' }), 600, /unknown field\(s\) id/],
    [
      'approvalToBeSigned not base64',
      base64Json({ ...validFields(), approvalToBeSigned: '***' }),
      600,
      /approvalToBeSigned is not standard base64/,
    ],
    [
      'signature not base64',
      base64Json({ ...validFields(), signature: 'AB' }),
      600,
      /signature is not standard base64/,
    ],
    [
      'an unknown digest',
      base64Json({ ...validFields(), approvalDigestAlgorithm: 'MD5' }),
      600,
      /^signedApprovals\[1\]: digest algorithm "MD5"/,
    ],
    [
      'a TSB challenge (raw payload, no digest)',
      base64Json({ ...validFields(), approvalToBeSigned: SAMPLE_08_CHALLENGE }),
      600,
      /^signedApprovals\[1\]\.approvalToBeSigned: challenge/,
    ],
    [
      'a challenge with trailing bytes',
      base64Json({
        ...validFields(),
        approvalToBeSigned: Buffer.concat([challenge, Buffer.alloc(4)]).toString('base64'),
      }),
      600,
      /trailing bytes/,
    ],
    [
      'no key or certificate',
      base64Json(fieldsWithout('approverPublicKey')),
      600,
      /exactly one of approverPublicKey and approverCertificate/,
    ],
    [
      'both key and certificate',
      base64Json({ ...validFields(), approverCertificate: makeCertificate(spki).toString('base64') }),
      600,
      /exactly one of/,
    ],
    [
      'a key that is not base64',
      base64Json({ ...validFields(), approverPublicKey: 'MFkw?' }),
      625,
      /approverPublicKey is not standard base64/,
    ],
    [
      'a certificate that is not base64',
      base64Json({ ...fieldsWithout('approverPublicKey'), approverCertificate: 'x' }),
      626,
      /approverCertificate is not standard base64/,
    ],
    [
      'a key that is not DER',
      base64Json({ ...validFields(), approverPublicKey: 'AAAA' }),
      407,
      /^signedApprovals\[1\]\.approverPublicKey/,
    ],
    [
      'a certificate that is not DER',
      base64Json({ ...fieldsWithout('approverPublicKey'), approverCertificate: 'AAAA' }),
      409,
      /^signedApprovals\[1\]\.approverCertificate/,
    ],
    [
      'a numeric key',
      base64Json({ ...validFields(), approverPublicKey: 5 }),
      600,
      /approverPublicKey must be a string/,
    ],
  ])('%s', (_name, entry, code, message) => {
    const err = errorOf(() => decodeSignedApproval(entry, WHERE));
    expect(err.errorCode).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('a value that is not a string: 600', () => {
    expect(errorOf(() => decodeSignedApproval(42 as unknown as string, WHERE)).errorCode).toBe(600);
  });

  it('does not verify the signature (the approval gate does)', () => {
    const entry = base64Json({ ...validFields(), signature: Buffer.alloc(64, 1).toString('base64') });
    expect(decodeSignedApproval(entry, WHERE).signature).toEqual(Buffer.alloc(64, 1));
  });
});
