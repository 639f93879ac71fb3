/**
 * Issue 12, finding 6: what a client adds to a workflow request beyond the schema is neither stored nor
 * shown to approvers, and a body nested deeper than the service takes is a TSB 400 on every route, not a
 * 500 (a 4,400-level unknown field overflowed the stack when the request was stored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../../src/http/input-guard.js';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule } from '../../helpers/approvers.js';
import {
  asyncRequest,
  b64,
  createSkaKey,
  expectTsbError,
  openTasks,
  policyOf,
  workflowContext,
} from './fixtures.js';

const P = 'unknown-fields';
const approver = createApprover('P-256');
const gated = rule([{ quorum: 1, approvers: [approver] }]);

let ctx: TestContext;
beforeAll(async () => {
  ctx = await workflowContext(P, { worker: false });
  await createSkaKey(ctx, P, 'gated', {
    ruleUse: gated,
    ruleBlock: gated,
    ruleUnblock: gated,
    ruleModify: gated,
  });
});
afterAll(() => ctx?.close());

/** `{"x":{"x":…{"x":1}…}}`, `levels` objects deep */
const nested = (levels: number): string => `${'{"x":'.repeat(levels - 1)}{"x":1}${'}'.repeat(levels - 1)}`;

const ROUTES: Array<{
  url: string;
  wrapper: string;
  inner: Record<string, unknown>;
  roles?: 'keyManagement';
}> = [
  {
    url: '/v1/sign',
    wrapper: 'signRequest',
    inner: { payload: b64('pay'), signKeyName: 'gated', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
  },
  { url: '/v1/block', wrapper: 'blockRequest', inner: { blockKeyName: 'gated' } },
  { url: '/v1/unblock', wrapper: 'unblockRequest', inner: { unblockKeyName: 'gated' } },
  {
    url: '/v1/modify',
    wrapper: 'modifyRequest',
    inner: { modifyKeyName: 'gated', policy: { ...policyOf({ ruleUse: gated }), keyStatus: undefined } },
    roles: 'keyManagement',
  },
  {
    url: '/v1/certificate/selfsign',
    wrapper: 'selfSignCertificateRequest',
    inner: { signKeyName: 'gated', signatureAlgorithm: 'SHA256_WITH_ECDSA', validity: 30, commonName: 'x' },
  },
];

/** The route's valid body with `{"junk": <deep>}` in its inner request, as raw JSON. */
const withDeepJunk = (route: (typeof ROUTES)[number], levels: number): string => {
  const inner = JSON.stringify(route.inner);
  return `{"${route.wrapper}":${inner.slice(0, -1)},"junk":${nested(levels)}}}`;
};

const post = (route: (typeof ROUTES)[number], payload: string) =>
  ctx.app.inject({
    method: 'POST',
    url: route.url,
    headers: { 'content-type': 'application/json' },
    payload,
  });

describe('deeply nested bodies', () => {
  it.each(ROUTES)(
    '$url: an unknown field 5,000 or 100 levels deep is a TSB 400, nothing stored',
    async (route) => {
      const headers = await ctx.as(P, [route.roles ?? 'keyOperation']);
      for (const levels of [5_000, 100, MAX_JSON_DEPTH]) {
        const before = await ctx.prisma.skaRequest.count();
        const response = await ctx.app.inject({
          method: 'POST',
          url: route.url,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: withDeepJunk(route, levels),
        });
        expectTsbError(response, 400, 600);
        expect(response.json()).toEqual({
          errorCode: 600,
          reason: 'res.error.input.validation.failed',
          message: `the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
        });
        expect(await ctx.prisma.skaRequest.count()).toBe(before);
      }
    },
  );

  it('takes a body at the depth limit (and a "{" or "[" inside a string does not count)', async () => {
    const route = ROUTES[0]!;
    const headers = await ctx.as(P, ['keyOperation']);
    const inner = JSON.stringify({ ...route.inner, junk: '[[[[{{{{'.repeat(10) });
    for (const payload of [withDeepJunk(route, MAX_JSON_DEPTH - 2), `{"signRequest":${inner}}`]) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: route.url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode, response.body).toBe(201);
    }
  });

  it('answers without credentials too with the depth refusal or 401, never a 500', async () => {
    const response = await post(ROUTES[0]!, withDeepJunk(ROUTES[0]!, 5_000));
    expect([400, 401]).toContain(response.statusCode);
    expect(response.json().errorCode).toBeTypeOf('number');
  });
});

describe('unknown fields of an accepted request', () => {
  it('are neither stored nor shown to approvers (task at level 5, and the database row)', async () => {
    const inner = {
      payload: b64('pay 100 CHF'),
      signKeyName: 'gated',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      metaData: b64('invoice 7'),
      injected: 'IGNORE ALL PREVIOUS RULES',
      nested: { a: { b: ['c'] } },
    };
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/sign',
      { signRequest: inner, requestSignature: null, topLevelExtra: { x: 1 } },
      'signRequestId',
    );
    const known = {
      payload: inner.payload,
      signKeyName: 'gated',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      metaData: inner.metaData,
    };
    const row = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    expect(row.body).toEqual(known);

    const [task] = (await openTasks(ctx, P, approver, new Date(), {
      requestId: id,
      detailLevel: 'level5',
    })) as Array<Record<string, unknown>>;
    expect(task).toBeDefined();
    expect(task!['signedSignRequest']).toEqual({ signRequest: known, requestSignature: null });
    const echoed = Buffer.from(String(task!['requestBase64']), 'base64').toString('utf8');
    for (const text of [JSON.stringify(task), echoed]) {
      expect(text).not.toContain('injected');
      expect(text).not.toContain('IGNORE ALL');
      expect(text).not.toContain('nested');
      expect(text).not.toContain('topLevelExtra');
    }
  });

  it('a signKeyObject (not supported) is refused when the request is made, not stored to fail later', async () => {
    const headers = await ctx.as(P, ['keyOperation']);
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/sign',
      headers,
      payload: { signRequest: { ...ROUTES[0]!.inner, signKeyObject: { anything: [1, 2, 3] } } },
    });
    expectTsbError(response, 400, 611);
  });
});
