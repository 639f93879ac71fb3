/**
 * Real TSB clients (tsb-client-go, go-kms-wrapping's securosyshsm client, the Vault plugin) set
 * `Content-Type: application/json` on every request, also on a DELETE whose body is Go's nil: the request
 * goes out with that header and neither a Content-Length nor a body. An empty body is no body.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createApprover, rule } from '../helpers/approvers.js';
import { createKey, createSkaKey, signRequest } from './workflow/fixtures.js';

const P = 'empty-bodies';
const ALL = ['keyManagement', 'keyOperation'] as const;
let t: TestContext;
let port: number;
let authorization: string;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  authorization = (await t.as(P, [...ALL])).authorization!;
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  port = address.port;
});
afterAll(() => t?.close());

/** The bytes Go's net/http writes for `http.NewRequest(method, url, nil)` with the client's headers. */
function goRequest(
  method: string,
  url: string,
  { chunked = false } = {},
): Promise<{ status: number; body: string }> {
  const head =
    `${method} ${url} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: Go-http-client/1.1\r\n` +
    `Authorization: ${authorization}\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n` +
    `Connection: close\r\n${chunked ? 'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n' : '\r\n'}`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let response = '';
    socket.on('data', (data) => {
      response += data.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
      resolve({ status, body: response.slice(response.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const exists = async (label: string) =>
  (await t.call(P, ['keyManagement'], { method: 'GET', url: '/v1/key' })).json().includes(label);

const key = (label: string) =>
  createKey(t, P, {
    label,
    algorithm: 'RSA',
    keySize: 2048,
    attributes: { decrypt: false, sign: true, unwrap: false, destroyable: true },
  });

describe('DELETE with Content-Type: application/json and no body', () => {
  it('DELETE /v1/key/{label} removes the key (go-kms-wrapping RemoveKey, Vault plugin)', async () => {
    await key('go-removed');
    const answer = await goRequest('DELETE', '/v1/key/go-removed');
    expect(answer.status, answer.body).toBe(200);
    expect(await exists('go-removed')).toBe(false);
  });

  it('the same with Content-Length: 0', async () => {
    await key('zero-length');
    const response = await t.app.inject({
      method: 'DELETE',
      url: '/v1/key/zero-length',
      headers: { authorization, 'content-type': 'application/json', 'content-length': '0' },
      payload: '',
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(await exists('zero-length')).toBe(false);
  });

  it('the same as an empty chunked body', async () => {
    await key('chunked');
    const answer = await goRequest('DELETE', '/v1/key/chunked', { chunked: true });
    expect(answer.status, answer.body).toBe(200);
    expect(await exists('chunked')).toBe(false);
  });

  it('whatever the Content-Type', async () => {
    await key('octets');
    const response = await t.app.inject({
      method: 'DELETE',
      url: '/v1/key/octets',
      headers: { authorization, 'content-type': 'application/octet-stream', 'content-length': '0' },
      payload: '',
    });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('DELETE /v1/request/{id} cancels the request (tsb-client-go RemoveRequest)', async () => {
    const approver = createApprover();
    await createSkaKey(t, P, 'ska', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
    const id = await signRequest(t, P, 'ska');
    const answer = await goRequest('DELETE', `/v1/request/${id}`);
    expect(answer.status, answer.body).toBe(200);
    const status = await goRequest('GET', `/v1/request/${id}`);
    expect(JSON.parse(status.body).status).toBe('CANCELLED');
  });

  it('DELETE /v1/certificate/{label} removes the certificate (tsb-client-go DeleteCertificate)', async () => {
    await key('with-cert');
    const selfSigned = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/certificate/synchronous/selfsign',
      body: {
        signKeyName: 'with-cert',
        signatureAlgorithm: 'SHA256_WITH_RSA',
        commonName: 'with-cert',
        validity: 30,
        keyUsage: ['DIGITAL_SIGNATURE'],
      },
    });
    expect(selfSigned.statusCode, selfSigned.body).toBe(200);
    const answer = await goRequest('DELETE', '/v1/certificate/with-cert');
    expect(answer.status, answer.body).toBe(200);
    const after = await goRequest('GET', '/v1/certificate/with-cert');
    expect(after.status).toBe(404);
  });
});

describe('a route that takes a body', () => {
  it('still refuses an empty one as invalid JSON (621)', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/key/attributes',
      headers: { authorization, 'content-type': 'application/json' },
      payload: '',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errorCode).toBe(621);
  });
});
