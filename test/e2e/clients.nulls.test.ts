/**
 * `null` for an optional list or object means absent, as the TSB (Jackson) reads it: Go clients send nil
 * slices and pointers as null, Java clients their unset fields (src/lib/schema-fields.ts OptionalOrNull).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createApprover } from '../helpers/approvers.js';

const P = 'nulls';
let t: TestContext;
let headers: Record<string, string>;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  headers = {
    ...(await t.as(P, ['keyManagement', 'keyOperation'])),
    'content-type': 'application/json',
  };
});
afterAll(() => t?.close());

const send = (url: string, payload: string | object) =>
  t.app.inject({
    method: 'POST',
    url,
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

/** go-kms-wrapping's CreateOrUpdateKey: attributesMapper's map and the policy of MapToPolicy({}). */
const goKmsKey = (label: string, policy: string) =>
  send(
    '/v1/key',
    `{\n\t"label": "${label}",\n    "algorithm": "EC",\t\n    \n\t\n\t"curveOid": "1.2.840.10045.3.1.7",\n\t"attributes": ` +
      JSON.stringify({
        decrypt: false,
        sign: true,
        unwrap: false,
        verify: true,
        wrap: false,
        derive: false,
        encrypt: false,
        sensitive: true,
        extractable: false,
        destroyable: true,
      }) +
      `,"policy":${policy}}`,
  );

const signWith = (label: string) =>
  send('/v1/synchronousSign', {
    signRequest: {
      payload: Buffer.from('data').toString('base64'),
      signKeyName: label,
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
    },
  });

describe('SKA policy', () => {
  it('"ruleUse":{"tokens":null} is a rule without tokens: no approval (go-kms-wrapping GenerateKeyPair)', async () => {
    const created = await goKmsKey('go-kms', '{"ruleUse":{"tokens":null}}');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().json.policy.keyStatus).toEqual({ blocked: false });
    expect((await signWith('go-kms')).statusCode).toBe(200);
  });

  it('"tokens" left out of a rule means the same', async () => {
    const created = await goKmsKey('no-tokens', '{"ruleUse":{},"ruleBlock":{"tokens":null}}');
    expect(created.statusCode, created.body).toBe(201);
    expect((await signWith('no-tokens')).statusCode).toBe(200);
  });

  it('"keyStatus":null is not blocked', async () => {
    const created = await goKmsKey('status-null', '{"ruleUse":null,"keyStatus":null}');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().json.policy.keyStatus).toEqual({ blocked: false });
    expect((await signWith('status-null')).statusCode).toBe(200);
  });

  it('a group with "approvals":null has no approvers, so its quorum can never be reached (606)', async () => {
    const created = await goKmsKey(
      'no-approvers',
      '{"ruleUse":{"tokens":[{"name":"t","timelock":0,"timeout":0,"groups":[{"name":"g","quorum":1,"approvals":null}]}]}}',
    );
    expect(created.statusCode, created.body).toBe(400);
    expect(created.json().errorCode).toBe(606);
    expect(created.json().message).toMatch(/quorum 1 exceeds the 0 approval/);
  });

  it('a rule whose tokens are given still needs its approvals', async () => {
    const approver = createApprover();
    const policy = {
      ruleUse: {
        tokens: [
          {
            name: 't',
            timelock: 0,
            timeout: 0,
            groups: [
              {
                name: 'g',
                quorum: 1,
                approvals: [{ type: 'public_key', name: null, value: approver.publicKey }],
              },
            ],
          },
        ],
      },
      ruleBlock: null,
      keyStatus: null,
    };
    const created = await goKmsKey('guarded', JSON.stringify(policy));
    expect(created.statusCode, created.body).toBe(201);
    const refused = await signWith('guarded');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().errorCode).toBe(401);
  });
});

describe('other optional objects and lists', () => {
  it('/v1/verify with "verifyHmacRequest": null (a Java client with both requests in its DTO)', async () => {
    await goKmsKey('verifier', 'null');
    const signed = (await signWith('verifier')).json().signature;
    const response = await send('/v1/verify', {
      verifySignatureRequest: {
        signKeyName: 'verifier',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        payload: Buffer.from('data').toString('base64'),
        signature: signed,
      },
      verifyHmacRequest: null,
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().signatureValid).toBe(true);
  });

  it("the Keycloak provider's createKey body: every unset field null", async () => {
    const response = await send('/v1/key', {
      label: 'keycloak',
      password: null,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      keySize: null,
      attributes: {
        encrypt: null,
        decrypt: false,
        verify: null,
        sign: true,
        wrap: null,
        unwrap: false,
        derive: false,
        bip32: false,
        slip10: false,
        extractable: false,
        modifiable: true,
        destroyable: false,
        sensitive: null,
        copyable: false,
      },
      id: null,
      algorithmOid: null,
      addressFormat: null,
      policy: null,
    });
    expect(response.statusCode, response.body).toBe(201);
  });

  it('/v1/key/import/plain with null attribute flags of a public key alone', async () => {
    const { publicKey } = (await goKmsKey('source', 'null')).json().json;
    const response = await send('/v1/key/import/plain', {
      label: 'public-only',
      algorithm: 'EC',
      publicKey,
      attributes: { decrypt: null, sign: null, unwrap: null, verify: true },
    });
    expect(response.statusCode, response.body).toBe(201);
  });

  it('/v1/filteredRequests with null paging fields', async () => {
    const response = await send('/v1/filteredRequests', {
      status: null,
      paging: { pageNumber: null, pageSize: null, sortOrder: null },
    });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('/v1/createRfcTimestamp with null optional fields', async () => {
    const response = await send('/v1/createRfcTimestamp', {
      messageImprint: createHash('sha256').update('document').digest('base64'),
      data: null,
      hashAlgorithm: 'SHA-256',
      nonce: null,
      certReq: null,
    });
    expect(response.statusCode, response.body).toBe(200);
  });
});
