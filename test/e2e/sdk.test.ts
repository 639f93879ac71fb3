/**
 * The generated SDK (sdk/src) drives the whole SKA flow against a real listener, with typed calls only:
 * create a key with a one-approver policy, request a signature, list and approve the task, poll the
 * request, and verify the signature with node:crypto.
 */
import { verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTsbClient, TsbApiError, type TsbClient, unwrap, waitForRequest } from '../../sdk/src/index.js';
import { createApiKey } from '../../src/auth/api-keys.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createApprover, type TestApprover } from '../helpers/approvers.js';
import { issueTestToken } from '../helpers/tokens.js';

const P256 = '1.2.840.10045.3.1.7';
const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');

describe('@opentsb/sdk against a live listener', () => {
  let ctx: TestContext;
  let keyManager: TsbClient;
  let operator: TsbClient;
  let approverClient: TsbClient;
  let approver: TestApprover;

  beforeAll(async () => {
    ctx = await createTestContext({ worker: true });
    const partition = await ctx.partition('sdk');
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    // both credential kinds of the SDK: a JWT and X-API-KEY keys
    keyManager = createTsbClient({
      baseUrl,
      token: await issueTestToken(ctx.config, 'sdk', ['keyManagement']),
    });
    operator = createTsbClient({
      baseUrl,
      apiKey: (await createApiKey(ctx.prisma, partition.id, 'keyOperation')).key,
    });
    approverClient = createTsbClient({
      baseUrl,
      apiKey: (await createApiKey(ctx.prisma, partition.id, 'approver')).key,
    });
    approver = createApprover('P-256');
  });
  afterAll(async () => ctx?.close());

  it('creates an SKA key, requests a signature, approves it and reads the verified result', async () => {
    await unwrap(
      keyManager.POST('/v1/key', {
        body: {
          label: 'sdk-ska',
          algorithm: 'EC',
          curveOid: P256,
          attributes: { decrypt: false, sign: true, unwrap: false },
          policy: {
            ruleUse: {
              tokens: [
                {
                  name: 'main',
                  timelock: 0,
                  timeout: 0,
                  groups: [
                    {
                      name: 'approvers',
                      quorum: 1,
                      approvals: [{ type: 'public_key', name: 'alice', value: approver.publicKey }],
                    },
                  ],
                },
              ],
            },
            keyStatus: { blocked: false },
          },
        },
      }),
    );

    const payload = Buffer.from('pay 100 CHF to Bob');
    const { signRequestId } = await unwrap(
      operator.POST('/v1/sign', {
        body: {
          signRequest: {
            payload: b64(payload),
            signKeyName: 'sdk-ska',
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        },
      }),
    );
    expect(
      (await unwrap(operator.GET('/v1/request/{id}', { params: { path: { id: signRequestId } } }))).status,
    ).toBe('PENDING');

    const timestamp = new Date().toISOString();
    const { tasks } = await unwrap(
      approverClient.POST('/v1/filteredSignApprovalTask', {
        body: {
          timestamp,
          timestampSignature: b64(approver.sign(Buffer.from(timestamp, 'utf8'))),
          timestampDigestAlgorithm: approver.digest,
          approverPublicKey: approver.publicKey,
          detailLevel: 'level1',
        },
      }),
    );
    const task = tasks.find((candidate) => candidate.requestId === signRequestId);
    expect(task, JSON.stringify(tasks)).toBeDefined();
    expect(task!.keyName).toBe('sdk-ska');

    await unwrap(
      approverClient.POST('/v1/approval', {
        body: {
          id: task!.id,
          approvalToBeSigned: task!.approvalToBeSigned,
          signature: b64(approver.sign(Buffer.from(task!.approvalToBeSigned, 'base64'))),
          approvalDigestAlgorithm: approver.digest,
          approverPublicKey: approver.publicKey,
        },
      }),
    );

    const done = await waitForRequest(operator, signRequestId, { intervalMs: 20, timeoutMs: 15_000 });
    expect(done.status, JSON.stringify(done)).toBe('EXECUTED');
    expect(done.approvedBy).toEqual([approver.publicKey]);

    const attributes = await unwrap(keyManager.POST('/v1/key/attributes', { body: { label: 'sdk-ska' } }));
    const publicKey = {
      key: Buffer.from(attributes.json.publicKey!, 'base64'),
      format: 'der',
      type: 'spki',
    } as const;
    expect(verify('sha256', payload, publicKey, Buffer.from(done.result!, 'base64'))).toBe(true);
    expect(
      verify('sha256', Buffer.from('pay 999 CHF to Bob'), publicKey, Buffer.from(done.result!, 'base64')),
    ).toBe(false);
  });

  it('answers a sign with an unknown key with the typed TSB error body (errorCode 650)', async () => {
    const body = {
      signRequest: { payload: b64('x'), signKeyName: 'no-such-key', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    };
    const { data, error, response } = await operator.POST('/v1/sign', { body });
    expect(data).toBeUndefined();
    expect(response.status).toBe(404);
    expect(error).toMatchObject({ errorCode: 650, reason: 'res.error.key.not.existent' });
    expect(typeof error?.message).toBe('string');

    const thrown = await unwrap(operator.POST('/v1/sign', { body })).catch((caught: unknown) => caught);
    expect(thrown).toBeInstanceOf(TsbApiError);
    expect(thrown).toMatchObject({ status: 404, errorCode: 650, reason: 'res.error.key.not.existent' });
  });

  it('answers a call without the needed role with a typed 403 (errorCode 400)', async () => {
    const { error, response } = await operator.GET('/v1/key');
    expect(response.status).toBe(403);
    expect(error?.errorCode).toBe(400);
  });
});
