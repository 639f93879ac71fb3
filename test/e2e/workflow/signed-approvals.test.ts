import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../../src/auth/api-keys.js';
import type { SkaOperation } from '../../../src/ska/challenge.js';
import { selfComputedChallenge } from '../../../src/ska/challenge-encoder.js';
import { parametersDigest } from '../../../src/ska/operation-parameters.js';
import { encodeSignedApproval } from '../../../src/ska/signed-approval.js';
import type { TestContext } from '../../helpers/app.js';
import {
  createApprover,
  presignedApproval,
  rule,
  type TestApprover,
  taskOf,
} from '../../helpers/approvers.js';
import {
  b64,
  type CertificateApprover,
  canonical,
  certificateRule,
  createCertificateApprover,
  createSkaKey,
  expectTsbError,
  keyAttributes,
  policyOf,
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
  /** the signRequest of `syncSign` (and what `presigned` approves unless told otherwise) */
  const SIGN_REQUEST = {
    payload: b64(payload),
    signKeyName: 'ps-sign',
    signatureAlgorithm: 'SHA256_WITH_ECDSA',
  };

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
      /** the inner request whose operation parameters are approved (default SIGN_REQUEST) */
      request?: Record<string, unknown>;
      createdAt?: Date;
      signer?: TestApprover;
    } = {},
  ) => {
    const operation = options.operation ?? 'SIGN';
    return presignedApproval(
      approver,
      {
        operation,
        key: options.key ?? (await keyRef(options.keyLabel ?? 'ps-sign')),
        payloadDigest: options.digest ?? sha256(payload),
        parametersDigest: parametersDigest(operation, options.request ?? SIGN_REQUEST),
        createdAt: options.createdAt ?? clock.now(),
      },
      options.signer,
    );
  };
  const syncSign = async (
    entries: (string | Promise<string>)[] | undefined,
    keyName = 'ps-sign',
    partition = P,
    request: Record<string, unknown> = {},
  ) => {
    const signedApprovals = entries && (await Promise.all(entries));
    return ctx.call(partition, ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: { ...SIGN_REQUEST, signKeyName: keyName, ...request },
        ...(signedApprovals === undefined ? {} : { signedApprovals }),
      },
    });
  };
  /** The key's use count in the database, after the in-memory use counter's flush. */
  const useCount = async (label: string) => {
    await ctx.hsm.useCounter.flush();
    const key = await ctx.prisma.key.findFirstOrThrow({ where: { label, partition: { name: P } } });
    return key.useCount;
  };
  const expectRefusal = (response: Awaited<ReturnType<typeof syncSign>>, message: RegExp) => {
    expectTsbError(response, 403, 401);
    expect(response.json().message).toMatch(message);
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

  it('a partition with approver keys off refuses them (403 / 401), and counts no use', async () => {
    const { id } = await ctx.hsm.partitions.requireByName(P);
    const before = await useCount('ps-sign');
    await ctx.hsm.partitions.updateApproverKeyAuthentication(id, false);
    try {
      const refused = await syncSign([presigned(a), presigned(c)]);
      expectRefusal(refused, /approver keys off/);
    } finally {
      await ctx.hsm.partitions.updateApproverKeyAuthentication(id, true);
    }
    expect(await useCount('ps-sign')).toBe(before);
    const signed = await syncSign([presigned(a), presigned(c)]);
    expect(signed.statusCode, signed.body).toBe(200);
  });

  describe('an approval authorizes one operation, once', () => {
    it('a replay of a spent approval set, by the same or another credential, is refused and counts no use', async () => {
      const approvals = await Promise.all([presigned(a), presigned(c)]);
      const before = await useCount('ps-sign');
      expect((await syncSign(approvals)).statusCode).toBe(200);
      expect(await useCount('ps-sign')).toBe(before + 1n);
      const snapshot = await ctx.keySnapshot();

      expectRefusal(await syncSign(approvals), /signedApprovals\[0\]: this approval was used already/);
      const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
      const other = await createApiKey(ctx.prisma, partition.id, 'keyOperation');
      const byOther = await ctx.app.inject({
        method: 'POST',
        url: '/v1/synchronousSign',
        headers: { 'x-api-key': other.key },
        payload: { signRequest: SIGN_REQUEST, signedApprovals: approvals },
      });
      expectRefusal(byOther, /this approval was used already/);
      // one spent approval is enough to refuse: a fresh second approval does not revive it
      expectRefusal(await syncSign([approvals[1]!, presigned(b)]), /used already/);
      expect(await ctx.keySnapshot()).toBe(snapshot);
      expect(await useCount('ps-sign')).toBe(before + 1n);
    });

    it('of 8 identical requests sent at once, exactly one signs', async () => {
      const approvals = await Promise.all([presigned(a), presigned(b)]);
      const before = await useCount('ps-sign');
      const answers = await Promise.all(Array.from({ length: 8 }, () => syncSign(approvals)));
      const signed = answers.filter((answer) => answer.statusCode === 200);
      expect(signed).toHaveLength(1);
      for (const answer of answers.filter((answer) => answer.statusCode !== 200)) {
        expectRefusal(answer, /used already/);
      }
      expect(await useCount('ps-sign')).toBe(before + 1n);
    });

    it('the signature algorithm and type are bound: approvals for one do not sign with another', async () => {
      // P is the SHA-256 of a message: NONE_WITH_ECDSA over P would be a SHA256_WITH_ECDSA signature of the message
      const message = Buffer.from('pay 5 CHF');
      const prehashed = { payload: b64(sha256(message)) };
      const approve = (request: Record<string, unknown>) =>
        Promise.all(
          [a, b].map((approver) =>
            presigned(approver, {
              digest: sha256(sha256(message)),
              request: { ...SIGN_REQUEST, ...prehashed, ...request },
            }),
          ),
        );
      const snapshot = await ctx.keySnapshot();
      const none = { signatureAlgorithm: 'NONE_WITH_ECDSA' };
      const sha = { signatureAlgorithm: 'SHA256_WITH_ECDSA' };
      expectRefusal(
        await syncSign(await approve(sha), 'ps-sign', P, { ...prehashed, ...none }),
        /other operation parameters \(signatureAlgorithm/,
      );
      expectRefusal(
        await syncSign(await approve(none), 'ps-sign', P, { ...prehashed, ...sha }),
        /other operation/,
      );
      expectRefusal(
        await syncSign(await approve(none), 'ps-sign', P, { ...prehashed, ...none, signatureType: 'RAW' }),
        /other operation/,
      );
      expect(await ctx.keySnapshot()).toBe(snapshot);
      // what was approved runs; leaving out signatureType and sending its default DER are the same
      const response = await syncSign(await approve(none), 'ps-sign', P, {
        ...prehashed,
        ...none,
        signatureType: 'DER',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(await verifiesWithKey(ctx, P, 'ps-sign', message, unb64(response.json().signature))).toBe(true);
    });

    it('a challenge of the earlier form (no parameters digest, no nonce) is refused with 600', async () => {
      const { id, version } = await keyRef('ps-sign');
      const item = (tag: number, value: Buffer) => {
        const header = Buffer.alloc(4);
        header.writeUInt16LE(tag, 0);
        header.writeUInt16LE(value.length, 2);
        return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
      };
      const frame = (...items: Buffer[]) => {
        const body = Buffer.concat(items);
        const length = Buffer.alloc(4);
        length.writeUInt32LE(body.length, 0);
        return Buffer.concat([length, body]);
      };
      const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
      const seconds = Buffer.alloc(8);
      seconds.writeBigUInt64LE(BigInt(clock.now().getTime() / 1000), 0);
      const digest = sha256(payload);
      const old = frame(
        item(0x003b, u32(1)),
        item(0x1002, Buffer.from('ps-sign')),
        item(
          0x1054,
          frame(
            item(0x7f01, digest),
            item(0x7f04, Buffer.from(id.replaceAll('-', ''), 'hex')),
            item(0x7f05, u32(version)),
            item(0x0107, seconds),
          ),
        ),
        item(0x7f01, digest),
      );
      const entries = [a, b].map((approver) =>
        encodeSignedApproval({
          approvalToBeSigned: old,
          signature: approver.sign(old),
          approvalDigestAlgorithm: approver.digest,
          approverPublicKey: unb64(approver.publicKey),
        }),
      );
      const response = await syncSign(entries);
      expectTsbError(response, 400, 600);
      expect(response.json().message).toMatch(
        /signedApprovals\[0\]\.approvalToBeSigned: .*no operation parameters digest \(tag 0x7F06\).*earlier form/,
      );
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
      const challenge = selfComputedChallenge({
        operation: 'SIGN',
        key: await keyRef('ps-cert'),
        payloadDigest: sha256(payload),
        parametersDigest: parametersDigest('SIGN', SIGN_REQUEST),
        createdAt: clock.now(),
      });
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
    const decryptRequest = {
      encryptedPayload: b64(ciphertext),
      decryptKeyName: 'ps-aes',
      cipherAlgorithm: 'AES_GCM',
      initializationVector: b64(iv),
      tagLength: 128,
    };
    const decrypt = async (entries?: Promise<string>[], request: Record<string, unknown> = {}) => {
      const signedApprovals = entries && (await Promise.all(entries));
      return ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousDecrypt',
        body: {
          decryptRequest: { ...decryptRequest, ...request },
          ...(signedApprovals ? { signedApprovals } : {}),
        },
      });
    };
    const approval = (request: Record<string, unknown> = {}) =>
      presigned(a, {
        operation: 'DECRYPT',
        keyLabel: 'ps-aes',
        digest: sha256(ciphertext),
        request: { ...decryptRequest, ...request },
      });

    it('decrypts with an approval of the ciphertext', async () => {
      const response = await decrypt([approval()]);
      expect(response.statusCode, response.body).toBe(200);
      expect(unb64(response.json().payload).equals(plaintext)).toBe(true);
    });

    it('the cipher parameters are bound: another IV, tag length, AAD or cipher is refused (403 / 401)', async () => {
      const swaps = [
        { initializationVector: b64(randomBytes(12)) },
        { tagLength: 96 },
        { additionalAuthenticationData: b64('aad') },
        { cipherAlgorithm: 'AES_CBC_NO_PADDING' },
      ];
      for (const swap of swaps) {
        const response = await decrypt([approval()], swap);
        expectTsbError(response, 403, 401);
        expect(response.json().message).toMatch(/other operation parameters \(cipherAlgorithm/);
      }
      // tagLength 0 means 128: the same parameters, so the approval of tagLength 128 fits
      const response = await decrypt([approval()], { tagLength: 0 });
      expect(response.statusCode, response.body).toBe(200);
    });

    it('is refused without approvals or with an approval of another operation or payload (403 / 401)', async () => {
      expectTsbError(await decrypt(), 403, 401);
      expectTsbError(
        await decrypt([
          presigned(a, {
            operation: 'SIGN',
            keyLabel: 'ps-aes',
            digest: sha256(ciphertext),
            request: decryptRequest,
          }),
        ]),
        403,
        401,
      );
      expectTsbError(
        await decrypt([
          presigned(a, {
            operation: 'DECRYPT',
            keyLabel: 'ps-aes',
            digest: sha256(plaintext),
            request: decryptRequest,
          }),
        ]),
        403,
        401,
      );
    });
  });

  describe('synchronousUnwrap', () => {
    const kek = randomBytes(32);
    const secret = randomBytes(32);
    const cipher = createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('A65959A6', 'hex'));
    const wrapped = Buffer.concat([cipher.update(secret), cipher.final()]);
    const approvedRequest = {
      wrappedKey: b64(wrapped),
      label: 'u1',
      unwrapKeyName: 'ps-kek',
      wrapMethod: 'AES_WRAP_PAD',
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: false, sensitive: true },
    };
    const unwrap = async (entries: string[], request: Record<string, unknown> = {}) =>
      ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousUnwrap',
        body: { unwrapKeyRequest: { ...approvedRequest, ...request }, signedApprovals: entries },
      });
    const keysLabelled = (label: string) =>
      ctx.prisma.key.count({ where: { label, partition: { name: P } } });

    beforeAll(async () => {
      const imported = await ctx.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/key/import/plain',
        body: {
          label: 'ps-kek',
          algorithm: 'AES',
          secretKey: b64(kek),
          attributes: { decrypt: false, sign: false, unwrap: true },
          policy: policyOf({ ruleUse: rule([{ quorum: 1, approvers: [a] }]) }),
        },
      });
      expect(imported.statusCode, imported.body).toBe(201);
    });

    it("binds the new key's label and attributes: approvals for a non-extractable u1 import nothing else, once", async () => {
      const entries = [
        await presigned(a, {
          operation: 'UNWRAP',
          keyLabel: 'ps-kek',
          digest: sha256(wrapped),
          request: approvedRequest,
        }),
      ];
      const extractable = {
        attributes: { ...approvedRequest.attributes, extractable: true, sensitive: false },
      };
      const snapshot = await ctx.keySnapshot();
      for (const swap of [
        { label: 'u2' },
        extractable,
        { label: 'u2', ...extractable },
        { policy: policyOf({}) },
      ]) {
        const response = await unwrap(entries, swap);
        expectTsbError(response, 403, 401);
        expect(response.json().message).toMatch(/other operation parameters \(the new key's label/);
      }
      expect(await ctx.keySnapshot()).toBe(snapshot);

      expect((await unwrap(entries)).statusCode).toBe(201);
      const u1 = (await keyAttributes(ctx, P, 'u1')).json().json;
      expect(u1.attributes).toMatchObject({ extractable: false, sensitive: true });
      // spent: a replay imports nothing, whatever it asks for
      for (const replay of [{ label: 'u2', ...extractable }, { label: 'u2' }]) {
        expectTsbError(await unwrap(entries, replay), 403, 401);
      }
      expect(await keysLabelled('u2')).toBe(0);
      expect(await keysLabelled('u1')).toBe(1);
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
