import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  approverIdentity,
  certificateValidAt,
  checkTimestampFreshness,
  DEFAULT_FRESHNESS_WINDOW,
  parseIsoTimestamp,
  verifyTimestampProof,
} from '../../../src/ska/timestamp-proof.js';
import { b64, errorOf, makeCertificate, rejectionOf, spkiOf, tsbSample } from './helpers.js';

const SAMPLE_07 = tsbSample('07-filtered-sign-approval-task-request.json');
const SAMPLE_20 = tsbSample('20-filtered-modify-task-request-level5.json');
const WINDOW = DEFAULT_FRESHNESS_WINDOW;

const plusSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);
const proofOf = (body: Record<string, string>) => ({
  timestamp: body['timestamp']!,
  timestampSignature: body['timestampSignature']!,
  timestampDigestAlgorithm: body['timestampDigestAlgorithm']!,
});

describe('verifyTimestampProof on the TSB samples', () => {
  const cases = [
    ['07 (RSA certificate)', SAMPLE_07, new Date('2023-10-30T17:30:24Z')],
    ['20 (P-384 public key)', SAMPLE_20, new Date('2024-08-14T18:02:58Z')],
  ] as const;

  it.each(cases)('sample %s verifies at its own time and up to 600 s later', async (_name, body, time) => {
    const { key } = approverIdentity(body, 'body');
    expect(await verifyTimestampProof(proofOf(body), key, time, WINDOW)).toEqual(time);
    expect(await verifyTimestampProof(proofOf(body), key, plusSeconds(time, 600), WINDOW)).toEqual(time);
  });

  it.each(cases)('sample %s is refused with 404 at +601 s', async (_name, body, time) => {
    const { key } = approverIdentity(body, 'body');
    const err = await rejectionOf(() =>
      verifyTimestampProof(proofOf(body), key, plusSeconds(time, 601), WINDOW),
    );
    expect(err.errorCode).toBe(404);
    expect(err.statusCode).toBe(401);
    expect(err.message).toMatch(/is 601 s in the past .*at most 600 s in the past and 0 s in the future/);
  });

  it.each(cases)('sample %s is refused with 404 when it is 1 s in the future', async (_name, body, time) => {
    const { key } = approverIdentity(body, 'body');
    const err = await rejectionOf(() =>
      verifyTimestampProof(proofOf(body), key, plusSeconds(time, -1), WINDOW),
    );
    expect(err.errorCode).toBe(404);
    expect(err.message).toMatch(/1 s in the future/);
  });

  it('a bad signature is 403', async () => {
    const { key } = approverIdentity(SAMPLE_07, 'body');
    const signature = Buffer.from(SAMPLE_07['timestampSignature']!, 'base64');
    signature[10]! ^= 1;
    const proof = { ...proofOf(SAMPLE_07), timestampSignature: signature.toString('base64') };
    const err = await rejectionOf(() =>
      verifyTimestampProof(proof, key, new Date('2023-10-30T17:30:24Z'), WINDOW),
    );
    expect(err.errorCode).toBe(403);
    expect(err.kind).toBe('INVALID_SIGNATURE');
  });

  it('the signature covers the timestamp text exactly as sent, not the instant', async () => {
    const { key } = approverIdentity(SAMPLE_07, 'body');
    const proof = { ...proofOf(SAMPLE_07), timestamp: '2023-10-30T17:30:24Z' };
    const err = await rejectionOf(() =>
      verifyTimestampProof(proof, key, new Date('2023-10-30T17:30:24Z'), WINDOW),
    );
    expect(err.errorCode).toBe(403);
  });

  it('another approver key is 403', async () => {
    const { key } = approverIdentity(SAMPLE_20, 'body');
    const err = await rejectionOf(() =>
      verifyTimestampProof(proofOf(SAMPLE_07), key, new Date('2023-10-30T17:30:24Z'), WINDOW),
    );
    expect(err.errorCode).toBe(403);
  });

  it('a syntax error is 600 and checked before freshness; freshness before the signature', async () => {
    const { key } = approverIdentity(SAMPLE_07, 'body');
    const now = new Date('2023-10-30T17:30:24Z');
    const check = async (proof: Partial<ReturnType<typeof proofOf>>, at = now) =>
      (await rejectionOf(() => verifyTimestampProof({ ...proofOf(SAMPLE_07), ...proof }, key, at, WINDOW)))
        .errorCode;
    expect(await check({ timestamp: '2023-10-30T17:30:24' })).toBe(600);
    expect(await check({ timestampSignature: 'AAAA' }, plusSeconds(now, 3600))).toBe(404);
    expect(await check({ timestampSignature: 'not base64!' })).toBe(600);
    expect(await check({ timestampDigestAlgorithm: 'MD5' })).toBe(600);
  });

  it('works with a freshly signed timestamp of a node key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const { key } = approverIdentity({ approverPublicKey: b64(spkiOf(publicKey)) }, 'body');
    const timestamp = '2026-05-01T10:00:00.250+02:00';
    const timestampSignature = sign(null, Buffer.from(timestamp), privateKey).toString('base64');
    const proof = { timestamp, timestampSignature, timestampDigestAlgorithm: 'EdDSA' };
    expect(
      (await verifyTimestampProof(proof, key, new Date('2026-05-01T08:05:00Z'), WINDOW)).toISOString(),
    ).toBe('2026-05-01T08:00:00.250Z');
  });
});

describe('parseIsoTimestamp', () => {
  it.each([
    ['2023-10-30T17:30:24+00:00', '2023-10-30T17:30:24.000Z'],
    ['2024-08-14T20:02:58+02:00', '2024-08-14T18:02:58.000Z'],
    ['2024-08-14T20:02:58-05:30', '2024-08-15T01:32:58.000Z'],
    ['2024-08-14T20:02:58-00:00', '2024-08-14T20:02:58.000Z'],
    ['2023-10-30T17:30:24Z', '2023-10-30T17:30:24.000Z'],
    ['2023-10-30T17:30:24.123Z', '2023-10-30T17:30:24.123Z'],
    ['2023-10-30T17:30:24.1Z', '2023-10-30T17:30:24.100Z'],
    ['2023-10-30T17:30:24.123456789+01:00', '2023-10-30T16:30:24.123Z'],
    ['2024-02-29T23:59:59+23:59', '2024-02-29T00:00:59.000Z'],
    ['2000-01-01T00:00:00Z', '2000-01-01T00:00:00.000Z'],
  ])('accepts %s', (text, iso) => {
    expect(parseIsoTimestamp(text).toISOString()).toBe(iso);
  });

  it.each([
    '2023-10-30',
    '2023-10-30T17:30:24',
    '2023-10-30T17:30Z',
    '2023-10-30 17:30:24Z',
    '2023-10-30t17:30:24z',
    '2023-10-30T17:30:24.Z',
    '2023-10-30T17:30:24.1234567890Z',
    '2023-10-30T17:30:24+0200',
    '2023-10-30T17:30:24+02',
    '2023-10-30T17:30:24+24:00',
    '2023-10-30T17:30:24+02:60',
    '2023-02-29T00:00:00Z',
    '2023-04-31T00:00:00Z',
    '2023-13-01T00:00:00Z',
    '2023-00-10T00:00:00Z',
    '2023-10-30T24:00:00Z',
    '2023-10-30T17:60:00Z',
    '2023-10-30T17:30:60Z',
    ' 2023-10-30T17:30:24Z',
    '2023-10-30T17:30:24Z ',
    '2023-10-30T17:30:24Z\n',
    '+02023-10-30T17:30:24Z',
    '1698687024',
    'garbage',
    '',
  ])('refuses %j with 600', (text) => {
    const err = errorOf(() => parseIsoTimestamp(text));
    expect(err.errorCode).toBe(600);
  });

  it('refuses a value that is not a string with 600', () => {
    expect(errorOf(() => parseIsoTimestamp(1698687024 as unknown as string)).errorCode).toBe(600);
    expect(errorOf(() => parseIsoTimestamp(null as unknown as string)).errorCode).toBe(600);
  });
});

describe('checkTimestampFreshness', () => {
  const now = new Date('2026-01-01T12:00:00.000Z');
  const ok =
    (timestamp: Date, window = WINDOW) =>
    () =>
      checkTimestampFreshness(timestamp, now, window);
  const off = (timestamp: Date, window = WINDOW) => errorOf(ok(timestamp, window)).errorCode;

  it('the past bound is exact (ms)', () => {
    expect(ok(plusSeconds(now, -600))).not.toThrow();
    expect(off(plusSeconds(now, -600.001))).toBe(404);
  });

  it('the future bound is in whole seconds: within the current second is accepted', () => {
    expect(ok(plusSeconds(now, 0.999))).not.toThrow();
    expect(off(plusSeconds(now, 1))).toBe(404);
    const late = new Date('2026-01-01T12:00:00.700Z');
    expect(() => checkTimestampFreshness(new Date('2026-01-01T12:00:00.999Z'), late, WINDOW)).not.toThrow();
    expect(errorOf(() => checkTimestampFreshness(plusSeconds(late, 0.3), late, WINDOW)).errorCode).toBe(404);
  });

  it('uses the configured window', () => {
    const window = { pastSeconds: 60, futureSeconds: 5 };
    expect(ok(plusSeconds(now, 5), window)).not.toThrow();
    expect(off(plusSeconds(now, 6), window)).toBe(404);
    expect(ok(plusSeconds(now, -60), window)).not.toThrow();
    expect(off(plusSeconds(now, -61), window)).toBe(404);
  });

  it('says how far off and the allowed window', () => {
    const err = errorOf(ok(plusSeconds(now, 30)));
    expect(err.kind).toBe('TIMESTAMP_OFF');
    expect(err.reason).toBe('res.error.input.timestamp.off');
    expect(err.message).toBe(
      'timestamp 2026-01-01T12:00:30.000Z is 30 s in the future of the server time 2026-01-01T12:00:00.000Z; ' +
        'accepted: at most 600 s in the past and 0 s in the future',
    );
  });
});

describe('approverIdentity', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = spkiOf(publicKey);
  const certificate = makeCertificate(spki, { notBefore: '250101000000Z', notAfter: '20261231235959Z' });
  const codeOf = (input: Parameters<typeof approverIdentity>[0]) =>
    errorOf(() => approverIdentity(input, 'signedApprovals[1]'));

  it('a public key gives the key and no certificate', () => {
    const identity = approverIdentity({ approverPublicKey: b64(spki), approverCertificate: null }, 'body');
    expect(identity.key.keyAlgorithm).toBe('P-256');
    expect(identity.key.spki).toEqual(spki);
    expect(identity.certificate).toBeNull();
  });

  it('a certificate gives its key (same fingerprint) and the certificate', () => {
    const identity = approverIdentity({ approverCertificate: b64(certificate) }, 'body');
    const byKey = approverIdentity({ approverPublicKey: b64(spki) }, 'body');
    expect(identity.key.fingerprint).toBe(byKey.key.fingerprint);
    expect(identity.certificate?.notAfter).toBe('2026-12-31T23:59:59.000Z');
  });

  it('exactly one of the two: 600', () => {
    for (const input of [
      {},
      { approverPublicKey: null, approverCertificate: null },
      { approverPublicKey: b64(spki), approverCertificate: b64(certificate) },
    ]) {
      const err = codeOf(input);
      expect(err.errorCode).toBe(600);
      expect(err.message).toMatch(
        /^signedApprovals\[1\]: exactly one of approverPublicKey and approverCertificate/,
      );
    }
  });

  it('bad base64: 625 for a key, 626 for a certificate', () => {
    expect(codeOf({ approverPublicKey: 'not base64' }).errorCode).toBe(625);
    expect(codeOf({ approverPublicKey: '' }).errorCode).toBe(625);
    expect(codeOf({ approverCertificate: 'QUJD=' }).errorCode).toBe(626);
  });

  it('undecodable DER: 407 for a key, 409 for a certificate; messages name the field', () => {
    const key = codeOf({ approverPublicKey: 'AAAA' });
    expect(key.errorCode).toBe(407);
    expect(key.message).toMatch(/^signedApprovals\[1\]\.approverPublicKey/);
    expect(codeOf({ approverCertificate: 'AAAA' }).errorCode).toBe(409);
  });

  it('an unsupported key type: 601', () => {
    const x25519 = generateKeyPairSync('x25519').publicKey;
    expect(codeOf({ approverPublicKey: b64(spkiOf(x25519)) }).errorCode).toBe(601);
  });
});

describe('certificateValidAt', () => {
  const certificate = approverIdentity(SAMPLE_07, 'body').certificate!;

  it('includes both bounds of the validity period', () => {
    expect(certificate.notBefore).toBe('2023-10-30T15:22:10.000Z');
    expect(certificate.notAfter).toBe('2024-10-29T15:22:10.000Z');
    expect(certificateValidAt(certificate, new Date('2023-10-30T15:22:10Z'))).toBe(true);
    expect(certificateValidAt(certificate, new Date('2024-10-29T15:22:10Z'))).toBe(true);
    expect(certificateValidAt(certificate, new Date('2023-10-30T15:22:09.999Z'))).toBe(false);
    expect(certificateValidAt(certificate, new Date('2024-10-29T15:22:10.001Z'))).toBe(false);
  });
});
