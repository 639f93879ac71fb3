/**
 * A key's public key, and a partition's attestation public key, are stored in clear. Someone who can write the
 * database but lacks the master key must not get the service to vouch for a public key of theirs: verifying
 * their signatures, encrypting to them, or attesting their key, while it signs with its own sealed key. The
 * service compares each stored public key with the public key of the sealed private key (HSM_INTEGRITY otherwise).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'integrity';
const KO = ['keyOperation', 'keyManagement'] as const;
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
});
afterAll(async () => t?.close());

const P256 = '1.2.840.10045.3.1.7';
const payload = Buffer.from('pay me').toString('base64');

async function keyRow(label: string) {
  const partition = await t.prisma.partition.findUniqueOrThrow({ where: { name: P } });
  return t.prisma.key.findFirstOrThrow({ where: { partitionId: partition.id, label } });
}

/** Writes a public key into the key's row behind the service's back, and has every process drop its copy. */
async function swapPublicKey(label: string, publicKey: Uint8Array): Promise<void> {
  const row = await keyRow(label);
  await t.prisma.key.update({ where: { id: row.id }, data: { publicKey: new Uint8Array(publicKey) } });
  await t.hsm.metadata.announce({ kind: 'key', partitionId: row.partitionId, label });
}

describe('a public key written into a key row', () => {
  it.each([
    ['EC P-256', { algorithm: 'EC', curveOid: P256 }, 'SHA256_WITH_ECDSA', 'ec' as const],
    ['Ed25519', { algorithm: 'ED', curveOid: '1.3.101.112' }, 'EDDSA', 'ed25519' as const],
  ])(
    '%s: is refused (500 / 701) by verify, attributes and sign, and the genuine one works again',
    async (_name, spec, signatureAlgorithm, type) => {
      const label = `k-${type}`;
      const created = await t.call(P, [...KO], {
        method: 'POST',
        url: '/v1/key',
        body: { label, ...spec, attributes: { sign: true, decrypt: false, unwrap: false } },
      });
      expect(created.statusCode, created.body).toBe(201);
      const genuine = (await keyRow(label)).publicKey!;

      const theirs =
        type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
      const forged = sign(type === 'ec' ? 'sha256' : null, Buffer.from('pay me'), {
        key: theirs.privateKey,
        ...(type === 'ec' ? { dsaEncoding: 'der' as const } : {}),
      });
      await swapPublicKey(label, theirs.publicKey.export({ type: 'spki', format: 'der' }));

      const verify = await t.call(P, [...KO], {
        method: 'POST',
        url: '/v1/verify',
        body: {
          verifySignatureRequest: {
            signKeyName: label,
            payload,
            signatureAlgorithm,
            signature: forged.toString('base64'),
          },
        },
      });
      expect([verify.statusCode, verify.json().errorCode], verify.body).toEqual([500, 701]);
      const attributes = await t.call(P, [...KO], { method: 'GET', url: `/v1/key/${label}/attributes` });
      expect([attributes.statusCode, attributes.json().errorCode]).toEqual([500, 701]);
      expect(attributes.body).not.toContain(
        Buffer.from(theirs.publicKey.export({ type: 'spki', format: 'der' })).toString('base64'),
      );
      const signed = await t.call(P, [...KO], {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: { signRequest: { signKeyName: label, payload, signatureAlgorithm } },
      });
      expect([signed.statusCode, signed.json().errorCode]).toEqual([500, 701]);

      await swapPublicKey(label, genuine);
      const again = await t.call(P, [...KO], { method: 'GET', url: `/v1/key/${label}/attributes` });
      expect(again.statusCode, again.body).toBe(200);
    },
  );
});
