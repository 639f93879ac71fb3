import { createPrivateKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { LeakRecorder } from '../helpers/leak-check.js';

let t: TestContext;
const secret = randomBytes(32);

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('leaky', { allowKeyExport: true });
  const imported = await t.call('leaky', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key/import/plain',
    body: {
      label: 'aes',
      algorithm: 'AES',
      secretKey: secret.toString('base64'),
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
    },
  });
  expect(imported.statusCode, imported.body).toBe(201);
  const ec = await t.call('leaky', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'ec',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
  });
  expect(ec.statusCode, ec.body).toBe(201);
});
afterAll(() => t?.close());

describe('the leak check of `npm run test:leaks` (it must be able to fail)', () => {
  it('finds a secret key in a log line, as hex or base64, and an EC private scalar in a response', async () => {
    const clean = new LeakRecorder();
    clean.logLines.push('{"msg":"request completed"}');
    await expect(clean.check(t.prisma, t.hsm)).resolves.toBeUndefined();

    for (const form of [secret.toString('hex'), secret.toString('base64')]) {
      const recorder = new LeakRecorder();
      recorder.logLines.push(`{"msg":"oops ${form}"}`);
      await expect(recorder.check(t.prisma, t.hsm)).rejects.toThrow(/key "aes" in a log line/);
    }

    const partition = await t.hsm.partitions.requireByName('leaky');
    const key = await t.hsm.keys.requireKey(partition, 'ec');
    const pkcs8 = t.hsm.keys.materialOf(partition, key).secret!;
    const recorder = new LeakRecorder();
    const jwk = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    recorder.record({ method: 'GET', url: '/v1/key' }, { body: `{"d":"${jwk.d}"}`, headers: {} } as never);
    await expect(recorder.check(t.prisma, t.hsm)).rejects.toThrow(/key "ec" in a response of \/v1\/key/);
  });

  it('finds a password the tests sent, but not an exported key in the export answer', async () => {
    const recorder = new LeakRecorder();
    recorder.record(
      { method: 'POST', url: '/v1/key/export/plain', payload: { label: 'aes', password: 'hunter22-secret' } },
      { body: `{"secretKey":"${secret.toString('base64')}"}`, headers: {} } as never,
    );
    await expect(recorder.check(t.prisma, t.hsm)).resolves.toBeUndefined();
    recorder.logLines.push('{"msg":"password hunter22-secret"}');
    await expect(recorder.check(t.prisma, t.hsm)).rejects.toThrow(
      /a password of 15 characters in a log line/,
    );
  });
});
