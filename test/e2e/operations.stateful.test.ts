/**
 * Stateful hash-based signatures over HTTP (issue 15): HSS/LMS keys created, read (algorithm HSS-LMS,
 * remaining signatures), signed with (every signature at a fresh index, exhaustion refused), verified;
 * their private state never leaves (export, wrap, import refused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hssSignatureIndex } from '../../src/crypto/stateful/hss.js';
import { statefulScheme } from '../../src/crypto/stateful/stateful-schemes.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { exportBackup } from '../helpers/backup.js';

let t: TestContext;
const logLines: string[] = [];
const P = 'stateful';
const signOnly = { decrypt: false, sign: true, unwrap: false, destroyable: true, extractable: true };
const MESSAGE = Buffer.from('firmware image 1.2.3');

const manage = (url: string, body: object) => t.call(P, ['keyManagement'], { method: 'POST', url, body });
const operate = (url: string, body: object) => t.call(P, ['keyOperation'], { method: 'POST', url, body });

async function create(label: string, algorithm: string, attributes: object = signOnly) {
  const response = await manage('/v1/key', { label, algorithm, attributes });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().json;
}

const signRaw = (label: string, signatureAlgorithm = 'LMS', payload = MESSAGE) =>
  operate('/v1/synchronousSign', {
    signRequest: { payload: payload.toString('base64'), signKeyName: label, signatureAlgorithm },
  });

async function sign(label: string, signatureAlgorithm = 'LMS', payload = MESSAGE): Promise<Buffer> {
  const response = await signRaw(label, signatureAlgorithm, payload);
  expect(response.statusCode, response.body).toBe(200);
  return Buffer.from(response.json().signature, 'base64');
}

async function verify(label: string, signature: Buffer, payload = MESSAGE, signatureAlgorithm = 'LMS') {
  const response = await operate('/v1/verify', {
    verifySignatureRequest: {
      signKeyName: label,
      signatureAlgorithm,
      payload: payload.toString('base64'),
      signature: signature.toString('base64'),
    },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().signatureValid as boolean;
}

async function attributes(label: string) {
  const response = await t.call(P, ['keyManagement'], { method: 'GET', url: `/v1/key/${label}/attributes` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().json;
}

beforeAll(async () => {
  t = await createTestContext({ logLines });
  await t.partition(P, { allowKeyExport: true });
});
afterAll(() => t.close());

describe('HSS/LMS keys', () => {
  it('LMS: created as HSS-LMS with 32 signatures of 8,688 bytes, each at a new index, then refused', async () => {
    const json = await create('lms', 'LMS');
    expect(json.algorithm).toBe('HSS-LMS');
    expect(json.algorithmOid).toBe('1.2.840.113549.1.9.16.3.17');
    expect(json.parameterSet).toBe('LMS');
    expect(json.remainingSignatures).toBe(32);
    const indices: number[] = [];
    // in parallel: the reservations still never overlap
    const first = await Promise.all(Array.from({ length: 16 }, () => sign('lms')));
    for (const signature of first) {
      expect(signature).toHaveLength(8688);
      indices.push(hssSignatureIndex(signature));
    }
    expect((await attributes('lms')).remainingSignatures).toBe(16);
    for (let i = 0; i < 16; i++) indices.push(hssSignatureIndex(await sign('lms')));
    expect(new Set(indices).size).toBe(32);
    expect([...indices].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(await verify('lms', first[0]!)).toBe(true);
    expect(await verify('lms', first[0]!, Buffer.from('other'))).toBe(false);

    const exhausted = await signRaw('lms');
    expect(exhausted.statusCode).toBe(403);
    expect(exhausted.json().errorCode).toBe(614);
    expect(exhausted.json().message).toMatch(/all of its 32 signatures/);
    const after = await attributes('lms');
    expect(after.remainingSignatures).toBe(0);
    // 32 signatures and 2 verifications
    expect(after.keyUsageCount).toBe(34);
    // verification goes on
    expect(await verify('lms', first[1]!)).toBe(true);

    // the 29th signature (90 % of 32) was logged as a warning, naming the key
    const warnings = logLines.filter(
      (line) => line.includes('stateful key \\"lms\\"') || line.includes('stateful key "lms"'),
    );
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/has used 29 of its 32 signatures/);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/tsb_stateful_keys\{algorithm="LMS"\} \d+/);
    expect(metrics).toMatch(/tsb_stateful_signatures_remaining_min\{algorithm="LMS"\} 0/);
    expect(metrics).toMatch(/tsb_stateful_keys_past_90_percent\{algorithm="LMS"\} 1/);
  });

  it('a two-level HSS key signs across its lower trees; the key type name is accepted as signatureAlgorithm', async () => {
    const name = 'LMS-SHA256_M32_H5_W8-H5_W8';
    const json = await create('hss2', name);
    expect(json.algorithm).toBe('HSS-LMS');
    expect(json.parameterSet).toBe(name);
    expect(json.remainingSignatures).toBe(1024);
    const a = await sign('hss2');
    const b = await sign('hss2', name);
    expect([hssSignatureIndex(a), hssSignatureIndex(b)]).toEqual([0, 1]);
    expect(a).toHaveLength(statefulScheme(name)!.signatureLength);
    expect(await verify('hss2', b)).toBe(true);
  });

  it('another family’s signatureAlgorithm is refused before an index is spent (607)', async () => {
    await create('lms-607', 'LMS');
    const wrong = await signRaw('lms-607', 'SHA256_WITH_ECDSA');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errorCode).toBe(607);
    expect((await attributes('lms-607')).remainingSignatures).toBe(32);
  });

  it('the private key and its state never leave: export, wrap and private import are refused', async () => {
    await create('lms-kept', 'LMS');
    const exported = await manage('/v1/key/export/plain', { label: 'lms-kept' });
    expect(exported.statusCode).toBe(403);
    expect(exported.json().errorCode).toBe(614);
    const kek = await manage('/v1/key', {
      label: 'kek',
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: true, destroyable: true, extractable: false },
    });
    expect(kek.statusCode, kek.body).toBe(201);
    const wrapped = await operate('/v1/wrap', {
      wrapKeyRequest: { keyToBeWrapped: 'lms-kept', wrapKeyName: 'kek', wrapMethod: 'AES_WRAP_PAD' },
    });
    expect(wrapped.json().errorCode, wrapped.body).toBe(614);
    const imported = await manage('/v1/key/import/plain', {
      label: 'lms-import',
      algorithm: 'LMS',
      privateKey: Buffer.alloc(64).toString('base64'),
    });
    expect(imported.statusCode).toBe(400);
    expect([611, 407]).toContain(imported.json().errorCode);
  });

  it('XMSS-SHA256_10_256: created (algorithm XMSS, 1024 signatures), signed at fresh indices, verified by the RFC 8391 verifier', async () => {
    const json = await create('xmss', 'XMSS-SHA256_10_256');
    expect(json.algorithm).toBe('XMSS');
    expect(json.parameterSet).toBe('XMSS-SHA256_10_256');
    expect(json.remainingSignatures).toBe(1024);
    const scheme = statefulScheme('XMSS-SHA256_10_256')!;
    const publicKey = Buffer.from(json.publicKey, 'base64');
    const signatures = [await sign('xmss', 'XMSS-SHA256_10_256'), await sign('xmss', 'XMSS-SHA256_10_256')];
    expect(signatures.map((signature) => signature.length)).toEqual([2500, 2500]);
    expect(signatures.map((signature) => scheme.indexOf(signature))).toEqual([0, 1]);
    expect(await verify('xmss', signatures[1]!, MESSAGE, 'XMSS-SHA256_10_256')).toBe(true);
    expect(await verify('xmss', signatures[1]!, Buffer.from('another image'), 'XMSS-SHA256_10_256')).toBe(
      false,
    );
    expect((await attributes('xmss')).remainingSignatures).toBe(1022);
    // the key's public key as published: the raw RFC 8391 key is the last 68 bytes of its SubjectPublicKeyInfo
    expect(scheme.verify(publicKey.subarray(publicKey.length - 68), MESSAGE, signatures[0]!)).toBe(true);
  });

  it('backup, more signatures, restore: the restored key signs no more (no index can repeat)', async () => {
    const name = 'LMS-SHA256_M32_H5_W8-H5_W8';
    await t.partition('kept', {});
    const call = (url: string, body: object, roles: Array<'keyManagement' | 'keyOperation'>) =>
      t.call('kept', roles, { method: 'POST', url, body });
    const created = await call('/v1/key', { label: 'backed-up', algorithm: name, attributes: signOnly }, [
      'keyManagement',
    ]);
    expect(created.statusCode, created.body).toBe(201);
    const signKept = () =>
      call(
        '/v1/synchronousSign',
        {
          signRequest: {
            payload: MESSAGE.toString('base64'),
            signKeyName: 'backed-up',
            signatureAlgorithm: 'LMS',
          },
        },
        ['keyOperation'],
      );
    const indices: number[] = [];
    for (let i = 0; i < 3; i++)
      indices.push(hssSignatureIndex(Buffer.from((await signKept()).json().signature, 'base64')));
    const partition = await t.prisma.partition.findUniqueOrThrow({ where: { name: 'kept' } });
    const backup = await exportBackup(t.hsm, partition.id);
    const afterBackup = await signKept();
    indices.push(hssSignatureIndex(Buffer.from(afterBackup.json().signature, 'base64')));
    expect(indices).toEqual([0, 1, 2, 3]);

    await t.prisma.partition.delete({ where: { id: partition.id } });
    const restored = await t.hsm.backups.restore(backup);
    expect(restored.keys).toBe(1);
    const row = await t.prisma.key.findFirstOrThrow({
      where: { partitionId: partition.id, label: 'backed-up' },
    });
    expect(row.statefulNext).toBe(row.statefulLimit);

    const refused = await signKept();
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().errorCode).toBe(614);
    const json = (
      await t.call('kept', ['keyManagement'], { method: 'GET', url: '/v1/key/backed-up/attributes' })
    ).json().json;
    expect(json.remainingSignatures).toBe(0);
    // it still verifies what it signed
    const verified = await call(
      '/v1/verify',
      {
        verifySignatureRequest: {
          signKeyName: 'backed-up',
          signatureAlgorithm: 'LMS',
          payload: MESSAGE.toString('base64'),
          signature: afterBackup.json().signature,
        },
      },
      ['keyOperation'],
    );
    expect(verified.json().signatureValid).toBe(true);
  });

  it('an SKA key: /v1/sign runs through the workflow at a fresh index; the attestation names HSS-LMS', async () => {
    const policy = {
      ruleUse: null,
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    };
    const created = await manage('/v1/key', {
      label: 'lms-ska',
      algorithm: 'LMS',
      attributes: { ...signOnly, extractable: false },
      policy,
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().xml).toContain('HSS-LMS');
    const direct = await sign('lms-ska');
    const request = await operate('/v1/sign', {
      signRequest: { payload: MESSAGE.toString('base64'), signKeyName: 'lms-ska', signatureAlgorithm: 'LMS' },
    });
    expect(request.statusCode, request.body).toBe(201);
    const id = request.json().signRequestId;
    let answer = await t.call(P, ['keyOperation'], { method: 'GET', url: `/v1/request/${id}` });
    for (let i = 0; i < 50 && answer.json().status !== 'EXECUTED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await t.call(P, ['keyOperation'], { method: 'GET', url: `/v1/request/${id}` });
    }
    expect(answer.json().status, answer.body).toBe('EXECUTED');
    const viaWorkflow = Buffer.from(answer.json().result, 'base64');
    expect([hssSignatureIndex(direct), hssSignatureIndex(viaWorkflow)]).toEqual([0, 1]);
    expect(await verify('lms-ska', viaWorkflow)).toBe(true);
    expect((await attributes('lms-ska')).remainingSignatures).toBe(30);
  });

  it('a public key imported for verification verifies, and cannot sign', async () => {
    const source = await create('lms-public-source', 'LMS');
    const signature = await sign('lms-public-source');
    const imported = await manage('/v1/key/import/plain', {
      label: 'lms-public',
      algorithm: 'LMS',
      publicKey: source.publicKey,
      attributes: { decrypt: false, sign: false, unwrap: false, destroyable: true },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json().json.algorithm).toBe('HSS-LMS');
    expect(await verify('lms-public', signature)).toBe(true);
    expect(await verify('lms-public', signature, Buffer.from('other'))).toBe(false);
    expect((await signRaw('lms-public')).statusCode).toBeGreaterThanOrEqual(400);
  });
});
