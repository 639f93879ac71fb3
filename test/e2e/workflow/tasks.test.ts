import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  type ListedTask,
  rule,
  type TestApprover,
} from '../../helpers/approvers.js';
import { selfSignedP256 } from '../../helpers/openssl.js';
import {
  approvalBody,
  asyncRequest,
  b64,
  createKey,
  createSkaKey,
  evaluated,
  expectTsbError,
  listWith,
  openTasks,
  postApproval,
  signRequest,
  taskFilter,
  unb64,
  wholeSecondClock,
} from './fixtures.js';

const P = 'tasks';
const OTHER = 'tasks-elsewhere';
const OPERATIONS = ['SIGN', 'DECRYPT', 'UNWRAP', 'BLOCK', 'UNBLOCK', 'MODIFY'] as const;
type Operation = (typeof OPERATIONS)[number];
const PATHS: Record<Operation, string> = {
  SIGN: '/v1/filteredSignApprovalTask',
  DECRYPT: '/v1/filteredDecryptApprovalTask',
  UNWRAP: '/v1/filteredUnwrapKeyApprovalTask',
  BLOCK: '/v1/filteredBlockKeyApprovalTask',
  UNBLOCK: '/v1/filteredUnblockKeyApprovalTask',
  MODIFY: '/v1/filteredModifyKeyApprovalTask',
};
const ECHO: Record<Operation, { echo: string; wrapper: string }> = {
  SIGN: { echo: 'signedSignRequest', wrapper: 'signRequest' },
  DECRYPT: { echo: 'signedDecryptRequest', wrapper: 'decryptRequest' },
  UNWRAP: { echo: 'signedUnwrapKeyRequest', wrapper: 'unwrapKeyRequest' },
  BLOCK: { echo: 'signedBlockKeyRequest', wrapper: 'blockRequest' },
  UNBLOCK: { echo: 'signedUnblockKeyRequest', wrapper: 'unblockRequest' },
  MODIFY: { echo: 'signedModifyKeyRequest', wrapper: 'modifyRequest' },
};

const LEVEL1_FIELDS = [
  'detailLevel',
  'id',
  'approvalToBeSigned',
  'approverPublicKey',
  'requestId',
  'operation',
  'keyName',
  'createdAt',
  'expiresAt',
  'payloadDigest',
  'rejectionToBeSigned',
];

interface Signer {
  certificate: string;
  certificateFile: string;
  privateKey: ReturnType<typeof createPrivateKey>;
}

async function makeSigner(dir: string, name: string): Promise<Signer> {
  const { keyFile, certFile } = await selfSignedP256(dir, {
    subject: `/CN=${name}`,
    keyFile: `${name}.key`,
    certFile: `${name}.crt`,
  });
  const pem = await readFile(certFile, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
  return {
    certificate: b64(der),
    certificateFile: certFile,
    privateKey: createPrivateKey(await readFile(keyFile)),
  };
}

describe('approval tasks', () => {
  let ctx: TestContext;
  let dir: string;
  let signer: Signer;
  let unconfigured: Signer;
  const clock = wholeSecondClock();
  const [a, b] = [createApprover('P-256'), createApprover('Ed25519')] as [TestApprover, TestApprover];
  const ids = {} as Record<Operation, string>;
  const metaData = b64(JSON.stringify({ beneficiary: 'ACME AG', amount: '100.00 CHF' }));
  const metaDataSignature = b64(randomBytes(64));
  const blockMetaData = b64('{"reason":"suspected compromise"}');
  const signInner = {
    payload: b64('pay ACME AG 100 CHF'),
    payloadType: 'UNSPECIFIED',
    signKeyName: 'task-sign',
    keyPassword: 'key-password-1',
    signatureAlgorithm: 'SHA256_WITH_ECDSA',
    metaData,
    metaDataSignature,
  };
  const newPolicy = {
    ruleUse: null,
    ruleBlock: rule([{ quorum: 2, approvers: [a, b] }]),
    ruleUnblock: rule([{ quorum: 2, approvers: [a, b] }]),
    ruleModify: rule([{ quorum: 1, approvers: [a] }]),
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opentsb-signer-'));
    [signer, unconfigured] = await Promise.all([makeSigner(dir, 'signer'), makeSigner(dir, 'stranger')]);
    ctx = await createTestContext({
      worker: true,
      clock,
      env: { TSB_TIMESTAMP_SIGNER_CERT_FILES: signer.certificateFile },
    });
    await ctx.partition(P);
    await ctx.partition(OTHER);
    const both = rule([{ quorum: 2, approvers: [a, b] }]);
    await createSkaKey(ctx, P, 'task-sign', { ruleUse: both }, { password: 'key-password-1' });
    await createKey(ctx, P, {
      label: 'task-aes',
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: true },
      policy: {
        ruleUse: both,
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    });
    await createSkaKey(ctx, P, 'task-status', { ruleBlock: both, ruleUnblock: both, ruleModify: both });
    await createSkaKey(ctx, OTHER, 'task-sign', { ruleUse: both });

    // one request of each operation, a second apart, so creation order is unambiguous
    ids.SIGN = await asyncRequest(ctx, P, '/v1/sign', { signRequest: signInner }, 'signRequestId');
    clock.advance(1);
    ids.DECRYPT = await asyncRequest(
      ctx,
      P,
      '/v1/decrypt',
      {
        decryptRequest: {
          encryptedPayload: b64(randomBytes(48)),
          decryptKeyName: 'task-aes',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(randomBytes(12)),
          tagLength: 128,
        },
      },
      'decryptRequestId',
    );
    clock.advance(1);
    ids.UNWRAP = await asyncRequest(
      ctx,
      P,
      '/v1/unwrap',
      {
        unwrapKeyRequest: {
          wrappedKey: b64(randomBytes(40)),
          label: 'never-unwrapped',
          unwrapKeyName: 'task-aes',
          wrapMethod: 'AES_WRAP_PAD',
          attributes: { decrypt: true, sign: false, unwrap: false },
        },
      },
      'unwrapRequestId',
    );
    clock.advance(1);
    ids.BLOCK = await asyncRequest(
      ctx,
      P,
      '/v1/block',
      { blockRequest: { blockKeyName: 'task-status', metaData: blockMetaData } },
      'blockKeyRequestId',
    );
    clock.advance(1);
    ids.UNBLOCK = await asyncRequest(
      ctx,
      P,
      '/v1/unblock',
      { unblockRequest: { unblockKeyName: 'task-status' } },
      'unblockKeyRequestId',
    );
    clock.advance(1);
    ids.MODIFY = await asyncRequest(
      ctx,
      P,
      '/v1/modify',
      { modifyRequest: { modifyKeyName: 'task-status', policy: newPolicy } },
      'modifyKeyRequestId',
      ['keyManagement'],
    );
    clock.advance(1);
    await signRequest(ctx, OTHER, 'task-sign', 'elsewhere');
  });
  afterAll(async () => {
    await ctx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const list = async (approver: TestApprover, extra: Record<string, unknown> = {}, url?: string) => {
    const response = await listWith(ctx, P, taskFilter(approver, clock.now(), extra), url);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().tasks as ListedTask[];
  };
  const detail = async (operation: Operation, level: string) => {
    const tasks = await list(a, { requestId: ids[operation], detailLevel: level });
    expect(tasks).toHaveLength(1);
    return tasks[0]!;
  };
  const signerFilter = (certificate: Signer, extra: Record<string, unknown> = {}) => {
    const timestamp = clock.now().toISOString();
    return {
      timestamp,
      timestampSignature: b64(sign('sha256', Buffer.from(timestamp), certificate.privateKey)),
      timestampDigestAlgorithm: 'SHA-256',
      timestampSigningCertificate: certificate.certificate,
      ...extra,
    };
  };

  describe('filtered*ApprovalTask paths', () => {
    it.each(OPERATIONS)('the %s path lists only that operation’s tasks', async (operation) => {
      const tasks = await list(a, { paging: { pageSize: 100 } }, PATHS[operation]);
      expect(tasks.map((task) => task.requestId)).toEqual([ids[operation]]);
      expect(tasks[0]!['operation']).toBe(operation);
    });

    it('filteredAllApprovalTask lists every operation, and only this partition’s tasks', async () => {
      const tasks = await list(a, { paging: { pageSize: 100 } });
      expect(tasks.map((task) => task.requestId)).toEqual(OPERATIONS.map((operation) => ids[operation]));
      expect(tasks.map((task) => task['operation'])).toEqual([...OPERATIONS]);
    });
  });

  describe('detail levels', () => {
    it('level1 has the challenge and the OpenTSB summary, nothing of the request itself', async () => {
      const task = await detail('SIGN', 'level1');
      expect(Object.keys(task).sort()).toEqual([...LEVEL1_FIELDS].sort());
      expect(task).toMatchObject({
        detailLevel: 'level1',
        requestId: ids.SIGN,
        operation: 'SIGN',
        keyName: 'task-sign',
        approverPublicKey: a.publicKey,
        expiresAt: null,
      });
      const challenge = unb64(task.approvalToBeSigned);
      expect(unb64(task.rejectionToBeSigned).equals(Buffer.concat([Buffer.from('REJECT:'), challenge]))).toBe(
        true,
      );
      // the challenge ends with the payload digest item
      expect(challenge.subarray(-32).equals(unb64(String(task['payloadDigest'])))).toBe(true);
    });

    it('level2 adds metaData and metaDataSignature exactly as the request sent them', async () => {
      const task = await detail('SIGN', 'level2');
      expect(task['metaData']).toBe(metaData);
      expect(task['metaDataSignature']).toBe(metaDataSignature);
      expect(task).not.toHaveProperty('requestBase64');
      // block requests carry metadata too (here without a signature)
      const block = await detail('BLOCK', 'level2');
      expect(block['metaData']).toBe(blockMetaData);
      expect(block['metaDataSignature']).toBeNull();
      // a request without metadata shows null
      const decrypt = await detail('DECRYPT', 'level2');
      expect(decrypt['metaData']).toBeNull();
      expect(decrypt['metaDataSignature']).toBeNull();
    });

    it('level2 adds the payload, whose SHA-256 is the payload digest of the challenge', async () => {
      const task = await detail('SIGN', 'level2');
      expect(task['metaData']).toBe(metaData);
      expect(task['payload']).toBe(signInner.payload);
      expect(task['payloadType']).toBe('UNSPECIFIED');
      const digest = createHash('sha256')
        .update(unb64(String(task['payload'])))
        .digest();
      expect(unb64(task.approvalToBeSigned).subarray(-32).equals(digest)).toBe(true);
      expect(task).not.toHaveProperty('requestBase64');

      // a modify task's payload is the canonical JSON of the new policy
      const modify = await detail('MODIFY', 'level2');
      const policyText = unb64(String(modify['payload'])).toString('utf8');
      expect(JSON.parse(policyText)).toEqual(newPolicy);
      const modifyDigest = createHash('sha256').update(policyText).digest();
      expect(unb64(modify.approvalToBeSigned).subarray(-32).equals(modifyDigest)).toBe(true);
      // block and unblock approve the empty string
      const blockTask = await detail('BLOCK', 'level2');
      expect(blockTask['payload']).toBe('');
      expect(unb64(String(blockTask['payloadDigest'])).toString('hex')).toBe(
        createHash('sha256').update('').digest('hex'),
      );
      // every operation: the payload shown is what the challenge's digest covers
      for (const operation of OPERATIONS) {
        const shown = await detail(operation, 'level2');
        const digest = createHash('sha256')
          .update(unb64(String(shown['payload'])))
          .digest();
        expect(unb64(shown.approvalToBeSigned).subarray(-32).equals(digest), operation).toBe(true);
        expect(unb64(String(shown['payloadDigest'])).equals(digest), operation).toBe(true);
      }
    });

    it('level3 adds the original request without its password, level4 the partition-signed timestamp', async () => {
      const level3 = await detail('SIGN', 'level3');
      expect(level3['requestBase64']).toEqual(expect.any(String));
      expect(level3).not.toHaveProperty('timestamp');
      const task = await detail('SIGN', 'level4');
      const { keyPassword: _password, ...withoutPassword } = signInner;
      const original = JSON.parse(unb64(String(task['requestBase64'])).toString('utf8'));
      expect(original).toEqual({ signRequest: withoutPassword, requestSignature: null });
      expect(unb64(String(task['requestBase64'])).toString('utf8')).not.toContain('key-password-1');
      expect(task['signedSignRequest']).toEqual(original);
      for (const other of OPERATIONS.filter((operation) => operation !== 'SIGN')) {
        expect(task[ECHO[other].echo], ECHO[other].echo).toBeNull();
      }
      expect(task['timestampSignatureAlgorithm']).toBe('SHA256_WITH_ECDSA');

      const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
      const timestampKey = createPublicKey({
        key: Buffer.from(partition.timestampPublicKey!),
        format: 'der',
        type: 'spki',
      });
      const timestamp = unb64(String(task['timestamp']));
      const signature = unb64(String(task['timestampSignature']));
      expect(verify('sha256', timestamp, timestampKey, signature)).toBe(true);
      const tampered = Buffer.from(timestamp);
      tampered[tampered.length - 1]! ^= 1;
      expect(verify('sha256', tampered, timestampKey, signature)).toBe(false);
      // the signed timestamp is part of the challenge, and holds the creation time (tag 0x0107, u64le seconds)
      expect(unb64(task.approvalToBeSigned).includes(timestamp)).toBe(true);
      const at = timestamp.indexOf(Buffer.from('07010800', 'hex'));
      expect(at).toBeGreaterThan(0);
      expect(Number(timestamp.readBigUInt64LE(at + 4)) * 1000).toBe(Date.parse(String(task['createdAt'])));
      expect(task).not.toHaveProperty('keyAttributes');

      for (const operation of OPERATIONS) {
        const echoed = await detail(operation, 'level3');
        const { echo, wrapper } = ECHO[operation];
        expect(echoed[echo], operation).toHaveProperty(wrapper);
        expect(JSON.parse(unb64(String(echoed['requestBase64'])).toString('utf8')), operation).toEqual(
          echoed[echo],
        );
      }
    });

    it('level5 adds the key’s attribute statement as XML', async () => {
      const task = await detail('SIGN', 'level5');
      expect(task['metaData']).toBe(metaData);
      expect(task['requestBase64']).toEqual(expect.any(String));
      const xml = String(task['keyAttributes']);
      expect(xml).toContain('task-sign');
      expect(xml).toContain('<policy>');
      expect(xml).toContain('<rule_use>');
      expect(xml).toContain(a.publicKey);
      expect(xml).toContain(b.publicKey);
      expect(task['keyAttributesSignature']).toEqual(expect.any(String));
      expect(unb64(String(task['keyAttributesSignature'])).length).toBeGreaterThan(0);
    });

    it('an unknown detail level is 400 / 501', async () => {
      const response = await listWith(ctx, P, taskFilter(a, clock.now(), { detailLevel: 'level6' }));
      expectTsbError(response, 400, 501);
    });
  });

  describe('paging and ordering', () => {
    it('pages in creation order, ascending or descending', async () => {
      const pages = [];
      for (const pageNumber of [0, 1, 2, 3]) {
        pages.push(await list(a, { paging: { pageNumber, pageSize: 2, sortOrder: 'CREATION_DATE_ASC' } }));
      }
      expect(pages.map((page) => page.map((task) => task['operation']))).toEqual([
        ['SIGN', 'DECRYPT'],
        ['UNWRAP', 'BLOCK'],
        ['UNBLOCK', 'MODIFY'],
        [],
      ]);
      const descending = await list(a, {
        paging: { pageNumber: 0, pageSize: 4, sortOrder: 'CREATION_DATE_DESC' },
      });
      expect(descending.map((task) => task['operation'])).toEqual(['MODIFY', 'UNBLOCK', 'BLOCK', 'UNWRAP']);
      const bad = await listWith(ctx, P, taskFilter(a, clock.now(), { paging: { sortOrder: 'BY_NAME' } }));
      expectTsbError(bad, 400, 501);
    });

    it('a task id wins over a request id, as in the TSB', async () => {
      const [first, second] = await list(a, { paging: { pageNumber: 0, pageSize: 2 } });
      const chosen = await list(a, { id: first!.id, requestId: second!['requestId'] });
      expect(chosen.map((task) => task.id)).toEqual([first!.id]);
    });

    it('orders by the last fetch: a task listed later sorts last ascending, first descending', async () => {
      clock.advance(1);
      const all = await list(a, { paging: { pageSize: 100 } }); // every task fetched now
      // the smallest id: first ascending and last descending among equal fetch times
      const target = all.map((task) => task.id).sort()[0]!;
      clock.advance(1);
      await list(a, { id: target });
      const ascending = await list(a, { paging: { pageSize: 100, sortOrder: 'LAST_FETCHED_DATE_ASC' } });
      expect(ascending).toHaveLength(OPERATIONS.length);
      expect(ascending.at(-1)!.id).toBe(target);
      // that listing fetched all of them again, at one time
      clock.advance(1);
      const tie = await list(a, { paging: { pageSize: 100, sortOrder: 'LAST_FETCHED_DATE_DESC' } });
      expect(tie.at(-1)!.id).toBe(target);
      clock.advance(1);
      await list(a, { id: target });
      const descending = await list(a, { paging: { pageSize: 100, sortOrder: 'LAST_FETCHED_DATE_DESC' } });
      expect(descending[0]!.id).toBe(target);
    });
  });

  describe('timestamp signer', () => {
    it('lists every approver’s tasks, or one approver’s with approverPublicKey', async () => {
      const response = await listWith(ctx, P, signerFilter(signer, { paging: { pageSize: 100 } }));
      expect(response.statusCode, response.body).toBe(200);
      const tasks = response.json().tasks as ListedTask[];
      expect(tasks).toHaveLength(2 * OPERATIONS.length);
      expect(new Set(tasks.map((task) => task['approverPublicKey']))).toEqual(
        new Set([a.publicKey, b.publicKey]),
      );

      const onlyB = await listWith(ctx, P, signerFilter(signer, { approverPublicKey: b.publicKey }));
      expect(onlyB.statusCode, onlyB.body).toBe(200);
      const tasksOfB = onlyB.json().tasks as ListedTask[];
      expect(tasksOfB).toHaveLength(OPERATIONS.length);
      expect(tasksOfB.every((task) => task['approverPublicKey'] === b.publicKey)).toBe(true);

      const sign = await listWith(ctx, P, signerFilter(signer), PATHS.SIGN);
      expect((sign.json().tasks as ListedTask[]).map((task) => task.requestId)).toEqual([ids.SIGN, ids.SIGN]);
    });

    it('cannot approve (403 / 405), and nothing is recorded', async () => {
      const task = await detail('BLOCK', 'level1');
      const response = await postApproval(
        ctx,
        P,
        approvalBody(a, task, { timestampSigningCertificate: signer.certificate }),
      );
      expectTsbError(response, 403, 405);
      const status = await evaluated(ctx, P, ids.BLOCK);
      expect(status.status).toBe('PENDING');
      expect(status.approvedBy).toEqual([]);
    });

    it('an unconfigured certificate is 403 / 405; a timestamp not signed by the signer is 400 / 403', async () => {
      expectTsbError(await listWith(ctx, P, signerFilter(unconfigured)), 403, 405);
      const forged = signerFilter(signer);
      forged.timestampSignature = b64(sign('sha256', Buffer.from(forged.timestamp), unconfigured.privateKey));
      expectTsbError(await listWith(ctx, P, forged), 400, 403);
    });
  });

  it('a decided task is no longer listed for its approver; the other approver still sees the request', async () => {
    const task = await detail('SIGN', 'level1');
    const response = await approve(ctx, P, a, task);
    expect(response.statusCode, response.body).toBe(200);
    const status = await evaluated(ctx, P, ids.SIGN);
    expect(status.status).toBe('PENDING');
    expect(await list(a, { requestId: ids.SIGN })).toEqual([]);
    expect((await list(a, { paging: { pageSize: 100 } })).map((t) => t.requestId)).not.toContain(ids.SIGN);
    expect(
      (await openTasks(ctx, P, b, clock.now(), { requestId: ids.SIGN })).map((t) => t.requestId),
    ).toEqual([ids.SIGN]);
  });
});
