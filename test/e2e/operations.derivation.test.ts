import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivationPoolStats } from '../../src/crypto/derivation/derivation-pool.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { opensslVerify } from '../helpers/signatures.js';

let t: TestContext;
const P = 'wallet';
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;
const DATA = Buffer.from('a derived key signs this');
const OTHER = Buffer.from('a derived key signs that');
const DET = 'SHA256_WITH_ECDSA_DETERMINISTIC';
const derivable = { sign: true, decrypt: false, unwrap: false, derive: true, bip32: true };

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  const keys = [
    { label: 'hd', algorithm: 'EC', curveOid: '1.3.132.0.10', attributes: derivable },
    {
      label: 'ed-hd',
      algorithm: 'ED',
      curveOid: '1.3.101.112',
      attributes: { sign: true, decrypt: false, unwrap: false, derive: true, slip10: true },
    },
    {
      label: 'flat',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
  ];
  for (const body of keys) {
    const response = await t.call(P, [...KM], { method: 'POST', url: '/v1/key', body });
    expect(response.statusCode, response.body).toBe(201);
  }
});
afterAll(() => t.close());

const signResponse = (signKeyName: string, signatureAlgorithm: string, payload: Buffer = DATA) =>
  t.call(P, [...KO], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: { signRequest: { payload: payload.toString('base64'), signKeyName, signatureAlgorithm } },
  });

async function sign(
  signKeyName: string,
  signatureAlgorithm: string,
  payload: Buffer = DATA,
): Promise<Buffer> {
  const response = await signResponse(signKeyName, signatureAlgorithm, payload);
  expect(response.statusCode, response.body).toBe(200);
  return Buffer.from(response.json().signature, 'base64');
}

async function verify(
  signKeyName: string,
  signatureAlgorithm: string,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const response = await t.call(P, [...KO], {
    method: 'POST',
    url: '/v1/verify',
    body: {
      verifySignatureRequest: {
        signKeyName,
        signatureAlgorithm,
        payload: payload.toString('base64'),
        signature: signature.toString('base64'),
      },
    },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().signatureValid;
}

async function attributesOf(label: string) {
  const response = await t.call(P, [...KM], { method: 'POST', url: '/v1/key/attributes', body: { label } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().json;
}

const derive = (body: object) => t.call(P, [...KM], { method: 'POST', url: '/v1/derivedKey', body });

/** A BIP32 public node (public key + chain code) as @scure/bip32 reads it, from a key's attributes. */
async function publicNode(label: string): Promise<HDKey> {
  const json = await attributesOf(label);
  const spki = Buffer.from(json.publicKey, 'base64');
  const point = secp256k1.Point.fromBytes(spki.subarray(-65));
  return new HDKey({
    publicKey: point.toBytes(true),
    chainCode: Buffer.from(json.derivedAttributes.derivationValue, 'hex'),
  });
}

const verifiesWith = (node: HDKey, payload: Buffer, der: Buffer): boolean =>
  secp256k1.verify(
    secp256k1.Signature.fromBytes(der, 'der').toBytes('compact'),
    sha256(payload),
    node.publicKey!,
    {
      prehash: false,
    },
  );

describe('BIP32 key derivation (secp256k1)', () => {
  it('shows derivedAttributes (type and chain code) on a derivable key', async () => {
    const json = await attributesOf('hd');
    expect(json.attributes.derive).toBe(true);
    expect(json.derivedAttributes).toEqual({
      derivationType: 'SLIP-10',
      derivationValue: expect.stringMatching(/^[0-9A-F]{64}$/),
    });
    expect((await attributesOf('flat')).derivedAttributes).toBeNull();
  });

  it("signs with label/44'/0'/0'/0: verifies under the same name, not under the parent", async () => {
    const signature = await sign("hd/44'/0'/0'/0", 'SHA256_WITH_ECDSA');
    expect(await verify("hd/44'/0'/0'/0", 'SHA256_WITH_ECDSA', DATA, signature)).toBe(true);
    expect(await verify("hd/44'/0'/0'/0", 'SHA256_WITH_ECDSA', OTHER, signature)).toBe(false);
    expect(await verify('hd', 'SHA256_WITH_ECDSA', DATA, signature)).toBe(false);
    expect(await verify("hd/44'/0'/0'/1", 'SHA256_WITH_ECDSA', DATA, signature)).toBe(false);
  });

  it('an unhardened child key is the public BIP32 child @scure/bip32 derives from the parent', async () => {
    const parent = await publicNode('hd');
    const derivations = derivationPoolStats().worker;
    const signature = await sign('hd/7', DET);
    // derived in the derivation pool's worker, not on the event loop
    expect(derivationPoolStats().worker).toBe(derivations + 1);
    expect(verifiesWith(parent.deriveChild(7), DATA, signature)).toBe(true);
    expect(verifiesWith(parent.deriveChild(8), DATA, signature)).toBe(false);
  });

  it("POST /v1/derivedKey persists label/44'/0'/0' as a key that signs as the path does", async () => {
    const response = await derive({ label: "hd/44'/0'/0'", newLabel: 'account0' });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ label: 'account0', derivationType: 'SLIP-10', path: "44'/0'/0'" });
    expect(body.derivationValue).toMatch(/^[0-9A-F]{64}$/);

    const child = await attributesOf('account0');
    expect(child.derivedAttributes).toEqual({
      derivationType: body.derivationType,
      derivationValue: body.derivationValue,
    });
    expect(child.attributes).toMatchObject({ sign: true, derive: true, decrypt: false, unwrap: false });
    expect(child.publicKey).not.toBe((await attributesOf('hd')).publicKey);

    // RFC 6979: the same key signs the same payload to the same bytes, so the persisted child and the
    // path from the parent are the same key
    const viaPath = await sign("hd/44'/0'/0'", DET);
    const viaChild = await sign('account0', DET);
    expect(viaChild).toEqual(viaPath);
    const grandchildViaPath = await sign("hd/44'/0'/0'/0", DET);
    const grandchildViaChild = await sign('account0/0', DET);
    expect(grandchildViaChild).toEqual(grandchildViaPath);
    expect(grandchildViaChild).not.toEqual(viaChild);

    // and the grandchild is the public BIP32 child of the persisted key (@scure/bip32, chain code of the response)
    const node = await publicNode('account0');
    expect(verifiesWith(node.deriveChild(0), DATA, grandchildViaPath)).toBe(true);
    const spki = Buffer.from(child.publicKey, 'base64');
    expect(await opensslVerify(spki, DATA, viaChild, { kind: 'digest', digest: 'sha256' })).toBe(true);
  });

  it('refuses /v1/derivedKey without a path (600) and onto an existing label (409)', async () => {
    const noPath = await derive({ label: 'hd', newLabel: 'nothing' });
    expect(noPath.statusCode).toBe(400);
    expect(noPath.json().errorCode).toBe(600);
    const again = await derive({ label: "hd/44'/0'/0'", newLabel: 'account0' });
    expect(again.statusCode).toBe(409);
    expect(again.json().errorCode).toBe(608);
  });

  it('refuses a path on a key without derive (a 4xx TSB error), and stores nothing', async () => {
    const response = await signResponse('flat/0', 'SHA256_WITH_ECDSA');
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({
      errorCode: 614,
      reason: 'res.error.operation.forbidden.for.key',
    });
    const derived = await derive({ label: "flat/44'", newLabel: 'flat-child' });
    expect(derived.statusCode).toBe(403);
    expect(derived.json().errorCode).toBe(614);
    const labels = await t.call(P, [...KM], { method: 'GET', url: '/v1/key' });
    expect(labels.json()).not.toContain('flat-child');
    expect((await attributesOf('flat')).keyUsageCount).toBe(0);
  });
});

describe('a derived key is no weaker than its parent', () => {
  // With the parent's chain code, which every caller sees in derivedAttributes, an unhardened child's private
  // key gives the parent's (k_parent = k_child - IL mod n), and a hardened child's gives its subtree.
  const E = 'exporting';
  const exportable = { ...derivable, extractable: true, sensitive: false };
  const create = (label: string, attributes: object) =>
    t.call(E, [...KM], {
      method: 'POST',
      url: '/v1/key',
      body: { label, algorithm: 'EC', curveOid: '1.3.132.0.10', attributes },
    });
  const deriveIn = (body: object) => t.call(E, [...KM], { method: 'POST', url: '/v1/derivedKey', body });
  const exportPlain = (label: string) =>
    t.call(E, [...KM], { method: 'POST', url: '/v1/key/export/plain', body: { label } });
  const scalarOf = (pkcs8Base64: string) => {
    const jwk = createPrivateKey({
      key: Buffer.from(pkcs8Base64, 'base64'),
      format: 'der',
      type: 'pkcs8',
    }).export({ format: 'jwk' });
    return Buffer.from(jwk.d as string, 'base64url');
  };

  beforeAll(async () => {
    await t.partition(E, { allowKeyExport: true });
    expect((await create('kept', derivable)).statusCode).toBe(201);
    expect((await create('open', exportable)).statusCode).toBe(201);
  });

  it.each([
    ['an unhardened child made extractable', 'kept/7', { extractable: true }, 'extractable'],
    ['a hardened child made extractable', "kept/44'/0'/0'", { extractable: true }, 'extractable'],
    ['a child made non-sensitive', 'kept/7', { sensitive: false }, 'sensitive'],
  ])(
    'refuses %s of a non-extractable, sensitive parent (400 / 606), and stores nothing',
    async (_, label, weaker, attribute) => {
      const response = await deriveIn({
        label,
        newLabel: 'leak',
        attributes: { sign: true, decrypt: false, unwrap: false, ...weaker },
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ errorCode: 606, reason: 'res.error.key.attributes.invalid' });
      expect(response.json().message).toContain(`attributes.${attribute}`);
      const labels = await t.call(E, [...KM], { method: 'GET', url: '/v1/key' });
      expect(labels.json()).not.toContain('leak');
    },
  );

  it('derives a child as strict as its parent, or stricter, and refuses its plain export', async () => {
    const same = await deriveIn({ label: 'kept/7', newLabel: 'kept-7' });
    expect(same.statusCode, same.body).toBe(201);
    const stricter = await deriveIn({
      label: 'open/8',
      newLabel: 'open-8-kept',
      attributes: { sign: true, decrypt: false, unwrap: false },
    });
    expect(stricter.statusCode, stricter.body).toBe(201);
    for (const label of ['kept-7', 'open-8-kept']) expect((await exportPlain(label)).statusCode).toBe(403);
  });

  it("an exportable parent's child may be exported: the BIP32 child of the parent's exported key (@scure/bip32)", async () => {
    const derived = await deriveIn({ label: 'open/7', newLabel: 'open-7', attributes: exportable });
    expect(derived.statusCode, derived.body).toBe(201);
    const parent = await exportPlain('open');
    const child = await exportPlain('open-7');
    expect(parent.statusCode, parent.body).toBe(200);
    expect(child.statusCode, child.body).toBe(200);
    const chainCode = (
      await t.call(E, [...KM], { method: 'POST', url: '/v1/key/attributes', body: { label: 'open' } })
    ).json().json.derivedAttributes.derivationValue;
    const node = new HDKey({
      privateKey: scalarOf(parent.json().privateKey),
      chainCode: Buffer.from(chainCode, 'hex'),
    });
    expect(scalarOf(child.json().privateKey)).toEqual(
      Buffer.from(node.deriveChild(7).privateKey as Uint8Array),
    );
  });
});

describe('a key with SKA approval rules', () => {
  const approver = generateKeyPairSync('ed25519')
    .publicKey.export({ format: 'der', type: 'spki' })
    .toString('base64');
  const oneApprover = {
    tokens: [
      {
        name: 'T',
        timelock: 0,
        timeout: 0,
        groups: [{ name: 'G', quorum: 1, approvals: [{ type: 'public_key', name: 'A', value: approver }] }],
      },
    ],
  };
  const createWithPolicy = async (label: string, policy: object) => {
    const response = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key',
      body: { label, algorithm: 'EC', curveOid: '1.3.132.0.10', attributes: derivable, policy },
    });
    expect(response.statusCode, response.body).toBe(201);
  };

  it.each([
    ['ruleUse', { ruleUse: oneApprover }, false],
    ['ruleBlock only', { ruleBlock: oneApprover }, true],
  ])(
    'has no stored children (%s): a copy would escape a later block or policy change (403 / 400)',
    async (name, policy, signsWithoutApproval) => {
      const label = `ska-${name.replace(/ /g, '-')}`;
      await createWithPolicy(label, policy);
      for (const path of ["44'/0'", '7']) {
        const response = await derive({ label: `${label}/${path}`, newLabel: `${label}-copy` });
        expect(response.statusCode, response.body).toBe(403);
        expect(response.json()).toMatchObject({ errorCode: 400, reason: 'res.error.security.not.allowed' });
        expect(response.json().message).toContain(`"${label}/<path>"`);
      }
      const labels = await t.call(P, [...KM], { method: 'GET', url: '/v1/key' });
      expect(labels.json()).not.toContain(`${label}-copy`);
      // the path itself stays under the rules: under ruleUse no signature without an approval
      const signed = await signResponse(`${label}/44'/0'`, 'SHA256_WITH_ECDSA');
      expect(signed.statusCode === 200, signed.body).toBe(signsWithoutApproval);
    },
  );

  it('a policy without approval rules (null rules, as btc-hsm-broadcaster sends) still has stored children', async () => {
    await createWithPolicy('no-rules', {
      ruleUse: null,
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    });
    const response = await derive({ label: "no-rules/44'", newLabel: 'no-rules-child' });
    expect(response.statusCode, response.body).toBe(201);
    expect(await sign('no-rules-child', DET)).toEqual(await sign("no-rules/44'", DET));
  });
});

describe('SLIP-10 Ed25519 derivation', () => {
  it('signs with a hardened path; the persisted child signs identically and openssl verifies it', async () => {
    const viaPath = await sign("ed-hd/44'/501'/0'", 'EDDSA');
    expect(await verify("ed-hd/44'/501'/0'", 'EDDSA', DATA, viaPath)).toBe(true);
    expect(await verify('ed-hd', 'EDDSA', DATA, viaPath)).toBe(false);

    const response = await derive({ label: "ed-hd/44'/501'/0'", newLabel: 'ed-child' });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ derivationType: 'ADA/SLIP-10', path: "44'/501'/0'" });
    const viaChild = await sign('ed-child', 'EDDSA');
    expect(viaChild).toEqual(viaPath); // Ed25519 is deterministic
    const spki = Buffer.from((await attributesOf('ed-child')).publicKey, 'base64');
    expect(await opensslVerify(spki, DATA, viaPath, { kind: 'raw' })).toBe(true);
  });

  it('refuses an unhardened step with 400 errorCode 634', async () => {
    const response = await signResponse("ed-hd/44'/0", 'EDDSA');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      errorCode: 634,
      reason: 'res.error.derivation.not.supported.by.algorithm',
    });
    const derived = await derive({ label: "ed-hd/44'/0", newLabel: 'ed-unhardened' });
    expect(derived.statusCode).toBe(400);
    expect(derived.json().errorCode).toBe(634);
  });
});
