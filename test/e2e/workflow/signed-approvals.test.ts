import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SkaOperation, selfComputedChallenge } from '../../../src/ska/challenge.js';
import { encodeSignedApproval } from '../../../src/ska/signed-approval.js';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule, type TestApprover, taskOf } from '../../helpers/approvers.js';
import {
  b64,
  type CertificateApprover,
  canonical,
  certificateRule,
  createCertificateApprover,
  createSkaKey,
  expectTsbError,
  keyAttributes,
  sha256,
  signRequest,
  unb64,
  verifiesWithKey,
  wholeSecondClock,
  workflowContext,
} from './fixtures.js';

const P = 'presigned';

describe('pre-signed approvals (signedApprovals) on the synchronous endpoints', () => {
  let ctx: TestContext;
  const clock = wholeSecondClock();
  const [a, b, c, stranger] = [
    createApprover('P-256'),
    createApprover('Ed25519'),
    createApprover('P-256'),
    createApprover('Ed25519'),
  ] as [TestApprover, TestApprover, TestApprover, TestApprover];
  const aesKey = randomBytes(32);
  const payload = Buffer.from('pay 1000 CHF to ACME AG');

  beforeAll(async () => {
    ctx = await workflowContext(P, { clock, worker: false });
    const twoOfThree = rule([{ quorum: 2, approvers: [a, b, c] }]);
    await createSkaKey(ctx, P, 'ps-sign', { ruleUse: twoOfThree });
    await createSkaKey(ctx, P, 'ps-other', { ruleUse: twoOfThree });
    await ctx.partition('ps-elsewhere');
    await createSkaKey(ctx, 'ps-elsewhere', 'ps-sign', { ruleUse: twoOfThree });
    await createSkaKey(ctx, P, 'ps-timelock', {
      ruleUse: rule([{ quorum: 1, approvers: [a] }], { timelock: 60, timeout: 600 }),
    });
    await createSkaKey(ctx, P, 'ps-timeout', {
      ruleUse: rule([{ quorum: 1, approvers: [a] }], { timeout: 60 }),
    });
    await createSkaKey(ctx, P, 'ps-modify', { ruleModify: rule([{ quorum: 1, approvers: [a] }]) });
    await createSkaKey(ctx, P, 'ps-block', {
      ruleBlock: rule([{ quorum: 1, approvers: [a] }]),
      ruleUnblock: rule([{ quorum: 1, approvers: [a] }]),
    });
    const imported = await ctx.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/import/plain',
      body: {
        label: 'ps-aes',
        algorithm: 'AES',
        secretKey: b64(aesKey),
        attributes: { decrypt: true, sign: false, unwrap: false },
        policy: {
          ruleUse: rule([{ quorum: 1, approvers: [a] }]),
          ruleBlock: null,
          ruleUnblock: null,
          ruleModify: null,
          keyStatus: { blocked: false },
        },
      },
    });
    expect(imported.statusCode, imported.body).toBe(201);
  });
  afterAll(async () => ctx?.close());

  /** The key as a pre-signed approval names it: label, UUID and current version (read as a client would). */
  const keyRef = async (label: string, partition = P) => {
    const { json } = (await keyAttributes(ctx, partition, label)).json();
    return { label, id: json.uuid as string, version: json.version as number };
  };

  /** One signedApprovals entry: the approver's signature over a self-computed challenge. */
  const presigned = async (
    approver: TestApprover,
    options: {
      operation?: SkaOperation;
      keyLabel?: string;
      key?: { label: string; id: string; version: number };
      digest?: Buffer;
      createdAt?: Date;
      signer?: TestApprover;
    } = {},
  ) => {
    const challenge = selfComputedChallenge(
      options.operation ?? 'SIGN',
      options.key ?? (await keyRef(options.keyLabel ?? 'ps-sign')),
      options.digest ?? sha256(payload),
      options.createdAt ?? clock.now(),
    );
    return encodeSignedApproval({
      approvalToBeSigned: challenge,
      signature: (options.signer ?? approver).sign(challenge),
      approvalDigestAlgorithm: (options.signer ?? approver).digest,
      approverPublicKey: unb64(approver.publicKey),
    });
  };
  const syncSign = async (
    entries: (string | Promise<string>)[] | undefined,
    keyName = 'ps-sign',
    partition = P,
  ) => {
    const signedApprovals = entries && (await Promise.all(entries));
    return ctx.call(partition, ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: { payload: b64(payload), signKeyName: keyName, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
        ...(signedApprovals === undefined ? {} : { signedApprovals }),
      },
    });
  };

  describe('synchronousSign', () => {
    it('signs with enough approvals; node:crypto verifies the signature', async () => {
      const response = await syncSign([presigned(a), presigned(c)]);
      expect(response.statusCode, response.body).toBe(200);
      expect(await verifiesWithKey(ctx, P, 'ps-sign', payload, unb64(response.json().signature))).toBe(true);
    });

    it('approvals name the very key: the same label in another partition, or a recreated key, refuses them', async () => {
      const here = await keyRef('ps-sign');
      const approvals = [presigned(a, { key: here }), presigned(c, { key: here })];
      expectTsbError(await syncSign(approvals, 'ps-sign', 'ps-elsewhere'), 403, 401);
      const there = await keyRef('ps-sign', 'ps-elsewhere');
      const response = await syncSign(
        [presigned(a, { key: there }), presigned(c, { key: there })],
        'ps-sign',
        'ps-elsewhere',
      );
      expect(response.statusCode, response.body).toBe(200);
    });

    it('too few approvals are 403 / 401: none, one, or one approver twice', async () => {
      expectTsbError(await syncSign(undefined), 403, 401);
      expectTsbError(await syncSign([]), 403, 401);
      expectTsbError(await syncSign([presigned(a)]), 403, 401);
      expectTsbError(await syncSign([presigned(a), presigned(a)]), 403, 401);
    });

    it('an approval for another payload, key or operation is refused (403 / 401)', async () => {
      expectTsbError(await syncSign([presigned(a), presigned(b, { digest: sha256('pay 1 CHF') })]), 403, 401);
      expectTsbError(await syncSign([presigned(a), presigned(b, { keyLabel: 'ps-other' })]), 403, 401);
      expectTsbError(await syncSign([presigned(a), presigned(b, { operation: 'DECRYPT' })]), 403, 401);
      // the same approvals are good for the key they name
      expect(
        (
          await syncSign(
            [presigned(a, { keyLabel: 'ps-other' }), presigned(b, { keyLabel: 'ps-other' })],
            'ps-other',
          )
        ).statusCode,
      ).toBe(200);
    });

    it('an approver outside the rule is refused (403 / 401); a forged signature 400 / 403', async () => {
      expectTsbError(await syncSign([presigned(a), presigned(stranger)]), 403, 401);
      expectTsbError(await syncSign([presigned(a), presigned(b, { signer: stranger })]), 400, 403);
    });

    it('an approval older than the freshness window (600 s) or from the future is 401 / 404', async () => {
      const now = clock.now().getTime();
      expectTsbError(
        await syncSign([presigned(a), presigned(b, { createdAt: new Date(now - 601_000) })]),
        401,
        404,
      );
      expectTsbError(
        await syncSign([presigned(a), presigned(b, { createdAt: new Date(now + 1_000) })]),
        401,
        404,
      );
      expect(
        (await syncSign([presigned(a), presigned(b, { createdAt: new Date(now - 600_000) })])).statusCode,
      ).toBe(200);
    });

    it('an approval older than the token’s timeout does not count', async () => {
      const now = clock.now().getTime();
      expectTsbError(
        await syncSign(
          [presigned(a, { keyLabel: 'ps-timeout', createdAt: new Date(now - 120_000) })],
          'ps-timeout',
        ),
        403,
        401,
      );
      expect(
        (
          await syncSign(
            [presigned(a, { keyLabel: 'ps-timeout', createdAt: new Date(now - 30_000) })],
            'ps-timeout',
          )
        ).statusCode,
      ).toBe(200);
    });

    it('a token with a timelock cannot be satisfied by pre-signed approvals (403 / 401)', async () => {
      expectTsbError(await syncSign([presigned(a, { keyLabel: 'ps-timelock' })], 'ps-timelock'), 403, 401);
    });

    it('a workflow request’s challenge, signed by its approvers, is no pre-signed approval (403 / 401)', async () => {
      const id = await signRequest(ctx, P, 'ps-sign', payload.toString());
      const entries = [];
      for (const approver of [a, b]) {
        const task = await taskOf(ctx, P, approver, id, { now: clock.now() });
        const challenge = unb64(task.approvalToBeSigned);
        entries.push(
          encodeSignedApproval({
            approvalToBeSigned: challenge,
            signature: approver.sign(challenge),
            approvalDigestAlgorithm: approver.digest,
            approverPublicKey: unb64(approver.publicKey),
          }),
        );
      }
      expectTsbError(await syncSign(entries), 403, 401);
    });
  });

  describe('synchronousBlock and synchronousUnblock', () => {
    const blockApproval = (operation: 'BLOCK' | 'UNBLOCK', approver = a) =>
      presigned(approver, { operation, keyLabel: 'ps-block', digest: sha256('') });
    const call = async (url: string, body: Record<string, unknown>) =>
      ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url,
        body: { ...body, signedApprovals: await Promise.all(body['signedApprovals'] as Promise<string>[]) },
      });
    const blocked = async () =>
      (await keyAttributes(ctx, P, 'ps-block')).json().json.policy.keyStatus.blocked;

    it('block and unblock with approvals of the empty payload; an unblock approval does not block', async () => {
      const block = (signedApprovals: Promise<string>[]) =>
        call('/v1/synchronousBlock', { blockRequest: { blockKeyName: 'ps-block' }, signedApprovals });
      const unblock = (signedApprovals: Promise<string>[]) =>
        call('/v1/synchronousUnblock', { unblockRequest: { unblockKeyName: 'ps-block' }, signedApprovals });
      expectTsbError(await block([blockApproval('UNBLOCK')]), 403, 401);
      expectTsbError(await block([blockApproval('BLOCK', b)]), 403, 401);
      expect(await blocked()).toBe(false);
      expect((await block([blockApproval('BLOCK')])).statusCode).toBe(200);
      expect(await blocked()).toBe(true);
      expectTsbError(await unblock([blockApproval('BLOCK')]), 403, 401);
      const unblockNow = blockApproval('UNBLOCK');
      expect((await unblock([unblockNow])).statusCode).toBe(200);
      expect(await blocked()).toBe(false);
      // blocked again: the earlier unblock approval named the key as it was, and does not unblock it twice
      expect((await block([blockApproval('BLOCK')])).statusCode).toBe(200);
      expectTsbError(await unblock([unblockNow]), 403, 401);
      expect(await blocked()).toBe(true);
      expect((await unblock([blockApproval('UNBLOCK')])).statusCode).toBe(200);
    });
  });

  describe('a certificate approver', () => {
    let cert: CertificateApprover;
    beforeAll(async () => {
      cert = await createCertificateApprover(2, 'presigning approver');
      await createSkaKey(ctx, P, 'ps-cert', { ruleUse: certificateRule(cert, 'cert') });
    });
    const certified = async () => {
      const challenge = selfComputedChallenge('SIGN', await keyRef('ps-cert'), sha256(payload), clock.now());
      return encodeSignedApproval({
        approvalToBeSigned: challenge,
        signature: cert.sign(challenge),
        approvalDigestAlgorithm: 'SHA-256',
        approverCertificate: unb64(cert.certificate),
      });
    };

    it('signs with approverCertificate within the validity, 400 / 402 outside it', async () => {
      const start = clock.now();
      try {
        // the certificate was made after the clock started
        clock.set(new Date(Math.max(start.getTime(), cert.notBefore.getTime())));
        const response = await syncSign([certified()], 'ps-cert');
        expect(response.statusCode, response.body).toBe(200);
        clock.set(new Date(cert.notBefore.getTime() - 60_000));
        expectTsbError(await syncSign([certified()], 'ps-cert'), 400, 402);
        clock.set(new Date(cert.notAfter.getTime() + 60_000));
        expectTsbError(await syncSign([certified()], 'ps-cert'), 400, 402);
      } finally {
        clock.set(start);
      }
    });
  });

  describe('synchronousDecrypt', () => {
    const plaintext = Buffer.from('the secret');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const decrypt = async (entries?: Promise<string>[]) => {
      const signedApprovals = entries && (await Promise.all(entries));
      return ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousDecrypt',
        body: {
          decryptRequest: {
            encryptedPayload: b64(ciphertext),
            decryptKeyName: 'ps-aes',
            cipherAlgorithm: 'AES_GCM',
            initializationVector: b64(iv),
            tagLength: 128,
          },
          ...(signedApprovals ? { signedApprovals } : {}),
        },
      });
    };

    it('decrypts with an approval of the ciphertext', async () => {
      const response = await decrypt([
        presigned(a, { operation: 'DECRYPT', keyLabel: 'ps-aes', digest: sha256(ciphertext) }),
      ]);
      expect(response.statusCode, response.body).toBe(200);
      expect(unb64(response.json().payload).equals(plaintext)).toBe(true);
    });

    it('is refused without approvals or with an approval of another operation or payload (403 / 401)', async () => {
      expectTsbError(await decrypt(), 403, 401);
      expectTsbError(
        await decrypt([presigned(a, { operation: 'SIGN', keyLabel: 'ps-aes', digest: sha256(ciphertext) })]),
        403,
        401,
      );
      expectTsbError(
        await decrypt([
          presigned(a, { operation: 'DECRYPT', keyLabel: 'ps-aes', digest: sha256(plaintext) }),
        ]),
        403,
        401,
      );
    });
  });

  describe('synchronousModify', () => {
    /** The new policy written exactly in its normalized TSB JSON form, so its canonical JSON is what is approved. */
    const newPolicy = {
      ruleUse: rule([{ quorum: 1, approvers: [b] }]),
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: rule([{ quorum: 1, approvers: [a] }]),
    };
    const modify = async (entries?: Promise<string>[]) => {
      const signedApprovals = entries && (await Promise.all(entries));
      return ctx.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/synchronousModify',
        body: {
          modifyRequest: { modifyKeyName: 'ps-modify', policy: newPolicy },
          ...(signedApprovals ? { signedApprovals } : {}),
        },
      });
    };
    const policyNow = async () => (await keyAttributes(ctx, P, 'ps-modify')).json().json.policy;

    it('is refused without approvals or with an approval of another policy, and nothing changes', async () => {
      const before = await ctx.keySnapshot();
      expectTsbError(await modify(), 403, 401);
      const otherPolicy = { ...newPolicy, ruleUse: null };
      expectTsbError(
        await modify([
          presigned(a, {
            operation: 'MODIFY',
            keyLabel: 'ps-modify',
            digest: sha256(canonical(otherPolicy)),
          }),
        ]),
        403,
        401,
      );
      expect(await ctx.keySnapshot()).toBe(before);
      expect((await policyNow()).ruleUse).toBeNull();
    });

    it('changes the policy with an approval of the canonical JSON of the new policy', async () => {
      const response = await modify([
        presigned(a, { operation: 'MODIFY', keyLabel: 'ps-modify', digest: sha256(canonical(newPolicy)) }),
      ]);
      expect(response.statusCode, response.body).toBe(200);
      const policy = await policyNow();
      expect(policy.ruleUse.tokens[0].groups[0].approvals[0].value).toBe(b.publicKey);
      expect(policy.keyStatus).toEqual({ blocked: false });
    });
  });
});
