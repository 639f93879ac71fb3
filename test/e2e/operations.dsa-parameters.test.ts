/**
 * DSA keys DSA cannot use are refused over the wire (test/unit/crypto/signatures/dsa-parameters.test.ts has
 * the details): importing a private key of q = 2, which NONE_WITH_DSA could never sign some digests with (its
 * retry loop held the API process's event loop for good), or of g = 1, is 400 with the TSB error body, and a
 * key with good parameters still imports and signs NONE_WITH_DSA. The domain check of a DSA-3072 import runs in
 * the signature pool's worker, not on the API's event loop (crypto/mechanisms/dsa-domain-ahead.ts).
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { children, decode, integer, readInteger, sequence } from '../../src/crypto/der.js';
import { dsaDomainCheckStats } from '../../src/crypto/mechanisms/dsa-domain.js';
import { signaturePoolStats } from '../../src/crypto/signatures/signatures-pool.js';
import { algorithmIdentifier, decodePkcs8, encodePkcs8 } from '../../src/crypto/spki-pkcs8.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, withScratch } from '../helpers/openssl.js';

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('dsa');
});
afterAll(() => t.close());

const FIXTURE = path.resolve(import.meta.dirname, '../unit/crypto/signatures/fixtures/dsa-2048-256.pem');
const FIXTURE_3072 = path.resolve(import.meta.dirname, '../unit/crypto/signatures/fixtures/dsa-3072-256.pem');

const importDsa = (label: string, der: Buffer) =>
  t.call('dsa', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key/import/plain',
    body: {
      label,
      algorithm: 'DSA',
      privateKey: der.toString('base64'),
      attributes: { decrypt: false, sign: true, unwrap: false },
    },
  });

describe('DSA domain parameters over the wire', () => {
  it('q = 2 is 400 / 603, g = 1 is 400 / 407; the fixture key imports and signs NONE_WITH_DSA', async () => {
    const key = createPrivateKey(await readFile(FIXTURE, 'utf8'));
    const good = key.export({ type: 'pkcs8', format: 'der' });
    const [p, q, g] = children(decode(decodePkcs8(good).algorithm.parameters!)).map(readInteger) as [
      bigint,
      bigint,
      bigint,
    ];
    const forged = (qq: bigint, gg: bigint) =>
      encodePkcs8(
        algorithmIdentifier('1.2.840.10040.4.1', sequence(integer(p), integer(qq), integer(gg))),
        integer(1n),
      );

    const smallQ = await importDsa('dsa-q2', forged(2n, g));
    expect(smallQ.statusCode).toBe(400);
    expect(smallQ.json()).toMatchObject({ errorCode: 603, reason: 'res.error.input.keysize' });
    const unitG = await importDsa('dsa-g1', forged(q, 1n));
    expect(unitG.statusCode).toBe(400);
    expect(unitG.json()).toMatchObject({ errorCode: 407, reason: 'res.error.parsing.key' });
    expect(await t.prisma.key.count({ where: { label: { in: ['dsa-q2', 'dsa-g1'] } } })).toBe(0);

    const imported = await importDsa('dsa-good', good);
    expect(imported.statusCode, imported.body).toBe(201);
    const digest = Buffer.alloc(32, 0x5a);
    const signed = await t.call('dsa', ['keyOperation'], {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: {
          signKeyName: 'dsa-good',
          signatureAlgorithm: 'NONE_WITH_DSA',
          payload: digest.toString('base64'),
        },
      },
    });
    expect(signed.statusCode).toBe(200);
    const signature = Buffer.from(signed.json().signature, 'base64');
    const verified = await withScratch(async (dir) => {
      await writeFile(
        path.join(dir, 'pub.pem'),
        createPublicKey(key).export({ type: 'spki', format: 'pem' }),
      );
      await writeFile(path.join(dir, 'digest'), digest);
      await writeFile(path.join(dir, 'sig'), signature);
      return openssl(
        ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-in', 'digest', '-sigfile', 'sig'],
        dir,
      );
    });
    expect(verified).toContain('Signature Verified Successfully');
  });

  it('a DSA-3072 import has its domain checked in the worker, not on the event loop; a bad g is still 400 / 407', async () => {
    const info = decodePkcs8(
      createPrivateKey(await readFile(FIXTURE_3072, 'utf8')).export({ type: 'pkcs8', format: 'der' }),
    );
    // a fresh x: a key whose (p, q, g, y) no test checked before
    const x = BigInt(`0x${randomBytes(31).toString('hex')}`) + 2n;
    const withX = (parameters: Buffer) =>
      encodePkcs8(algorithmIdentifier('1.2.840.10040.4.1', parameters), integer(x));
    const [p, q] = children(decode(info.algorithm.parameters!)).map(readInteger) as [bigint, bigint];

    const here = dsaDomainCheckStats().computedHere;
    const inWorker = signaturePoolStats().worker;
    const imported = await importDsa('dsa-3072', withX(info.algorithm.parameters!));
    expect(imported.statusCode, imported.body).toBe(201);
    const refused = await importDsa('dsa-3072-g2', withX(sequence(integer(p), integer(q), integer(2n))));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ errorCode: 407, reason: 'res.error.parsing.key' });
    expect(dsaDomainCheckStats().computedHere - here, 'domain checks on the event loop').toBe(0);
    expect(signaturePoolStats().worker - inWorker).toBe(2);
  });
});
