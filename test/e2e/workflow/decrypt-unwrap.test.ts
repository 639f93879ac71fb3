import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import {
  createApprover,
  type ListedTask,
  rule,
  type TestApprover,
  waitForStatus,
} from '../../helpers/approvers.js';
import {
  approveTask,
  asyncRequest,
  b64,
  expectTsbError,
  keyAttributes,
  openTasks,
  requestStatus,
  unb64,
  workflowContext,
} from './fixtures.js';

const P = 'ciphers';

describe('asynchronous decrypt and unwrap', () => {
  let ctx: TestContext;
  const approver: TestApprover = createApprover('P-256');
  const aesKey = randomBytes(32);
  const kek = randomBytes(32);

  beforeAll(async () => {
    ctx = await workflowContext(P, {}, { allowKeyExport: true });
    const policy = {
      ruleUse: rule([{ quorum: 1, approvers: [approver] }]),
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    };
    for (const [label, secret, attributes] of [
      ['secret-aes', aesKey, { decrypt: true, sign: false, unwrap: false }],
      ['kek', kek, { decrypt: false, sign: false, unwrap: true }],
    ] as const) {
      const response = await ctx.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/key/import/plain',
        body: { label, algorithm: 'AES', secretKey: b64(secret), attributes, policy },
      });
      expect(response.statusCode, response.body).toBe(201);
    }
    const rsa = await ctx.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'rsa-decrypt-only',
        algorithm: 'RSA',
        keySize: 2048,
        attributes: { decrypt: true, sign: false, unwrap: false },
        policy,
      },
    });
    expect(rsa.statusCode, rsa.body).toBe(201);
  });
  afterAll(async () => ctx?.close());

  const approveOk = (id: string): Promise<ListedTask> => approveTask(ctx, P, approver, id);
  const finished = (id: string) => waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED', 'CANCELLED']);

  it('AES-GCM decrypt: after approval the result is the plaintext; the approver saw the ciphertext', async () => {
    const plaintext = Buffer.from('salary list 2026');
    const iv = randomBytes(12);
    const aad = Buffer.from('header');
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/decrypt',
      {
        decryptRequest: {
          encryptedPayload: b64(ciphertext),
          decryptKeyName: 'secret-aes',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(iv),
          tagLength: 128,
          additionalAuthenticationData: b64(aad),
        },
      },
      'decryptRequestId',
    );
    const pending = await requestStatus(ctx, P, id);
    expect(pending.status).toBe('PENDING');
    expect(pending.result).toBeNull();
    const [task] = await openTasks(ctx, P, approver, new Date(), { requestId: id, detailLevel: 'level3' });
    expect(task!['operation']).toBe('DECRYPT');
    expect(task!['payload']).toBe(b64(ciphertext));

    await approveOk(id);
    const done = await finished(id);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    expect(unb64(String(done['result'])).equals(plaintext)).toBe(true);
    // at rest the plaintext is sealed under the partition key, bound to this request
    const row = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    expect(row.result).toMatch(/^sealed:/);
    for (const form of [plaintext.toString('utf8'), b64(plaintext), plaintext.toString('hex')]) {
      expect(row.result).not.toContain(form);
    }
  });

  it('a decryption that fails after approval ends FAILED with the errorCode', async () => {
    const id = await asyncRequest(
      ctx,
      P,
      '/v1/decrypt',
      {
        decryptRequest: {
          encryptedPayload: b64(randomBytes(40)),
          decryptKeyName: 'secret-aes',
          cipherAlgorithm: 'AES_GCM',
          initializationVector: b64(randomBytes(12)),
          tagLength: 128,
        },
      },
      'decryptRequestId',
    );
    await approveOk(id);
    const done = await finished(id);
    expect(done['status']).toBe('FAILED');
    expect(done['errorCode']).toBe(410);
    expect(done['result']).toBeNull();
  });

  describe('RSA_NO_PADDING with a key that may not sign (raw RSA decryption is the signing operation)', () => {
    // an EMSA-PKCS1-v1_5 SHA-256 block: its raw "decryption" would be a SHA256_WITH_RSA signature
    const digestInfo = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update('approve transfer #42').digest(),
    ]);
    const block = Buffer.concat([
      Buffer.from([0x00, 0x01]),
      Buffer.alloc(256 - 3 - digestInfo.length, 0xff),
      Buffer.from([0x00]),
      digestInfo,
    ]);
    const body = {
      decryptRequest: {
        encryptedPayload: b64(block),
        decryptKeyName: 'rsa-decrypt-only',
        cipherAlgorithm: 'RSA_NO_PADDING',
      },
    };

    it('/v1/decrypt is refused at once with 403 / 614 and stores no request', async () => {
      const before = await ctx.prisma.skaRequest.count();
      const response = await ctx.call(P, ['keyOperation'], { method: 'POST', url: '/v1/decrypt', body });
      expectTsbError(response, 403, 614);
      expect(response.json().message).toMatch(/RSA_NO_PADDING.*sign/);
      expect(await ctx.prisma.skaRequest.count()).toBe(before);
    });

    it('a request stored without that check (as before it existed) fails with 614 when approved, with no result', async () => {
      const unchecked = vi.spyOn(ctx.hsm.operations, 'checkDecryptRequest').mockImplementation(() => {});
      let id: string;
      try {
        id = await asyncRequest(ctx, P, '/v1/decrypt', body, 'decryptRequestId');
      } finally {
        unchecked.mockRestore();
      }
      await approveOk(id);
      const done = await finished(id);
      expect(done['status'], JSON.stringify(done)).toBe('FAILED');
      expect(done['errorCode']).toBe(614);
      expect(done['result']).toBeNull();
    });
  });

  describe('unwrap', () => {
    const secret = randomBytes(32);
    const wrap = (data: Buffer) => {
      const cipher = createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('A65959A6', 'hex'));
      return Buffer.concat([cipher.update(data), cipher.final()]);
    };
    const unwrapRequest = (label: string) =>
      asyncRequest(
        ctx,
        P,
        '/v1/unwrap',
        {
          unwrapKeyRequest: {
            wrappedKey: b64(wrap(secret)),
            label,
            unwrapKeyName: 'kek',
            wrapMethod: 'AES_WRAP_PAD',
            attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
          },
        },
        'unwrapRequestId',
      );
    const keysLabelled = async (label: string) => {
      const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
      return ctx.prisma.key.count({ where: { partitionId: partition.id, label } });
    };

    it('the new key exists only after approval, holds the wrapped bytes, and is made once', async () => {
      const id = await unwrapRequest('unwrapped');
      expectTsbError(await keyAttributes(ctx, P, 'unwrapped'), 404, 650);
      await approveOk(id);
      const done = await finished(id);
      expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
      expect(done['result']).toBeNull();
      const exported = await ctx.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/key/export/plain',
        body: { label: 'unwrapped' },
      });
      expect(exported.statusCode, exported.body).toBe(200);
      expect(unb64(exported.json().secretKey).equals(secret)).toBe(true);

      // looking at it again, or running it again after a crash before its status was stored, makes no second key
      await ctx.app.workflow.engine.evaluate(id);
      await ctx.app.workflow.engine.execute(id);
      await ctx.prisma.skaRequest.update({
        where: { id },
        data: { status: 'APPROVED', executionClaimedAt: null, executedAt: null },
      });
      await ctx.app.workflow.engine.execute(id);
      expect((await requestStatus(ctx, P, id)).status).toBe('EXECUTED');
      expect(await keysLabelled('unwrapped')).toBe(1);
    });

    it('a second request for the same label fails with 608 after approval and leaves the first key', async () => {
      const before = await ctx.keySnapshot();
      const id = await unwrapRequest('unwrapped');
      await approveOk(id);
      const done = await finished(id);
      expect(done['status']).toBe('FAILED');
      expect(done['errorCode']).toBe(608);
      expect(await keysLabelled('unwrapped')).toBe(1);
      // only the use counter of the kek may differ; the unwrapped key is untouched
      const key = (snapshot: string) =>
        snapshot.split('\n').find((row) => row.includes('"label":"unwrapped"'));
      expect(key(before)).toEqual(expect.any(String));
      expect(key(await ctx.keySnapshot())).toBe(key(before));
    });
  });
});
