/**
 * The bash + openssl recipe of docs/approval-challenge.md ("Pre-signed approvals") builds a signedApprovals
 * entry the service accepts, once: the recipe is taken from the document and run as written, with only
 * the label, key id and version replaced by those of a real key.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChallenge } from '../../../src/ska/challenge-decoder.js';
import { selfComputedChallenge } from '../../../src/ska/challenge-encoder.js';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule } from '../../helpers/approvers.js';
import {
  b64,
  createSkaKey,
  expectTsbError,
  keyAttributes,
  sha256,
  unb64,
  verifiesWithKey,
  workflowContext,
} from './fixtures.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/approval-challenge.md');
const P = 'recipe';
const LABEL = 'recipe-key';

/** The ```sh block of the document that builds a pre-signed approval. */
async function recipe(): Promise<string> {
  const text = await readFile(DOC, 'utf8');
  const start = text.indexOf('Building one with the openssl CLI');
  expect(start).toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(start));
  expect(block).not.toBeNull();
  return block![1]!;
}

function bash(script: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd, timeout: 20_000 }, (error, _out, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

describe('the openssl recipe for a pre-signed approval', () => {
  let ctx: TestContext;
  let dir: string;
  const approver = createApprover('P-256');
  const message = Buffer.from('Hello, approvers');

  beforeAll(async () => {
    ctx = await workflowContext(P, { worker: false });
    await createSkaKey(ctx, P, LABEL, { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
    dir = await mkdtemp(path.join(tmpdir(), 'opentsb-recipe-'));
    await writeFile(
      path.join(dir, 'approver.pem'),
      approver.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    );
  });
  afterAll(async () => {
    await ctx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds the challenge selfComputedChallenge builds; the service signs with it once', async () => {
    const { json } = (await keyAttributes(ctx, P, LABEL)).json();
    const script = (await recipe())
      .replace(/^label='[^']*'/m, `label='${LABEL}'`)
      .replace(/^key_id='[^']*'/m, `key_id='${json.uuid}'`)
      .replace(/^key_version=\d+/m, `key_version=${json.version}`);
    expect(script).toContain(`key_id='${json.uuid}'`);
    await bash(script, dir);

    const challenge = await readFile(path.join(dir, 'challenge.bin'));
    const { content } = decodeChallenge(challenge);
    const ours = selfComputedChallenge({
      operation: 'SIGN',
      key: { label: LABEL, id: json.uuid, version: json.version },
      payloadDigest: sha256(message),
      parametersDigest: sha256(
        '{"context":null,"payloadType":"UNSPECIFIED","signatureAlgorithm":"SHA256_WITH_ECDSA","signatureType":"DER"}',
      ),
      createdAt: content.createdAt,
      nonce: content.nonce!,
    });
    expect(challenge.toString('hex')).toBe(ours.toString('hex'));

    const entry = (await readFile(path.join(dir, 'signed-approval.txt'), 'utf8')).trim();
    const send = () =>
      ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: {
          signRequest: { payload: b64(message), signKeyName: LABEL, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
          signedApprovals: [entry],
        },
      });
    const response = await send();
    expect(response.statusCode, response.body).toBe(200);
    expect(await verifiesWithKey(ctx, P, LABEL, message, unb64(response.json().signature))).toBe(true);
    expectTsbError(await send(), 403, 401);
  });
});
