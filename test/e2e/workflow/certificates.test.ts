import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import {
  type ApproverKind,
  createApprover,
  type ListedTask,
  listTasks,
  presignedApproval,
  rule,
  type TestApprover,
  waitForStatus,
} from '../../helpers/approvers.js';
import { openssl, withScratch } from '../../helpers/openssl.js';
import {
  approveTask,
  asyncRequest,
  b64,
  canonical,
  createSkaKey,
  evaluated,
  expectTsbError,
  keyAttributes,
  requestStatus,
  sha256,
  unb64,
  wholeSecondClock,
  workflowContext,
} from './fixtures.js';

const P = 'ska-certificates';
const TIMEOUT = 600;

/** Runs `work` in a scratch folder holding the files. */
const inFiles = <T>(files: Record<string, string>, work: (dir: string) => Promise<T>) =>
  withScratch(async (dir) => {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    return work(dir);
  });

/** A CSR for a fresh key made by the openssl CLI (the subject's key never enters the HSM). */
const opensslCsr = (subject: string) =>
  withScratch(async (dir) => {
    await openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        'leaf.key',
        '-out',
        'leaf.csr',
        '-subj',
        subject,
      ]),
      dir,
    );
    return readFile(path.join(dir, 'leaf.csr'), 'utf8');
  });

/**
 * The example: a root CA key whose ruleUse is one group of five supervisors with quorum 3 and a
 * timeout. Its certificate, the certificates it issues and CSRs go through the approval workflow.
 */
describe('certificates of SKA keys through the approval workflow', () => {
  let ctx: TestContext;
  const clock = wholeSecondClock();
  const kinds: ApproverKind[] = ['P-256', 'Ed25519', 'RSA-2048', 'P-384', 'secp256k1'];
  const supervisors = kinds.map((kind) => createApprover(kind)) as [
    TestApprover,
    TestApprover,
    TestApprover,
    TestApprover,
    TestApprover,
  ];
  const [s1, s2, s3, s4, s5] = supervisors;
  let rootPem = '';

  beforeAll(async () => {
    // no periodic sweep: the test decides when the engine looks at the advanced clock
    ctx = await workflowContext(P, { clock, env: { TSB_WORKFLOW_SWEEP_MS: '3600000' } });
    const ruleUse = rule([{ quorum: 3, approvers: supervisors }], { timeout: TIMEOUT });
    await createSkaKey(ctx, P, 'root-ca', { ruleUse });
    await createSkaKey(ctx, P, 'sub-ca', { ruleUse });
  });
  afterAll(async () => ctx?.close());

  /** openssl checks validity at the test's clock, which the expiry test moves ahead of real time */
  const atClock = () => ['-attime', String(Math.floor(clock.now().getTime() / 1000))];
  const approveBy = (approvers: TestApprover[], id: string) =>
    approvers.reduce<Promise<unknown>>(
      (previous, approver) => previous.then(() => approveTask(ctx, P, approver, id, clock.now())),
      Promise.resolve(),
    );
  const executed = async (id: string) => {
    const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    return String(done['result']);
  };
  const level5Task = async (approver: TestApprover, id: string, listing = '/v1/filteredAllApprovalTask') => {
    const response = await listTasks(ctx, P, approver, {
      path: listing,
      detailLevel: 'level5',
      now: clock.now(),
      requestId: id,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().tasks as ListedTask[];
  };

  it('self-signs the root through /v1/certificate/selfsign: 3 of 5 approve → EXECUTED, openssl verifies the PEM', async () => {
    const inner = {
      signKeyName: 'root-ca',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      validity: 3650,
      commonName: 'SKA Root CA',
      certificateAuthority: true,
      keyUsage: ['KEY_CERT_SIGN', 'CRL_SIGN'],
      metaData: b64(JSON.stringify({ reason: 'root ceremony' })),
    };
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/certificate/selfsign',
      { selfSignCertificateRequest: inner, requestSignature: null },
      'signRequestId',
    );

    // every supervisor sees the task in filteredAllApprovalTask, with the request echoed in its TSB slot
    const [task] = await level5Task(s1, id);
    expect(task).toMatchObject({
      operation: 'SELF_SIGN_CERTIFICATE',
      keyName: 'root-ca',
      signedSelfSignCertificateRequestDto: { selfSignCertificateRequest: inner, requestSignature: null },
      signedCertificateRequestRequest: null,
      signedSignCertificateRequest: null,
      signedSignRequest: null,
      metaData: inner.metaData,
    });
    // what the approvers approve: the canonical JSON of the request; its SHA-256 is in the challenge
    expect(unb64(String(task!['payload'])).toString('utf8')).toBe(canonical(inner));
    expect(String(task!['payloadDigest'])).toBe(b64(sha256(canonical(inner))));
    expect(unb64(task!.approvalToBeSigned).includes(sha256(canonical(inner)))).toBe(true);
    // the TSB names no certificate listing of its own, so the sign listing does not show it
    expect(await level5Task(s1, id, '/v1/filteredSignApprovalTask')).toEqual([]);

    await approveBy([s1, s2], id);
    const half = await evaluated(ctx, P, id);
    expect(half.status).toBe('PENDING');
    expect(half.result).toBeNull();
    expectTsbError(
      await ctx.call(P, ['keyOperation'], { method: 'GET', url: '/v1/certificate/root-ca' }),
      404,
      653,
    );

    await approveBy([s4], id);
    rootPem = await executed(id);
    expect(rootPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    await inFiles({ 'root.pem': rootPem }, async (dir) => {
      expect(await openssl(['verify', ...atClock(), '-CAfile', 'root.pem', 'root.pem'], dir)).toContain(
        'root.pem: OK',
      );
      const text = await openssl(['x509', '-in', 'root.pem', '-noout', '-text'], dir);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
      expect(text).toContain('Subject: CN = SKA Root CA');
    });
    const held = await ctx.call(P, ['keyOperation'], { method: 'GET', url: '/v1/certificate/root-ca' });
    expect(held.json().certificate).toBe(rootPem);
  });

  const signRequestBody = (csr: string, commonName: string) => ({
    signCertificateRequest: {
      signKeyName: 'root-ca',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      certificateSigningRequest: csr,
      commonName,
      validity: 90,
      keyUsage: ['DIGITAL_SIGNATURE'],
      extendedKeyUsage: ['CLIENT_AUTH'],
    },
  });

  it('signs an openssl CSR through /v1/certificate/sign: PENDING after 2 approvals, EXECUTED after the third', async () => {
    const csr = await opensslCsr('/O=Example AG/CN=payments-client');
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/certificate/sign',
      signRequestBody(csr, 'payments-client'),
      'signRequestId',
    );
    const [task] = await level5Task(s5, id);
    expect(task).toMatchObject({
      operation: 'SIGN_CERTIFICATE',
      signedSignCertificateRequest: signRequestBody(csr, 'payments-client'),
    });

    await approveBy([s5, s3], id);
    const half = await evaluated(ctx, P, id);
    expect(half.status).toBe('PENDING');
    expect(half.approvedBy.sort()).toEqual([s3.publicKey, s5.publicKey].sort());

    await approveBy([s2], id);
    const leaf = await executed(id);
    await inFiles({ 'root.pem': rootPem, 'leaf.pem': leaf, 'leaf.csr': csr }, async (dir) => {
      expect(await openssl(['verify', ...atClock(), '-CAfile', 'root.pem', 'leaf.pem'], dir)).toContain(
        'leaf.pem: OK',
      );
      expect(await openssl(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], dir)).toBe(
        await openssl(['req', '-in', 'leaf.csr', '-noout', '-pubkey'], dir),
      );
      expect(await openssl(['x509', '-in', 'leaf.pem', '-noout', '-subject', '-issuer'], dir)).toBe(
        'subject=O = Example AG, CN = payments-client\nissuer=CN = SKA Root CA\n',
      );
    });
  });

  it('a second CSR with only 2 approvals runs out its timeout → EXPIRED, nothing issued', async () => {
    const csr = await opensslCsr('/CN=never-issued');
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/certificate/sign',
      signRequestBody(csr, 'never-issued'),
      'signRequestId',
    );
    await approveBy([s1, s4], id);
    expect((await evaluated(ctx, P, id)).status).toBe('PENDING');

    clock.advance(TIMEOUT - 1);
    await ctx.app.workflow.engine.sweep();
    expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
    clock.advance(2);
    await ctx.app.workflow.engine.sweep();
    const expired = await requestStatus(ctx, P, id);
    expect(expired.status).toBe('EXPIRED');
    expect(expired.result).toBeNull();
    // a late third approval changes nothing
    expect(await level5Task(s2, id)).toEqual([]);
  });

  it('a CSR through /v1/certificate/request: the result is a CSR openssl verifies, the key holds a self-signed certificate', async () => {
    const inner = {
      signKeyName: 'sub-ca',
      keyPassword: null,
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      validity: 365,
      standardCertificateAttributes: {
        commonName: 'SKA Issuing CA',
        country: 'CH',
        organizationName: 'Example AG',
        organizationIdentifier: 'VATCH-CHE987654321',
        email: null,
      },
      keyUsage: ['KEY_CERT_SIGN', 'CRL_SIGN'],
      extendedKeyUsage: [],
    };
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/certificate/request',
      { csrSignRequest: inner },
      'signRequestId',
    );
    const [task] = await level5Task(s3, id);
    const { keyPassword: _password, ...stored } = inner;
    expect(task).toMatchObject({
      operation: 'CERTIFICATE_REQUEST',
      signedCertificateRequestRequest: { csrSignRequest: stored },
    });
    await approveBy([s3, s4, s5], id);
    const csr = await executed(id);
    expect(csr).toMatch(/^-----BEGIN NEW CERTIFICATE REQUEST-----\n/);
    await inFiles({ 'sub.csr': csr }, async (dir) => {
      expect(await openssl(['req', '-in', 'sub.csr', '-verify', '-noout'], dir)).toMatch(/verify OK/);
      expect(await openssl(['req', '-in', 'sub.csr', '-noout', '-subject'], dir)).toBe(
        'subject=C = CH, O = Example AG, organizationIdentifier = VATCH-CHE987654321, CN = SKA Issuing CA\n',
      );
    });
    const held = await ctx.call(P, ['keyOperation'], { method: 'GET', url: '/v1/certificate/sub-ca' });
    expect(held.statusCode, held.body).toBe(200);
    await inFiles({ 'sub.pem': held.json().certificate }, async (dir) => {
      expect(await openssl(['verify', ...atClock(), '-CAfile', 'sub.pem', 'sub.pem'], dir)).toContain(
        'sub.pem: OK',
      );
    });
  });

  it('the HSM gate re-checks at execution: a stored request changed after approval fails (401), nothing issued', async () => {
    const csr = await opensslCsr('/CN=approved-name');
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/certificate/sign',
      signRequestBody(csr, 'approved-name'),
      'signRequestId',
    );
    await approveBy([s1, s2], id);
    // someone with database access swaps the approved CSR's name before the last approval
    const { body } = (await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } })) as {
      body: Record<string, unknown>;
    };
    await ctx.prisma.skaRequest.update({
      where: { id },
      data: { body: { ...body, commonName: 'forged-name' } },
    });
    await approveBy([s3], id);
    const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']);
    expect(done['status']).toBe('FAILED');
    expect(done['errorCode']).toBe(401);
    expect(done['result']).toBeNull();
  });

  it('synchronous forms on the SKA key: refused without approvals (401), run with 3 signedApprovals', async () => {
    const csr = await opensslCsr('/CN=presigned-leaf');
    const body = {
      signKeyName: 'root-ca',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      certificateSigningRequest: csr,
      validity: 7,
    };
    const snapshot = await ctx.keySnapshot();
    expectTsbError(
      await ctx.call(P, ['keyOperation'], { method: 'POST', url: '/v1/certificate/synchronous/sign', body }),
      403,
      401,
    );
    expectTsbError(
      await ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/certificate/synchronous/selfsign',
        body: {
          signKeyName: 'root-ca',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          validity: 1,
          commonName: 'x',
        },
      }),
      403,
      401,
    );
    expect(await ctx.keySnapshot()).toBe(snapshot);

    const { json } = (await keyAttributes(ctx, P, 'root-ca')).json();
    const key = { label: 'root-ca', id: json.uuid as string, version: json.version as number };
    const presigned = (
      approver: TestApprover,
      operation: 'SIGN_CERTIFICATE' | 'SELF_SIGN_CERTIFICATE' = 'SIGN_CERTIFICATE',
    ) =>
      // certificate operations have no parameters besides the request itself: the digest of {}
      presignedApproval(approver, {
        operation,
        key,
        payloadDigest: sha256(canonical(body)),
        parametersDigest: sha256('{}'),
        createdAt: clock.now(),
      });
    const send = (signedApprovals: string[]) =>
      ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/certificate/synchronous/sign',
        body: { ...body, signedApprovals },
      });
    expectTsbError(await send([presigned(s1), presigned(s2)]), 403, 401);
    // approvals of another certificate operation do not count
    expectTsbError(
      await send([presigned(s1), presigned(s2), presigned(s3, 'SELF_SIGN_CERTIFICATE')]),
      403,
      401,
    );
    const response = await send([presigned(s1), presigned(s2), presigned(s3)]);
    expect(response.statusCode, response.body).toBe(200);
    await inFiles({ 'root.pem': rootPem, 'leaf.pem': response.json().certificate }, async (dir) => {
      expect(await openssl(['verify', ...atClock(), '-CAfile', 'root.pem', 'leaf.pem'], dir)).toContain(
        'leaf.pem: OK',
      );
    });
  });
});
