/**
 * Shared steps of the workflow end-to-end tests: keys with SKA policies, requests over HTTP, approver
 * calls with any filter or body, certificate approvers made with the openssl CLI, and the checks that
 * every test repeats (a TSB error, a request status).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { PartitionFlags } from '../../../src/keystore/partitions/partition-flags.js';
import { createTestContext, type TestContext, type TestContextOptions } from '../../helpers/app.js';
import { approve, type ListedTask, type TestApprover, taskOf } from '../../helpers/approvers.js';
import { ManualClock } from '../../helpers/clock.js';
import { selfSignedP256, withScratch } from '../../helpers/openssl.js';

export const P256 = '1.2.840.10045.3.1.7';
export const SIGN_ONLY = { decrypt: false, sign: true, unwrap: false };

export const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/**
 * Canonical JSON as docs/approval-challenge.md and docs/certificates.md describe it (keys sorted recursively, no
 * whitespace), written here independently of the service's own canonicalJson.
 */
export function canonical(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((key) => [key, sorted((v as Record<string, unknown>)[key])]),
          )
        : v;
  return JSON.stringify(sorted(value));
}

export const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');
export const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');

/** A manual clock on a whole second, so request times (whole seconds) equal the clock's time. */
export function wholeSecondClock(): ManualClock {
  return new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
}

/** A test context with the workflow worker running (unless `options` say otherwise) and the partition. */
export async function workflowContext(
  partition: string,
  options: TestContextOptions = {},
  flags?: Partial<PartitionFlags>,
): Promise<TestContext> {
  const ctx = await createTestContext({ worker: true, ...options });
  await ctx.partition(partition, flags);
  return ctx;
}

export function expectTsbError(response: LightMyRequestResponse, status: number, errorCode: number): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.json().errorCode, response.body).toBe(errorCode);
}

type RuleName = 'ruleUse' | 'ruleBlock' | 'ruleUnblock' | 'ruleModify';

/** A full SKA policy: the rules given, the others null, not blocked. */
export function policyOf(rules: Partial<Record<RuleName, unknown>>, blocked = false) {
  return {
    ruleUse: null,
    ruleBlock: null,
    ruleUnblock: null,
    ruleModify: null,
    ...rules,
    keyStatus: { blocked },
  };
}

/** POST /v1/key (keyManagement); answers the signed key attributes. */
export async function createKey(
  ctx: TestContext,
  partition: string,
  body: Record<string, unknown>,
): Promise<{ json: { publicKey: string | null; policy: unknown } }> {
  const response = await ctx.call(partition, ['keyManagement'], { method: 'POST', url: '/v1/key', body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

/** An EC P-256 signing key with the given SKA rules. */
export function createSkaKey(
  ctx: TestContext,
  partition: string,
  label: string,
  rules: Partial<Record<RuleName, unknown>>,
  extra: Record<string, unknown> = {},
) {
  return createKey(ctx, partition, {
    label,
    algorithm: 'EC',
    curveOid: P256,
    attributes: SIGN_ONLY,
    policy: policyOf(rules),
    ...extra,
  });
}

export async function keyAttributes(
  ctx: TestContext,
  partition: string,
  label: string,
): Promise<LightMyRequestResponse> {
  return ctx.call(partition, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key/attributes',
    body: { label },
  });
}

/** The public key (DER SubjectPublicKeyInfo) of the key `label`. */
export async function keyPublicKey(ctx: TestContext, partition: string, label: string): Promise<Buffer> {
  return unb64((await keyAttributes(ctx, partition, label)).json().json.publicKey);
}

/** Whether node:crypto verifies `signature` (SHA-256) over `data` with the public key of the key `label`. */
export async function verifiesWithKey(
  ctx: TestContext,
  partition: string,
  label: string,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const spki = await keyPublicKey(ctx, partition, label);
  return verify('sha256', data, { key: spki, format: 'der', type: 'spki' }, signature);
}

/** POST /v1/sign of `payload` (text) with the key; answers the request id. */
export async function signRequest(
  ctx: TestContext,
  partition: string,
  keyName: string,
  payload = 'pay 100 CHF',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await ctx.call(partition, ['keyOperation'], {
    method: 'POST',
    url: '/v1/sign',
    body: {
      signRequest: {
        payload: b64(payload),
        signKeyName: keyName,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        ...extra,
      },
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().signRequestId;
}

/** `/v1/synchronousSign` with the key (ECDSA over SHA-256), as keyOperation: the answer as it comes. */
export function synchronousSign(ctx: TestContext, partition: string, keyName: string, payload = 'now') {
  return ctx.call(partition, ['keyOperation'], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: {
      signRequest: { payload: b64(payload), signKeyName: keyName, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    },
  });
}

/** POST to an asynchronous endpoint; answers the id found under `answer`. */
export async function asyncRequest(
  ctx: TestContext,
  partition: string,
  url: string,
  body: unknown,
  answer: string,
  roles: ('keyOperation' | 'keyManagement')[] = ['keyOperation'],
): Promise<string> {
  const response = await ctx.call(partition, roles, { method: 'POST', url, body });
  expect(response.statusCode, response.body).toBe(201);
  const id = response.json()[answer];
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return id;
}

export interface RequestView {
  id: string;
  status: string;
  executionTime: string | null;
  approvedBy: string[];
  notYetApprovedBy: string[];
  rejectedBy: string[];
  result: string | null;
  createdAt: string;
  executableAt: string | null;
  expiresAt: string | null;
  rejections: { approverPublicKey: string; reason: string | null }[];
  errorCode: number | null;
  errorMessage: string | null;
  [field: string]: unknown;
}

export async function requestStatus(ctx: TestContext, partition: string, id: string): Promise<RequestView> {
  const response = await ctx.call(partition, ['keyOperation'], { method: 'GET', url: `/v1/request/${id}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** Lets the engine look at the request now (what the worker's job does) and answers its status. */
export async function evaluated(ctx: TestContext, partition: string, id: string): Promise<RequestView> {
  await ctx.app.workflow.engine.evaluate(id);
  return requestStatus(ctx, partition, id);
}

/** A signed task filter of the approver (fresh timestamp at `now`) with any further fields. */
export function taskFilter(approver: TestApprover, now: Date, extra: Record<string, unknown> = {}) {
  const timestamp = now.toISOString();
  return {
    timestamp,
    timestampSignature: b64(approver.sign(Buffer.from(timestamp, 'utf8'))),
    timestampDigestAlgorithm: approver.digest,
    approverPublicKey: approver.publicKey,
    ...extra,
  };
}

/** POST a task filter to a listing path as the approver role. */
export async function listWith(
  ctx: TestContext,
  partition: string,
  body: Record<string, unknown>,
  url = '/v1/filteredAllApprovalTask',
): Promise<LightMyRequestResponse> {
  return ctx.call(partition, ['approver'], { method: 'POST', url, body });
}

/** The approver's open tasks (all operations), listed at `now`. */
export async function openTasks(
  ctx: TestContext,
  partition: string,
  approver: TestApprover,
  now: Date,
  extra: Record<string, unknown> = {},
): Promise<ListedTask[]> {
  const response = await listWith(ctx, partition, taskFilter(approver, now, extra));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().tasks;
}

/** The POST /v1/approval body of the approver for the task, fields overridable. */
export function approvalBody(
  approver: TestApprover,
  task: Pick<ListedTask, 'id' | 'approvalToBeSigned'>,
  overrides: Record<string, unknown> = {},
) {
  return {
    id: task.id,
    approvalToBeSigned: task.approvalToBeSigned,
    signature: b64(approver.sign(unb64(task.approvalToBeSigned))),
    approvalDigestAlgorithm: approver.digest,
    approverPublicKey: approver.publicKey,
    ...overrides,
  };
}

/** The approver approves its open task of the request (listed at `now`); the answer must be 200. */
export async function approveTask(
  ctx: TestContext,
  partition: string,
  approver: TestApprover,
  requestId: string,
  now?: Date,
): Promise<ListedTask> {
  const task = await taskOf(ctx, partition, approver, requestId, { now });
  const response = await approve(ctx, partition, approver, task);
  expect(response.statusCode, response.body).toBe(200);
  return task;
}

export async function postApproval(
  ctx: TestContext,
  partition: string,
  body: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return ctx.call(partition, ['approver'], { method: 'POST', url: '/v1/approval', body });
}

/** A certificate approver: an approver key pair and a self-signed X.509 certificate made by the openssl CLI. */
export interface CertificateApprover extends TestApprover {
  /** base64 DER certificate, as the policy and the API carry it */
  certificate: string;
  notBefore: Date;
  notAfter: Date;
}

export async function createCertificateApprover(days = 2, name = 'approver'): Promise<CertificateApprover> {
  return withScratch(async (dir) => {
    const { keyFile, certFile } = await selfSignedP256(dir, {
      subject: `/CN=${name}`,
      days,
      keyFile: 'key.pem',
      certFile: 'cert.pem',
    });
    const privateKey = createPrivateKey(await readFile(keyFile));
    const certificate = new X509Certificate(await readFile(certFile));
    return {
      kind: 'P-256',
      privateKey,
      publicKey: b64(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })),
      digest: 'SHA-256',
      sign: (data: Uint8Array) => sign('sha256', data, privateKey),
      certificate: b64(certificate.raw),
      notBefore: new Date(certificate.validFrom),
      notAfter: new Date(certificate.validTo),
    };
  });
}

/** A rule of one token `main` (no timelock, no timeout) whose one group `certified` wants the certificate approver. */
export function certificateRule(approver: CertificateApprover, name: string) {
  return {
    tokens: [
      {
        name: 'main',
        timelock: 0,
        timeout: 0,
        groups: [
          {
            name: 'certified',
            quorum: 1,
            approvals: [{ type: 'certificate', name, value: approver.certificate }],
          },
        ],
      },
    ],
  };
}
