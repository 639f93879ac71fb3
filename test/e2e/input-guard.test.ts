/**
 * Issue 12, finding 9: text that has no UTF-8 form (an unpaired UTF-16 surrogate, which the JSON escape
 * "\ud800" makes) is refused with a TSB 400 wherever it comes in, a body string, a property name, a path or
 * query parameter, instead of reaching PostgreSQL (500) or being stored as U+FFFD.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUnstorable, nestsDeeperThan } from '../../src/http/input-guard.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'guarded';
let t: TestContext;
let headers: Record<string, string>;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  headers = await t.as(P, ['keyManagement', 'keyOperation', 'service']);
  const key = await t.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'fz-rsa',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
  });
  expect(key.statusCode, key.body).toBe(201);
});
afterAll(() => t?.close());

const stored = async () => ({
  requests: await t.prisma.skaRequest.count(),
  keys: await t.prisma.key.count(),
});

const postRaw = (url: string, payload: string) =>
  t.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload });

describe('unpaired surrogates', () => {
  it('the fuzz finding: POST /v1/unblock with metaData "\\ud800" is a TSB 400, nothing stored', async () => {
    const before = await stored();
    const response = await postRaw(
      '/v1/unblock',
      '{"unblockRequest":{"unblockKeyName":"fz-rsa","keyPassword":null,"metaData":"\\ud800"}}',
    );
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({
      errorCode: 600,
      reason: 'res.error.input.validation.failed',
      message: 'body unblockRequest.metaData: an unpaired surrogate (\\ud800)',
    });
    expect(await stored()).toEqual(before);
  });

  it.each([
    ['a key label', '/v1/key', '{"label":"a\\udc00","algorithm":"AES","keySize":256,"attributes":{}}'],
    ['a key name', '/v1/block', '{"blockRequest":{"blockKeyName":"fz-rsa\\ud800"}}'],
    ['a password', '/v1/block', '{"blockRequest":{"blockKeyName":"fz-rsa","keyPassword":"\\udfff"}}'],
    [
      'a string in an array',
      '/v1/block',
      '{"blockRequest":{"blockKeyName":"fz-rsa","keyPassword":["\\ud800"]}}',
    ],
    ['an unknown field', '/v1/unblock', '{"unblockRequest":{"unblockKeyName":"fz-rsa","x":{"y":"\\ud800"}}}'],
    ['a property name', '/v1/unblock', '{"unblockRequest":{"unblockKeyName":"fz-rsa","\\ud800":1}}'],
    [
      'a reversed pair',
      '/v1/unblock',
      '{"unblockRequest":{"unblockKeyName":"fz-rsa","metaData":"\\udc00\\ud800"}}',
    ],
  ])('in %s is a TSB 400', async (_where, url, payload) => {
    const before = await stored();
    const response = await postRaw(url, payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({
      errorCode: 600,
      message: expect.stringMatching(/unpaired surrogate/),
    });
    expect(await stored()).toEqual(before);
  });

  it('a surrogate pair (an emoji written as two escapes) is text like any other', async () => {
    const response = await postRaw(
      '/v1/key',
      '{"label":"rocket \\ud83d\\ude80","algorithm":"AES","keySize":256,"attributes":{"decrypt":true,"sign":false,"unwrap":false}}',
    );
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().json.label).toBe('rocket 🚀');
  });

  it('in a path or query parameter, where it can arrive only as broken UTF-8, is never a 500', async () => {
    for (const url of [
      '/v1/key/%ED%A0%80/attributes',
      '/v1/request/%ED%A0%80',
      '/v1/versionInfo?x=%ED%A0%80',
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers });
      expect(response.statusCode, response.body).toBeLessThan(500);
      if (response.statusCode >= 400) expect(response.json().errorCode).toBeTypeOf('number');
    }
  });
});

describe('the checks themselves', () => {
  it('finds the first unstorable string with its path, and passes paired surrogates', () => {
    expect(findUnstorable({ a: [{ b: 'ok' }, { c: 'x\ud800' }] })).toBe(
      'a[1].c: an unpaired surrogate (\\ud800)',
    );
    expect(findUnstorable({ a: 'x\u0000' })).toBe('a: the NUL character (\\u0000)');
    expect(findUnstorable({ a: '😀', b: ['é', 1, null, true] })).toBeNull();
    expect(findUnstorable('\udfff')).toBe('value: an unpaired surrogate (\\udfff)');
  });

  it('measures nesting outside strings, with escaped quotes', () => {
    expect(nestsDeeperThan('[[[]]]', 3)).toBe(false);
    expect(nestsDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":"[[[[[[\\"[[[[["}', 1)).toBe(false);
    expect(nestsDeeperThan('{"a":"\\\\","b":[[[]]]}', 3)).toBe(true);
  });
});
