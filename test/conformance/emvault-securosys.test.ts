/**
 * Conformance: gmikeska/emvault-securosys, commit da1c4dbe36be45db8a043138d111660abd9f7d2e.
 *
 * Read from: src/tsb/mod.rs (TsbClient over reqwest's blocking client: `bearer_auth`, `.json(&body)` with
 * serde_json's `json!`, so `Content-Type: application/json` and compact JSON with the keys of every object in
 * sorted order (serde_json without `preserve_order`); any 2xx is success. import_slip10_master: POST
 * /v1/importedKey with a BIP-39 seed, a secp256k1 key marked `slip10`. sign_bip340: POST /v1/synchronousSign with
 * NONE_WITH_EC_SCHNORR_BIP0340 over a 32-byte sighash, the key named `<master label>/<path>` (SecurosysTaprootSigner
 * ::sign_key_name: the path's steps joined by "/", hardened ones with an apostrophe, no "m/"), reading `signature`
 * as the raw 64-byte R ‖ s), src/pkcs11/backend.rs (import_master_via_tsb: the import when TSB is configured) and
 * examples/taproot_probe.rs (the path 86'/1'/0'/0/0 and the host-side BIP-340 verification against the untweaked
 * leaf key). The leaf key is computed here with @scure/bip32, as the client's host side does with its xpub.
 *
 * Not replayed: derived_public_key (used by examples/taproot_probe.rs only) posts /v1/derivedKey as
 * `{masterKeyLabel, derivationPath, attributes}`, a body no TSB document or other client shows; OpenTSB's
 * /v1/derivedKey takes `{label: "<parent>/<path>", newLabel}` and stores the child (docs/tsb-deviations.md).
 */
import { randomBytes } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { b64, conformanceContext, expectKind, type WireClient, wireClient } from './wire.js';

const P = 'emvault';
let t: TestContext;
let tsb: WireClient;

beforeAll(async () => {
  t = await conformanceContext(P);
  tsb = await wireClient(t, P, ['keyManagement', 'keyOperation'], { 'content-type': 'application/json' });
});
afterAll(() => t.close());

/** serde_json::to_string of a json! value: compact, object keys sorted */
function serdeJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(serdeJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${serdeJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const SEED = Buffer.alloc(64, 0x2a);
/** key_ops::priv_label("fed-1") */
const MASTER = 'emvault.v1.fed-1.priv';

describe('a Taproot signer: SLIP-10 master imported from a seed, BIP-340 signatures of derived leaves', () => {
  it('import_slip10_master: POST /v1/importedKey with the seed and slip10 (2xx)', async () => {
    const answer = await tsb.send('POST', '/v1/importedKey', {
      body: serdeJson({
        label: MASTER,
        algorithm: 'EC',
        curveOid: '1.3.132.0.10',
        attributes: {
          encrypt: false,
          decrypt: false,
          verify: true,
          sign: true,
          wrap: false,
          unwrap: false,
          derive: true,
          bip32: false,
          slip10: true,
          extractable: false,
          modifiable: true,
          destroyable: true,
          sensitive: true,
          copyable: false,
        },
        seed: b64(SEED),
      }),
    });
    expect(answer.status, answer.text).toBeGreaterThanOrEqual(200);
    expect(answer.status, answer.text).toBeLessThan(300);
  });

  for (const path of ["86'/1'/0'/0/5", "86'/1'/0'/0/0", "86'/1'/0'"]) {
    it(`sign_bip340: /v1/synchronousSign NONE_WITH_EC_SCHNORR_BIP0340 with "${MASTER}/${path}", 64 bytes that verify`, async () => {
      const sighash = randomBytes(32);
      const answer = await tsb.send('POST', '/v1/synchronousSign', {
        body: serdeJson({
          signRequest: {
            payload: b64(sighash),
            payloadType: 'UNSPECIFIED',
            signKeyName: `${MASTER}/${path}`,
            signatureAlgorithm: 'NONE_WITH_EC_SCHNORR_BIP0340',
          },
        }),
      });
      expect(answer.status, answer.text).toBeGreaterThanOrEqual(200);
      expect(answer.status, answer.text).toBeLessThan(300);
      expectKind(answer.json.signature, 'string', 'signature');
      const signature = Buffer.from(answer.json.signature, 'base64');
      expect(signature).toHaveLength(64);
      // the client's host side: BIP-340 verification against the untweaked leaf's x-only key
      const leaf = HDKey.fromMasterSeed(SEED).derive(`m/${path}`);
      const xOnly = leaf.publicKey!.subarray(1);
      expect(schnorr.verify(signature, sighash, xOnly)).toBe(true);
    });
  }

  it('sign_bip340 with the bare master name (an empty path) signs with the master key', async () => {
    const sighash = randomBytes(32);
    const answer = await tsb.send('POST', '/v1/synchronousSign', {
      body: serdeJson({
        signRequest: {
          payload: b64(sighash),
          payloadType: 'UNSPECIFIED',
          signKeyName: MASTER,
          signatureAlgorithm: 'NONE_WITH_EC_SCHNORR_BIP0340',
        },
      }),
    });
    expect(answer.status, answer.text).toBeLessThan(300);
    const xOnly = HDKey.fromMasterSeed(SEED).publicKey!.subarray(1);
    expect(schnorr.verify(Buffer.from(answer.json.signature, 'base64'), sighash, xOnly)).toBe(true);
  });
});
