/**
 * Shared steps of the workflow end-to-end tests: keys with SKA policies, requests over HTTP, approver
 * calls with any filter or body, certificate approvers made with the openssl CLI, and the checks that
 * every test repeats (a TSB error, a request status).
 */
import { createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import type { ListedTask, TestApprover } from '../../helpers/approvers.js';
import { ManualClock } from '../../helpers/clock.js';
import { openssl, withScratch } from '../../helpers/openssl.js';

export const P256 = '1.2.840.10045.3.1.7';
export const SIGN_ONLY = { decrypt: false, sign: true, unwrap: false };

export const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');
export const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');

/** A manual clock on a whole second, so request times (whole seconds) equal the clock's time. */
export function wholeSecondClock(): ManualClock {
  return new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
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
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        String(days),
        '-subj',
        `/CN=${name}`,
      ],
      dir,
    );
    const privateKey = createPrivateKey(await readFile(path.join(dir, 'key.pem')));
    const certificate = new X509Certificate(await readFile(path.join(dir, 'cert.pem')));
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
