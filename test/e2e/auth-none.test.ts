/**
 * Development mode without authentication (issue 14): with TSB_AUTH_NONE_PARTITION a request without any
 * credential acts with every TSB role (not as a security officer) in that one partition, as a TSB with
 * authentication turned off (the btc broadcaster's main.py, tsb-client-go's no-auth test, the TSB docs' SKA
 * Python sample). A credential that is presented is still checked, /readyz warns, and the other partitions stay
 * closed.
 */
import { verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createApprover, rule } from '../helpers/approvers.js';

const DEV = 'dev';
const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('TSB_AUTH_NONE_PARTITION', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ worker: true, env: { TSB_AUTH_NONE_PARTITION: DEV } });
    await ctx.partition(DEV);
    await ctx.partition('other');
  });
  afterAll(async () => ctx?.close());

  const anonymous = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
    ctx.app.inject({
      method,
      url,
      headers: JSON_HEADERS,
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  it('lets a request without credentials create a key and sign in the development partition', async () => {
    const created = await anonymous('POST', '/v1/key', {
      label: 'dev-key',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: { decrypt: false, sign: true, unwrap: false, destroyable: true },
    });
    expect(created.statusCode, created.body).toBe(201);
    const signed = await anonymous('POST', '/v1/synchronousSign', {
      signRequest: { payload: b64('tx'), signKeyName: 'dev-key', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    });
    expect(signed.statusCode, signed.body).toBe(200);
    const attributes = await ctx.call(DEV, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'dev-key' },
    });
    expect(attributes.statusCode, attributes.body).toBe(200);
    const inOther = await ctx.call('other', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'dev-key' },
    });
    expect(inOther.statusCode).toBe(404);
  });

  it('does not make an anonymous caller a security officer: the audit log, backups and policy stay closed', async () => {
    for (const url of ['/v1/audit/export', '/v1/securityOfficer/backup', '/v1/securityOfficer/policy']) {
      const response = await anonymous('GET', url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(403);
    }
    const asOfficer = await ctx.call(DEV, ['securityOfficer'], {
      method: 'GET',
      url: '/v1/securityOfficer/policy',
    });
    expect(asOfficer.statusCode, asOfficer.body).toBe(200);
  });

  it('still checks a credential that is presented: a bad one is refused, never downgraded', async () => {
    const badToken = await ctx.app.inject({
      method: 'GET',
      url: '/v1/key',
      headers: { authorization: 'Bearer not.a.token' },
    });
    expect(badToken.statusCode).toBe(401);
    const badKey = await ctx.app.inject({
      method: 'GET',
      url: '/v1/key',
      headers: { 'x-api-key': 'tsb-x-token_nonsense' },
    });
    expect(badKey.statusCode).toBe(401);
    // a valid credential of another partition acts in that partition, not in the development one
    const other = await ctx.call('other', ['keyManagement'], { method: 'GET', url: '/v1/key' });
    expect(other.statusCode, other.body).toBe(200);
    expect(JSON.stringify(other.json())).not.toContain('dev-key');
  });

  it('answers requests without credentials only when they address a loopback name (DNS rebinding, the network)', async () => {
    const listKeys = (host: string) =>
      ctx.app.inject({ method: 'GET', url: '/v1/key', headers: { ...JSON_HEADERS, host } });
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST']) {
      const response = await listKeys(host);
      expect(response.statusCode, `${host}: ${response.body}`).toBe(200);
    }
    // a page whose name was rebound to 127.0.0.1 still sends its own name; a neighbour sends this machine's address
    for (const host of ['attacker.example:8080', '192.168.1.10:8080', 'localhost.attacker.example']) {
      const response = await listKeys(host);
      expect(response.statusCode, host).toBe(401);
      expect(response.json()).toMatchObject({ errorCode: 406, reason: 'res.error.missing.access.token' });
      expect(response.json().message).toContain('TSB_AUTH_NONE_HOSTS');
    }
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/key',
      headers: { ...JSON_HEADERS, host: 'attacker.example' },
      payload: JSON.stringify({
        label: 'rebound',
        algorithm: 'AES',
        keySize: 256,
        attributes: { decrypt: true, sign: false, unwrap: false, extractable: true },
      }),
    });
    expect(created.statusCode).toBe(401);
    expect((await listKeys('localhost')).json()).not.toContain('rebound');
    // a credential still acts whatever host it names
    const withToken = await ctx.app.inject({
      method: 'GET',
      url: '/v1/key',
      headers: { ...(await ctx.as(DEV, ['keyManagement'])), host: 'attacker.example' },
    });
    expect(withToken.statusCode, withToken.body).toBe(200);
  });

  it('warns on /readyz', async () => {
    const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json().warnings.join(' ')).toMatch(/WITHOUT AUTHENTICATION.*TSB_AUTH_NONE_PARTITION=dev/);
  });

  it('runs the docs SKA sample without credentials: request, approval, status with the result', async () => {
    const approver = createApprover('P-256');
    const key = await anonymous('POST', '/v1/key', {
      label: 'dev-ska',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
      policy: {
        ruleUse: rule([{ quorum: 1, approvers: [approver] }]),
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    });
    expect(key.statusCode, key.body).toBe(201);
    const sign = await anonymous('POST', '/v1/sign', {
      signRequest: {
        payload: b64('pay 1 CHF'),
        signKeyName: 'dev-ska',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    });
    expect(sign.statusCode, sign.body).toBe(201);
    const { signRequestId } = sign.json();
    const timestamp = new Date().toISOString();
    const listed = await anonymous('POST', '/v1/filteredSignApprovalTask', {
      timestamp,
      timestampSignature: b64(approver.sign(Buffer.from(timestamp))),
      timestampDigestAlgorithm: 'SHA-256',
      approverPublicKey: approver.publicKey,
      detailLevel: 'level1',
    });
    expect(listed.statusCode, listed.body).toBe(200);
    const task = listed.json().tasks[0];
    const approved = await anonymous('POST', '/v1/approval', {
      id: task.id,
      approvalToBeSigned: task.approvalToBeSigned,
      signature: b64(approver.sign(Buffer.from(task.approvalToBeSigned, 'base64'))),
      approvalDigestAlgorithm: 'SHA-256',
      approverPublicKey: approver.publicKey,
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const status = await anonymous('GET', `/v1/request/${signRequestId}`);
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json().status).toBe('EXECUTED');
    const attributes = await anonymous('POST', '/v1/key/attributes', { label: 'dev-ska' });
    const spki = Buffer.from(attributes.json().json.publicKey, 'base64');
    expect(
      verify(
        'sha256',
        Buffer.from('pay 1 CHF'),
        { key: spki, format: 'der', type: 'spki' },
        Buffer.from(status.json().result, 'base64'),
      ),
    ).toBe(true);
  });
});
