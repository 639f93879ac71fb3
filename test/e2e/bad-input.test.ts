import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const attributes = { decrypt: false, sign: true, unwrap: false };
let authorization: Record<string, string>;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('inputs');
  authorization = await t.as('inputs', ['keyManagement', 'keyOperation', 'service']);
  const existing = await t.call('inputs', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: { label: 'existing', algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7', attributes },
  });
  expect(existing.statusCode).toBe(201);
});
afterAll(() => t.close());

interface BadCase {
  name: string;
  method?: 'POST' | 'GET';
  url?: string;
  raw?: string;
  body?: unknown;
  contentType?: string;
  status: number;
  errorCode: number;
  message?: RegExp;
}

const ec = (extra: object) => ({
  label: 'fresh',
  algorithm: 'EC',
  curveOid: '1.2.840.10045.3.1.7',
  attributes,
  ...extra,
});

const CASES: BadCase[] = [
  { name: 'malformed JSON', raw: '{"label": "x", ', status: 400, errorCode: 621 },
  { name: 'JSON that is not an object', raw: '[1,2,3]', status: 400, errorCode: 600 },
  { name: 'empty body', raw: '', status: 400, errorCode: 621 },
  {
    name: 'wrong content type',
    raw: 'label=x',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    errorCode: 600,
  },
  {
    name: 'missing label',
    body: { algorithm: 'AES', keySize: 128, attributes },
    status: 400,
    errorCode: 600,
    message: /label/,
  },
  {
    name: 'missing attributes',
    body: { label: 'fresh', algorithm: 'AES', keySize: 128 },
    status: 400,
    errorCode: 600,
    message: /attributes/,
  },
  {
    name: 'attribute of the wrong type',
    body: ec({ attributes: { ...attributes, sign: 'yes' } }),
    status: 400,
    errorCode: 600,
    message: /attributes\.sign/,
  },
  {
    name: 'missing required attribute',
    body: ec({ attributes: { sign: true, unwrap: false } }),
    status: 400,
    errorCode: 600,
    message: /decrypt/,
  },
  {
    name: 'keySize as a string',
    body: { label: 'fresh', algorithm: 'RSA', keySize: '2048', attributes },
    status: 400,
    errorCode: 600,
    message: /keySize/,
  },
  { name: 'label of the wrong type', body: ec({ label: 42 }), status: 400, errorCode: 600, message: /label/ },
  {
    name: 'unknown algorithm',
    body: { label: 'fresh', algorithm: 'ROT13', attributes },
    status: 400,
    errorCode: 613,
    message: /ROT13/,
  },
  {
    name: 'unknown curve OID',
    body: ec({ curveOid: '1.2.3.4.5' }),
    status: 400,
    errorCode: 600,
    message: /curve/i,
  },
  {
    name: 'curve OID that is not an OID',
    body: ec({ curveOid: 'P-256; DROP TABLE' }),
    status: 400,
    errorCode: 600,
    message: /curve/i,
  },
  {
    name: 'EC without curve',
    body: { label: 'fresh', algorithm: 'EC', attributes },
    status: 400,
    errorCode: 600,
    message: /curve/i,
  },
  {
    name: 'RSA key size too small',
    body: { label: 'fresh', algorithm: 'RSA', keySize: 512, attributes },
    status: 400,
    errorCode: 603,
  },
  {
    name: 'AES key size not offered',
    body: {
      label: 'fresh',
      algorithm: 'AES',
      keySize: 100,
      attributes: { decrypt: true, sign: false, unwrap: false },
    },
    status: 400,
    errorCode: 603,
  },
  {
    name: 'oversized label',
    body: ec({ label: 'x'.repeat(151) }),
    status: 400,
    errorCode: 600,
    message: /label/,
  },
  { name: 'label with a slash', body: ec({ label: 'a/b' }), status: 400, errorCode: 610 },
  { name: 'label with a control character', body: ec({ label: 'a\u0007b' }), status: 400, errorCode: 610 },
  { name: 'empty label', body: ec({ label: '' }), status: 400, errorCode: 600, message: /label/ },
  { name: 'duplicate label', body: ec({ label: 'existing' }), status: 409, errorCode: 608 },
  {
    name: 'no operation allowed',
    body: ec({ attributes: { decrypt: false, sign: false, unwrap: false } }),
    status: 400,
    errorCode: 606,
  },
  {
    name: 'BIP32 on an RSA key',
    body: {
      label: 'fresh',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: { ...attributes, derive: true, bip32: true },
    },
    status: 400,
    errorCode: 606,
    message: /bip32/,
  },
  {
    name: 'bip32 without derive',
    body: ec({ curveOid: '1.3.132.0.10', attributes: { ...attributes, bip32: true } }),
    status: 400,
    errorCode: 606,
  },
  {
    name: 'derive on a curve without BIP32/SLIP-10',
    body: ec({ curveOid: '1.3.132.0.34', attributes: { ...attributes, derive: true, slip10: true } }),
    status: 400,
    errorCode: 634,
  },
  {
    name: 'address format on a non-SKA key',
    body: ec({ curveOid: '1.3.132.0.10', addressFormat: { format: 'ETH' } }),
    status: 400,
    errorCode: 630,
  },
  {
    name: 'policy with quorum above the approvers',
    body: ec({
      policy: {
        ruleUse: {
          tokens: [
            {
              name: 't',
              timelock: 0,
              timeout: 60,
              groups: [
                {
                  name: 'g',
                  quorum: 2,
                  approvals: [
                    {
                      type: 'public_key',
                      value: 'MCowBQYDK2VwAyEA/GpVPSJzhsGgH4mGLxRK3h1XFh9t90hwn7NKf8RKCNA=',
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    }),
    status: 400,
    errorCode: 606,
    message: /quorum/,
  },
  {
    name: 'policy approver that is not a key',
    body: ec({
      policy: {
        ruleUse: {
          tokens: [
            {
              name: 't',
              timelock: 0,
              timeout: 60,
              groups: [{ name: 'g', quorum: 1, approvals: [{ type: 'public_key', value: 'AAAA' }] }],
            },
          ],
        },
      },
    }),
    status: 400,
    errorCode: 407,
  },
  {
    name: 'password of the wrong shape',
    body: ec({ password: ['ab', 'c'] }),
    status: 400,
    errorCode: 600,
    message: /password/,
  },
  {
    name: 'bad base64 in an import',
    url: '/v1/key/import/plain',
    body: {
      label: 'fresh',
      algorithm: 'AES',
      secretKey: 'not*base64!',
      attributes: { decrypt: true, sign: false, unwrap: false },
    },
    status: 400,
    errorCode: 625,
  },
  {
    name: 'garbage private key',
    url: '/v1/key/import/plain',
    body: {
      label: 'fresh',
      algorithm: 'EC',
      privateKey: Buffer.from('garbage').toString('base64'),
      attributes,
    },
    status: 400,
    errorCode: 407,
  },
  {
    name: 'import with nothing to import',
    url: '/v1/key/import/plain',
    body: { label: 'fresh', algorithm: 'EC', attributes },
    status: 400,
    errorCode: 600,
  },
  {
    name: 'secret key of a wrong length',
    url: '/v1/key/import/plain',
    body: {
      label: 'fresh',
      algorithm: 'AES',
      secretKey: Buffer.alloc(15).toString('base64'),
      attributes: { decrypt: true, sign: false, unwrap: false },
    },
    status: 400,
    errorCode: 603,
  },
  { name: 'random of zero bytes', method: 'GET', url: '/v1/generateRandom/0', status: 400, errorCode: 619 },
  {
    name: 'random of too many bytes',
    method: 'GET',
    url: '/v1/generateRandom/65537',
    status: 400,
    errorCode: 619,
  },
  {
    name: 'random of a non-number',
    method: 'GET',
    url: '/v1/generateRandom/abc',
    status: 400,
    errorCode: 600,
  },
  { name: 'unknown endpoint', method: 'GET', url: '/v1/nope', status: 404, errorCode: 611 },
];

describe('bad input: status, errorCode, and nothing stored', () => {
  it.each(CASES)('$name → $status / $errorCode', async (bad) => {
    const keysBefore = await t.prisma.key.findMany({ orderBy: { id: 'asc' } });
    const method = bad.method ?? 'POST';
    const response = await t.app.inject({
      method,
      url: bad.url ?? '/v1/key',
      headers: {
        ...authorization,
        ...(method === 'POST' ? { 'content-type': bad.contentType ?? 'application/json' } : {}),
      },
      ...(method === 'POST' ? { payload: bad.raw ?? JSON.stringify(bad.body) } : {}),
    });
    expect(response.statusCode).toBe(bad.status);
    const body = response.json();
    expect(body).toEqual({
      errorCode: bad.errorCode,
      reason: expect.stringMatching(/^res\.error\./),
      message: expect.any(String),
    });
    if (bad.message) expect(body.message).toMatch(bad.message);
    expect(await t.prisma.key.findMany({ orderBy: { id: 'asc' } })).toEqual(keysBefore);
  });

  it('refuses a body above the configured limit with 413', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/key',
      headers: { ...authorization, 'content-type': 'application/json' },
      payload: JSON.stringify(ec({ label: 'big', id: 'x'.repeat(2_000_000) })),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().errorCode).toBe(600);
  });

  it('never echoes key material or passwords in error messages', async () => {
    const secret = 'Q29ycmVjdEhvcnNlQmF0dGVyeVN0YXBsZQ==';
    const responses = await Promise.all([
      t.app.inject({
        method: 'POST',
        url: '/v1/key/import/plain',
        headers: authorization,
        payload: { label: 'leak', algorithm: 'EC', privateKey: secret, attributes },
      }),
      t.app.inject({
        method: 'POST',
        url: '/v1/key/attributes',
        headers: authorization,
        payload: { label: 'existing', password: 'hunter2-password' },
      }),
    ]);
    for (const response of responses) {
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.body).not.toContain(secret);
      expect(response.body).not.toContain('hunter2');
    }
  });
});
