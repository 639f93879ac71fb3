/**
 * Pre-signed approvals are spent once across processes: two API processes (`src/server.ts`) on one
 * database get the same `signedApprovals` at the same moment, from two credentials; exactly one request
 * signs, every other is refused with 401 (missing approval), and the key's use count grows by one.
 */
import { randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadDigest } from '../../src/ska/challenge.js';
import { parametersDigest } from '../../src/ska/operation-parameters.js';
import { createApprover, presignedApproval, rule, type TestApprover } from '../helpers/approvers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  type ChildService,
  call,
  type PrivateRedis,
  startApi,
  startRedis,
  stopAll,
  tsb,
} from '../helpers/processes.js';

const PARTITION = 'replay';
const LABEL = 'race-key';
const PARALLEL = 12;

describe('pre-signed approvals raced over two API processes', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let dataDir: string;
  let apis: ChildService[];
  const keys = { management: '', operation: [] as string[] };
  const approvers = [createApprover('P-256'), createApprover('Ed25519')] as [TestApprover, TestApprover];

  beforeAll(async () => {
    [db, redis, dataDir] = await Promise.all([
      createTestDatabase(),
      startRedis(),
      mkdtemp(path.join(tmpdir(), 'opentsb-replay-')),
    ]);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      TSB_MASTER_KEY: randomBytes(32).toString('base64'),
      TSB_DATA_DIR: dataDir,
      TSB_QUEUE_PREFIX: 'replay',
      TSB_WORKFLOW_WORKER: 'false',
    };
    await tsb(['partition', 'create', PARTITION], env);
    const apiKey = async (role: string) =>
      (await tsb(['apikey', 'create', '--partition', PARTITION, '--role', role], env)).trim();
    keys.management = await apiKey('keyManagement');
    keys.operation = [await apiKey('keyOperation'), await apiKey('keyOperation')];
    apis = [await startApi('api1', env), await startApi('api2', env)];
  }, 120_000);

  afterAll(async () => {
    await stopAll(3_000);
    await redis?.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(`of ${PARALLEL} identical requests on two processes, exactly one signs`, async () => {
    const base = apis[0]!.url;
    const created = await call(base, 'POST', '/v1/key', keys.management, {
      label: LABEL,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
      policy: { ruleUse: rule([{ quorum: 2, approvers }]), keyStatus: { blocked: false } },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const attributes = await call<{ json: Record<string, unknown> }>(
      base,
      'POST',
      '/v1/key/attributes',
      keys.management,
      { label: LABEL },
    );
    const { uuid, version, publicKey } = attributes.json.json as {
      uuid: string;
      version: number;
      publicKey: string;
    };

    const message = Buffer.from('pay 1 CHF, once');
    const signRequest = {
      payload: message.toString('base64'),
      signKeyName: LABEL,
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
    };
    const signedApprovals = approvers.map((approver) =>
      presignedApproval(approver, {
        operation: 'SIGN',
        key: { label: LABEL, id: uuid, version },
        payloadDigest: payloadDigest(message),
        parametersDigest: parametersDigest('SIGN', signRequest),
        // a second back: the service refuses challenge times from its future
        createdAt: new Date(Date.now() - 1_000),
      }),
    );

    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        call<Record<string, unknown>>(
          apis[i % 2]!.url,
          'POST',
          '/v1/synchronousSign',
          keys.operation[Math.floor(i / 2) % 2]!,
          { signRequest, signedApprovals },
        ),
      ),
    );
    const signed = answers.filter((answer) => answer.status === 200);
    expect(signed, JSON.stringify(answers)).toHaveLength(1);
    const spki = { key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' } as const;
    const signature = Buffer.from(String(signed[0]!.json['signature']), 'base64');
    expect(verify('sha256', message, spki, signature)).toBe(true);
    for (const answer of answers.filter((answer) => answer.status !== 200)) {
      expect(answer.status).toBe(403);
      expect(answer.json['errorCode']).toBe(401);
      expect(String(answer.json['message'])).toMatch(/used already/);
    }
    const key = await db.prisma.key.findFirstOrThrow({ where: { label: LABEL } });
    expect(key.useCount).toBe(1n);
    expect(await db.prisma.consumedApproval.count({ where: { keyId: uuid } })).toBe(2);
  });
});
