/**
 * `POST /v1/importedKey` with the TSB docs' own bodies (test/fixtures/tsb-examples 33–36): the seed
 * import of tsb/Tutorials/Import/seeding.md and the key pair / public key import that
 * tsb/Tutorials/Import/importKey.md posts to the same path. Each imported key is checked against
 * an independent implementation: node:crypto (OpenSSL) with the original public key, @scure/bip32
 * for the seed's master and child keys.
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const P = 'imported';

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  await t.partition('no-import', { allowKeyImport: false });
});
afterAll(() => t.close());

const fixture = async (name: string) =>
  JSON.parse(await readFile(new URL(`../fixtures/tsb-examples/${name}`, import.meta.url), 'utf8'));

const importKey = (body: object, partition = P) =>
  t.call(partition, ['keyManagement'], { method: 'POST', url: '/v1/importedKey', body });

const synchronousSign = (signKeyName: string, signatureAlgorithm: string, payload: Buffer) =>
  t.call(P, ['keyOperation'], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: { signRequest: { payload: payload.toString('base64'), signKeyName, signatureAlgorithm } },
  });

/** SubjectPublicKeyInfo of a compressed secp256k1 point (OpenSSL reads compressed points). */
const secp256k1Spki = (point: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'), point]),
    format: 'der',
    type: 'spki',
  });

describe('POST /v1/importedKey with a seed (tsb/Tutorials/Import/seeding.md)', () => {
  it('imports the master key of the docs’ seed: BIP32 keys and signatures as an independent wallet computes them', async () => {
    const body = { ...(await fixture('33-imported-key-seed-request.json')), label: 'seeded' };
    const response = await importKey(body);
    expect(response.statusCode, response.body).toBe(201);
    const { json } = response.json();
    expect(json).toMatchObject({ label: 'seeded', algorithm: 'EC', curveOid: '1.3.132.0.10' });
    expect(json.addressTruncated).toMatchObject({ format: 'BTC' });
    expect(response.json().xml).toContain('creation="imported"');

    const wallet = HDKey.fromMasterSeed(Buffer.from(body.seed, 'base64'));
    const master = secp256k1Spki(wallet.publicKey!);
    const stored = createPublicKey({
      key: Buffer.from(json.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    expect(stored.export({ format: 'jwk' })).toEqual(master.export({ format: 'jwk' }));
    expect(json.derivedAttributes.derivationValue).toBe(
      Buffer.from(wallet.chainCode!).toString('hex').toUpperCase(),
    );

    const payload = Buffer.from('seeded payload');
    const signed = await synchronousSign('seeded', 'SHA256_WITH_ECDSA', payload);
    expect(signed.statusCode, signed.body).toBe(200);
    expect(verify('sha256', payload, master, Buffer.from(signed.json().signature, 'base64'))).toBe(true);

    // the chain code came from the seed too: a child key is the wallet's child
    const child = await synchronousSign("seeded/44'/0'/0'/0/7", 'SHA256_WITH_ECDSA', payload);
    expect(child.statusCode, child.body).toBe(200);
    const walletChild = secp256k1Spki(wallet.derive("m/44'/0'/0'/0/7").publicKey!);
    expect(verify('sha256', payload, walletChild, Buffer.from(child.json().signature, 'base64'))).toBe(true);
  });

  it('refuses a seed shorter than 16 bytes, a curve without derivation, a taken label, a closed partition', async () => {
    const body = await fixture('33-imported-key-seed-request.json');
    const short = await importKey({ ...body, label: 'short', seed: Buffer.alloc(8, 1).toString('base64') });
    expect(short.statusCode).toBe(400);
    expect(short.json().errorCode).toBe(600);
    const p384 = await importKey({ ...body, label: 'p384', addressFormat: null, curveOid: '1.3.132.0.34' });
    expect(p384.statusCode).toBe(400);
    expect(p384.json().errorCode).toBe(634);
    const again = await importKey({ ...body, label: 'seeded' });
    expect(again.statusCode).toBeGreaterThanOrEqual(400);
    const closed = await importKey({ ...body, label: 'closed' }, 'no-import');
    expect(closed.statusCode).toBe(403);
  });
});

describe('POST /v1/importedKey with a key in plain (tsb/Tutorials/Import/importKey.md)', () => {
  it('imports the docs’ RSA-4096 key pair: its signatures verify with the docs’ public key', async () => {
    const body = await fixture('34-imported-key-pair-request.json');
    const response = await importKey(body);
    expect(response.statusCode, response.body).toBe(201);
    const { json } = response.json();
    expect(json).toMatchObject({ label: 'import_keypair', algorithm: 'RSA', keySize: 4096 });
    expect(json.publicKey).toBe(body.publicKey);

    const original = createPublicKey({
      key: Buffer.from(body.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const payload = Buffer.from('signed by the imported key');
    const signed = await synchronousSign('import_keypair', 'SHA256_WITH_RSA', payload);
    expect(signed.statusCode, signed.body).toBe(200);
    expect(verify('sha256', payload, original, Buffer.from(signed.json().signature, 'base64'))).toBe(true);
  });

  it('imports the docs’ public key alone and encrypts the docs’ payload to it (decrypted with the docs’ private key)', async () => {
    const body = await fixture('35-imported-public-key-request.json');
    const response = await importKey(body);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().json.publicKey).toBe(body.publicKey);

    const request = await fixture('36-encrypt-imported-public-key-request.json');
    const encrypted = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/encrypt',
      body: request,
    });
    expect(encrypted.statusCode, encrypted.body).toBe(200);
    const { privateKey } = await fixture('34-imported-key-pair-request.json');
    const plain = privateDecrypt(
      {
        key: createPrivateKey({ key: Buffer.from(privateKey, 'base64'), format: 'der', type: 'pkcs8' }),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha512',
      },
      Buffer.from(encrypted.json().encryptedPayload, 'base64'),
    );
    expect(plain.toString('base64')).toBe(request.encryptRequest.payload);
  });
});
