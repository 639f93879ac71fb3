/**
 * The task fields of every detail level as the TSB has them (its task DTOs TaskLevel1…5, and the
 * level5 sample of tsb/Tutorials/Blockchain/slip10.md): the docs' own filtered-task request
 * (fixture 20, an approver's P-384 timestamp signature) is sent unchanged at the docs' time, and
 * the answer is read field by field as the docs' answer (fixture 21) has them.
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { ManualClock } from '../../helpers/clock.js';
import { asyncRequest, createSkaKey, listWith, unb64, workflowContext } from './fixtures.js';

const P = 'task-levels';
const fixture = async (name: string) =>
  JSON.parse(await readFile(new URL(`../../fixtures/tsb-examples/${name}`, import.meta.url), 'utf8'));

/** What each level adds, as the TSB's TaskLevel1…5 declare it. */
const LEVEL_FIELDS: Record<string, string[]> = {
  level1: ['detailLevel', 'id', 'approvalToBeSigned', 'approverPublicKey'],
  level2: ['metaData', 'metaDataSignature', 'payload', 'payloadType'],
  level3: [
    'requestBase64',
    'signedSignRequest',
    'signedModifyKeyRequest',
    'signedBlockKeyRequest',
    'signedUnblockKeyRequest',
    'signedDecryptRequest',
    'signedUnwrapKeyRequest',
    'signedCertificateRequestRequest',
    'signedSignCertificateRequest',
    'signedSelfSignCertificateRequestDto',
  ],
  level4: [
    'timestamp',
    'timestampSignature',
    'timestampSignatureAlgorithm',
    'timestampSignatureWithAlgorithm',
  ],
  level5: ['keyAttributes', 'keyAttributesSignature'],
};
const LEVELS = Object.keys(LEVEL_FIELDS);
/** DER AlgorithmIdentifier { ecdsa-with-SHA256, NULL } */
const ECDSA_WITH_SHA256 = Buffer.from('300c06082a8648ce3d0403020500', 'hex');

let ctx: TestContext;
let request: Record<string, unknown>;
let sample: Record<string, unknown>;

beforeAll(async () => {
  request = await fixture('20-filtered-modify-task-request-level5.json');
  sample = (await fixture('21-filtered-modify-task-response-level5.json')).tasks[0];
  // the docs' request was signed at its timestamp: the service's clock stands there
  const clock = new ManualClock(new Date(Date.parse(String(request['timestamp']))));
  ctx = await workflowContext(P, { clock });
  const approval = { type: 'public_key', name: 'ApproverKey1', value: request['approverPublicKey'] };
  const ruleModify = {
    tokens: [
      {
        name: 'Token1',
        timelock: 0,
        timeout: 0,
        groups: [{ name: 'Group1', quorum: 1, approvals: [approval] }],
      },
    ],
  };
  await createSkaKey(ctx, P, 'levels-key', { ruleModify });
  await asyncRequest(
    ctx,
    P,
    '/v1/modify',
    {
      modifyRequest: {
        modifyKeyName: 'levels-key',
        metaData: 'U29tZU1ldGFEYXRh',
        metaDataSignature: 'TWV0YURhdGFTaWduYXR1cmU=',
        policy: {
          ruleUse: null,
          ruleBlock: null,
          ruleUnblock: null,
          ruleModify,
          keyStatus: { blocked: false },
        },
      },
    },
    'modifyKeyRequestId',
    ['keyManagement'],
  );
});
afterAll(() => ctx.close());

async function listAt(detailLevel: string): Promise<Record<string, unknown>> {
  const response = await listWith(ctx, P, { ...request, detailLevel }, '/v1/filteredModifyKeyApprovalTask');
  expect(response.statusCode, response.body).toBe(200);
  const { tasks } = response.json();
  expect(tasks).toHaveLength(1);
  return tasks[0];
}

describe('approval task detail levels, with the docs’ own filtered-task request', () => {
  it('every level has its own fields and those of the levels below, none of the levels above', async () => {
    for (const [index, level] of LEVELS.entries()) {
      const task = await listAt(level);
      expect(task['detailLevel']).toBe(level);
      for (const [other, fields] of Object.entries(LEVEL_FIELDS)) {
        for (const field of fields) {
          if (LEVELS.indexOf(other) <= index) expect(task, `${level} has ${field}`).toHaveProperty(field);
          else expect(task, `${level} lacks ${field}`).not.toHaveProperty(field);
        }
      }
    }
  });

  it('level5 has every field of the docs’ level5 task, with the same JSON types', async () => {
    const task = await listAt('level5');
    for (const [field, value] of Object.entries(sample)) {
      expect(task, field).toHaveProperty(field);
      const kind = (v: unknown) => (v === null ? 'null' : typeof v);
      // the echo of the other operations and a modify's payloadType are null in both
      expect(kind(task[field]), field).toBe(kind(value));
    }
    expect(task['approverPublicKey']).toBe(request['approverPublicKey']);
    expect(task['metaData']).toBe(sample['metaData']);
    expect(task['signedModifyKeyRequest']).toMatchObject({ modifyRequest: { modifyKeyName: 'levels-key' } });
  });

  it('timestampSignatureWithAlgorithm is the DER { ecdsa-with-SHA256, BIT STRING timestampSignature } that the challenge carries', async () => {
    const task = await listAt('level4');
    const signature = unb64(String(task['timestampSignature']));
    const withAlgorithm = unb64(String(task['timestampSignatureWithAlgorithm']));
    const bitString = Buffer.concat([Buffer.of(0x03, signature.length + 1, 0x00), signature]);
    const content = Buffer.concat([ECDSA_WITH_SHA256, bitString]);
    expect(withAlgorithm.equals(Buffer.concat([Buffer.of(0x30, content.length), content]))).toBe(true);
    expect(task['timestampSignatureAlgorithm']).toBe('SHA256_WITH_ECDSA');
    // the 0x1056 item of the challenge holds exactly these bytes
    expect(unb64(String(task['approvalToBeSigned'])).includes(withAlgorithm)).toBe(true);

    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    const timestampKey = createPublicKey({
      key: Buffer.from(partition.timestampPublicKey!),
      format: 'der',
      type: 'spki',
    });
    expect(verify('sha256', unb64(String(task['timestamp'])), timestampKey, signature)).toBe(true);
  });
});
