/**
 * scripts/approver.sh, an approver made of bash, openssl and curl, against the real service on a real
 * port: keys made by the script go into a 2-of-3 policy, two approvers approve through the script only,
 * and the signature verifies with `openssl dgst -verify`; rejections carry their reason to the request.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../../src/auth/api-keys.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { openssl } from '../../helpers/openssl.js';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/approver.sh');
const KEY = 'ska-payments';

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the script with only TSB_URL and the given credential in its TSB_* environment. */
function script(args: string[], credential: Record<string, string>): Promise<ScriptRun> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TSB_')),
  );
  return new Promise((resolve) => {
    execFile(
      SCRIPT,
      args,
      { env: { ...env, TSB_URL: baseUrl, ...credential }, encoding: 'utf8', timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function succeeds(args: string[], credential: Record<string, string>): Promise<string> {
  const run = await script(args, credential);
  expect(run.code, `approver.sh ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

let baseUrl = '';

describe('scripts/approver.sh (openssl + curl approver)', () => {
  let ctx: TestContext;
  let dir: string;
  const apiKeys = { keyManagement: '', keyOperation: '', approvers: [] as string[] };
  /** alice (EC P-256), bob (Ed25519), carol (RSA): key files and base64 SPKI from `keygen` */
  const approvers: { name: string; file: string; publicKey: string }[] = [];

  const http = async (method: string, url: string, apiKey: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: {
        'x-api-key': apiKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  const requestSignature = async (message: string) => {
    const created = await http('POST', '/v1/sign', apiKeys.keyOperation, {
      signRequest: {
        payload: Buffer.from(message).toString('base64'),
        signKeyName: KEY,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    });
    expect(created.status, created.text).toBe(201);
    return String(created.json()['signRequestId']);
  };

  const status = async (requestId: string) => {
    const response = await http('GET', `/v1/request/${requestId}`, apiKeys.keyOperation);
    expect(response.status, response.text).toBe(200);
    return response.json();
  };

  const waitFor = async (requestId: string, wanted: string[]) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const body = await status(requestId);
      if (wanted.includes(String(body['status']))) return body;
      if (Date.now() > deadline) throw new Error(`request ${requestId}: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  /** `tasks KEYFILE`, parsed; returns the task of requestId (the test fails when there is none). */
  const taskOf = async (index: number, requestId: string) => {
    const approver = approvers[index]!;
    const out = await succeeds(['tasks', approver.file], { TSB_API_KEY: apiKeys.approvers[index]! });
    const rows = out
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    const row = rows.find((fields) => fields[1] === requestId);
    expect(row, `tasks of ${approver.name}:\n${out}`).toBeDefined();
    expect(row!.slice(1)).toEqual([requestId, 'SIGN', KEY]);
    return row![0]!;
  };

  beforeAll(async () => {
    ctx = await createTestContext({ worker: true });
    const partition = await ctx.partition('approvals');
    apiKeys.keyManagement = (await createApiKey(ctx.prisma, partition.id, 'keyManagement')).key;
    apiKeys.keyOperation = (await createApiKey(ctx.prisma, partition.id, 'keyOperation')).key;
    for (let i = 0; i < 3; i++) {
      apiKeys.approvers.push((await createApiKey(ctx.prisma, partition.id, 'approver')).key);
    }
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'opentsb-approver-sh-'));

    const kinds: [string, string[]][] = [
      ['alice', []],
      ['bob', ['ed25519']],
      ['carol', ['rsa']],
    ];
    for (const [name, type] of kinds) {
      const file = path.join(dir, `${name}.pem`);
      const publicKey = (await succeeds(['keygen', file, ...type], {})).trim();
      expect(publicKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect((await succeeds(['pubkey', file], {})).trim()).toBe(publicKey);
      approvers.push({ name, file, publicKey });
    }

    const created = await http('POST', '/v1/key', apiKeys.keyManagement, {
      label: KEY,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
      policy: {
        ruleUse: {
          tokens: [
            {
              name: 'payments',
              timelock: 0,
              timeout: 600,
              groups: [
                {
                  name: 'treasury',
                  quorum: 2,
                  approvals: approvers.map(({ name, publicKey }) => ({
                    type: 'public_key',
                    name,
                    value: publicKey,
                  })),
                },
              ],
            },
          ],
        },
        keyStatus: { blocked: false },
      },
    });
    expect(created.status, created.text).toBe(201);
  });

  afterAll(async () => {
    await ctx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keygen refuses to overwrite a key file', async () => {
    const run = await script(['keygen', approvers[0]!.file], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('exists already');
  });

  it('signs after two approvals given through the script; openssl verifies the signature', async () => {
    const message = 'pay 100 CHF to ACME';
    const requestId = await requestSignature(message);

    const aliceTask = await taskOf(0, requestId);
    const approved = await succeeds(['approve', approvers[0]!.file, aliceTask], {
      TSB_API_KEY: apiKeys.approvers[0]!,
    });
    expect(approved).toContain(`approved task ${aliceTask}: SIGN with key ${KEY}, request ${requestId}`);
    const half = await status(requestId);
    expect(half['status']).toBe('PENDING');
    expect(half['approvedBy']).toEqual([approvers[0]!.publicKey]);

    const bobTask = await taskOf(1, requestId);
    await succeeds(['approve', approvers[1]!.file, bobTask], { TSB_API_KEY: apiKeys.approvers[1]! });
    const done = await waitFor(requestId, ['EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    expect(done['approvedBy']).toEqual(
      expect.arrayContaining([approvers[0]!.publicKey, approvers[1]!.publicKey]),
    );

    // carol's task is gone with the request decided
    const carol = await script(['tasks', approvers[2]!.file], { TSB_API_KEY: apiKeys.approvers[2]! });
    expect(carol.code, carol.stderr).toBe(0);
    expect(carol.stdout).not.toContain(requestId);

    const attributes = await http('POST', '/v1/key/attributes', apiKeys.keyManagement, { label: KEY });
    const spki = String((attributes.json()['json'] as Record<string, unknown>)['publicKey']);
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    await writeFile(path.join(dir, 'key.pem'), pem);
    await writeFile(path.join(dir, 'payload'), message);
    await writeFile(path.join(dir, 'signature'), Buffer.from(String(done['result']), 'base64'));
    const verified = await openssl(
      ['dgst', '-sha256', '-verify', 'key.pem', '-signature', 'signature', 'payload'],
      dir,
    );
    expect(verified).toContain('Verified OK');
  });

  it('rejects through the script; the reason shows in the request status', async () => {
    const requestId = await requestSignature('pay 9999 CHF to EVIL');
    const reason = 'Beneficiary "EVIL Corp" is unknown\\ to me — Zoë\nsecond line';

    const carolTask = await taskOf(2, requestId);
    const rejected = await succeeds(['reject', approvers[2]!.file, carolTask, reason], {
      TSB_API_KEY: apiKeys.approvers[2]!,
    });
    expect(rejected).toContain(`rejected task ${carolTask}`);
    const one = await status(requestId);
    expect(one['status']).toBe('PENDING'); // alice and bob can still reach the quorum
    expect(one['rejectedBy']).toEqual([approvers[2]!.publicKey]);
    expect(one['rejections']).toEqual([{ approverPublicKey: approvers[2]!.publicKey, reason }]);

    const aliceTask = await taskOf(0, requestId);
    await succeeds(['reject', approvers[0]!.file, aliceTask], { TSB_API_KEY: apiKeys.approvers[0]! });
    const done = await waitFor(requestId, ['REJECTED', 'EXECUTED', 'FAILED']);
    expect(done['status']).toBe('REJECTED');
    expect(done['rejections']).toEqual(
      expect.arrayContaining([
        { approverPublicKey: approvers[2]!.publicKey, reason },
        { approverPublicKey: approvers[0]!.publicKey, reason: null },
      ]),
    );
  });

  it('prints the TSB error body when the service refuses, and exits 1', async () => {
    // one credential with both roles: it creates the request, so it may not approve it (403, errorCode 400)
    const token = (await ctx.as('approvals', ['keyOperation', 'approver'])).authorization!.slice(7);
    const response = await fetch(`${baseUrl}/v1/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        signRequest: {
          payload: Buffer.from('self-approved').toString('base64'),
          signKeyName: KEY,
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      }),
    });
    expect(response.status).toBe(201);
    const { signRequestId } = (await response.json()) as { signRequestId: string };
    const taskId = await taskOf(0, signRequestId);

    const run = await script(['approve', approvers[0]!.file, taskId], { TSB_TOKEN: token });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('POST /v1/approval failed: HTTP 403');
    expect(run.stderr).toContain('"errorCode":400');
    expect(run.stderr).toContain('cannot decide on it');

    const wrongKey = await script(['tasks', approvers[0]!.file], {
      TSB_API_KEY: `tsb-x-token_${'A'.repeat(43)}`,
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('HTTP 401');
    expect(wrongKey.stderr).toContain('res.error.invalid.api.key');
    expect((await status(signRequestId))['status']).toBe('PENDING');
  });
});
