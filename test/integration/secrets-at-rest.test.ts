import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const execFileAsync = promisify(execFile);
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('vault', { allowKeyExport: true });
});
afterAll(() => t.close());

/** Every form a secret could take in a dump: raw bytes (as latin1 text or bytea hex), hex, base64. */
function forms(secret: Buffer): string[] {
  return [
    secret.toString('hex'),
    secret.toString('hex').toUpperCase(),
    secret.toString('base64'),
    secret.toString('latin1'),
  ];
}

describe('secrets at rest', () => {
  it('a pg_dump of the database holds no secret byte of any key, nor the partition or master key', async () => {
    const KM = ['keyManagement'] as const;
    const secrets: Array<{ label: string; bytes: Buffer }> = [];

    const aes = randomBytes(32);
    const importedAes = await t.call('vault', [...KM], {
      method: 'POST',
      url: '/v1/key/import/plain',
      body: {
        label: 'aes',
        algorithm: 'AES',
        secretKey: aes.toString('base64'),
        attributes: { decrypt: true, sign: false, unwrap: false },
      },
    });
    expect(importedAes.statusCode, importedAes.body).toBe(201);
    secrets.push({ label: 'aes', bytes: aes });

    const ec = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const ecPrivate = Buffer.from(ec.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const importedEc = await t.call('vault', [...KM], {
      method: 'POST',
      url: '/v1/key/import/plain',
      body: {
        label: 'ec',
        algorithm: 'EC',
        privateKey: ec.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        attributes: { decrypt: false, sign: true, unwrap: false },
      },
    });
    expect(importedEc.statusCode, importedEc.body).toBe(201);
    secrets.push({ label: 'ec', bytes: ecPrivate });

    for (const [label, algorithm, extra] of [
      ['rsa', 'RSA', { keySize: 2048 }],
      ['ed', 'ED', { curveOid: '1.3.101.112' }],
      ['mldsa', 'ML-DSA-44', {}],
      ['bls', 'BLS', {}],
    ] as const) {
      const created = await t.call('vault', [...KM], {
        method: 'POST',
        url: '/v1/key',
        body: {
          label,
          algorithm,
          ...extra,
          attributes: { decrypt: false, sign: true, unwrap: false, extractable: true, sensitive: false },
        },
      });
      expect(created.statusCode).toBe(201);
      const exported = (
        await t.call('vault', [...KM], { method: 'POST', url: '/v1/key/export/plain', body: { label } })
      ).json();
      const pkcs8 = Buffer.from(exported.privateKey, 'base64');
      // the last 32 bytes of a PKCS#8 are private-key bytes for every one of these types
      secrets.push(
        { label, bytes: pkcs8 },
        { label: `${label}-tail`, bytes: pkcs8.subarray(pkcs8.length - 32) },
      );
    }

    const partition = await t.hsm.partitions.requireByName('vault');
    secrets.push({ label: 'partition key', bytes: t.hsm.partitions.openPartitionKey(partition) });
    secrets.push({ label: 'master key', bytes: t.masterKey });

    const url = new URL(t.databaseUrl);
    const { stdout } = await execFileAsync(
      'pg_dump',
      [
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        url.username || 'postgres',
        '--data-only',
        url.pathname.slice(1),
      ],
      { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 },
    );
    expect(stdout).toContain('COPY public."Key"');
    expect(stdout).toMatch(/\\\\x01[0-9a-f]{56}/); // sealed blobs: version byte 01, IV, tag …
    for (const { label, bytes } of secrets) {
      for (const form of forms(bytes)) {
        expect(stdout.includes(form), `${label} appears in the dump`).toBe(false);
      }
    }
  });

  it('a sealed key moved to another row or partition does not open', async () => {
    await t.partition('other-vault');
    const KM = ['keyManagement'] as const;
    const body = {
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
    };
    for (const label of ['victim', 'thief']) {
      const created = await t.call('vault', [...KM], {
        method: 'POST',
        url: '/v1/key',
        body: { ...body, label },
      });
      expect(created.statusCode, created.body).toBe(201);
    }
    const victim = await t.prisma.key.findFirstOrThrow({ where: { label: 'victim' } });
    const thief = await t.prisma.key.findFirstOrThrow({ where: { label: 'thief' } });
    await t.prisma.key.update({
      where: { id: thief.id },
      data: { materialSealed: victim.materialSealed, version: { increment: 1 } },
    });
    const response = await t.call('vault', [...KM], {
      method: 'POST',
      url: '/v1/key/export/plain',
      body: { label: 'thief' },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ errorCode: 701, reason: 'res.error.in.hsm' });
    expect(response.body).not.toContain(Buffer.from(victim.materialSealed!).toString('base64'));
  });
});
