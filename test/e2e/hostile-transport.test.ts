/**
 * Hostile clients on a real listener: too slow to send headers or body, bodies over the limit (also without a
 * Content-Length), deeply nested JSON, and parameters longer than the router takes. The service answers
 * each with its TSB error (or cuts the connection off in time) and keeps serving everyone else.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const REQUEST_TIMEOUT_MS = 1_000;
const BODY_LIMIT = 300_000;
let t: TestContext;
let port: number;
let headers: Record<string, string>;

beforeAll(async () => {
  t = await createTestContext({
    env: { TSB_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), TSB_BODY_LIMIT_BYTES: String(BODY_LIMIT) },
  });
  await t.partition('hostile');
  headers = await t.as('hostile', ['keyOperation', 'keyManagement', 'service']);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  port = address.port;
});
afterAll(() => t?.close());

/** Writes `chunks` on a raw connection and answers what came back and how long until the server closed it. */
function rawExchange(
  chunks: string[],
  giveUpMs = 10_000,
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on('data', (data) => {
      response += data.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
  });
}

async function errorCodeOf(response: Response): Promise<unknown> {
  return ((await response.json()) as { errorCode?: unknown }).errorCode;
}

async function stillServes(): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/versionInfo`, { headers });
  expect(response.status).toBe(200);
}

describe('slow clients', () => {
  it('cuts off a client that never finishes its headers', async () => {
    const { response, closedAfterMs } = await rawExchange(['GET /v1/versionInfo HTTP/1.1\r\nHost: x\r\n']);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    await stillServes();
  });

  it('cuts off a client that announces a body and stops sending it', async () => {
    const { response, closedAfterMs } = await rawExchange([
      'POST /v1/synchronousSign HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: ${headers.authorization}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"signRequest":`,
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    await stillServes();
  });
});

describe('oversized and deep bodies', () => {
  it('answers 413 with the TSB body to a body over the limit, with and without Content-Length', async () => {
    const big = JSON.stringify({ signRequest: { payload: 'A'.repeat(BODY_LIMIT * 2) } });
    const withLength = await fetch(`http://127.0.0.1:${port}/v1/synchronousSign`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: big,
    });
    expect(withLength.status).toBe(413);
    expect(await withLength.json()).toMatchObject({
      errorCode: 600,
      reason: 'res.error.input.validation.failed',
    });

    const chunked = await rawExchange([
      'POST /v1/synchronousSign HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
        `Authorization: ${headers.authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`,
    ]);
    expect(chunked.response).toMatch(/^HTTP\/1\.1 413/);
    expect(chunked.response).toContain('"errorCode":600');
    await stillServes();
  });

  it('answers 400 to JSON nested 100,000 deep, at the top and inside a field', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(deep.length * 1.01 + 100).toBeLessThan(BODY_LIMIT);
    for (const body of [
      deep,
      `{"label":"deep","algorithm":"AES","keySize":256,"attributes":{},"policy":${deep}}`,
    ]) {
      const response = await fetch(`http://127.0.0.1:${port}/v1/key`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBeTypeOf('number');
    }
    await stillServes();
  });

  it('answers a path parameter past the router limit with a TSB 414, and a label of 150 characters normally', async () => {
    const long = await fetch(`http://127.0.0.1:${port}/v1/key/${'x'.repeat(2_000)}/attributes`, { headers });
    expect(long.status).toBe(414);
    expect(await errorCodeOf(long)).toBe(600);
    const label = await fetch(`http://127.0.0.1:${port}/v1/key/${'x'.repeat(150)}/attributes`, { headers });
    expect(label.status).toBe(404);
    expect(await errorCodeOf(label)).toBe(650);
  });
});

describe('the NUL character, which PostgreSQL cannot store', () => {
  it('is refused with 400 in a JSON string, a path parameter and a query parameter', async () => {
    const inBody = await t.app.inject({
      method: 'POST',
      url: '/v1/key/attributes',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"label":"a\\u0000b"}',
    });
    expect(inBody.statusCode, inBody.body).toBe(400);
    expect(inBody.json()).toMatchObject({ errorCode: 600 });
    for (const url of ['/v1/key/a%00b/attributes', '/v1/request/%00']) {
      const response = await t.app.inject({ method: 'GET', url, headers });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errorCode).toBe(600);
    }
  });
});
