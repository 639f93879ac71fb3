/**
 * The `securosys-hsm` seal of securosys-com/hcvault-ce-rest-integration and securosys-com/openbao-rest-integration:
 * both carry the same TSB client in hsm/ (hsm.go, structs.go, securosysHSM_client.go, securosysHSM.go), differing
 * only in the `app` of the request metadata ("Hashicorp Vault" / "OpenBao"). This file replays its calls; each
 * client's test file runs it with its own commit and app name.
 *
 * What the client does (hsm/hsm.go): every call carries `Content-Type: application/json`, a bearer token when
 * `auth = "TOKEN"`, and an `X-API-KEY` of the group the call belongs to when `api_keys` lists one (KeyManagementToken
 * for key attributes, creation and removal; KeyOperationToken for decrypt, request status and synchronousModify;
 * ServiceToken for the start-up check). A 401 whose `errorCode` (read as a JSON number: anything else panics) is 631
 * moves on to the group's next API key and sends the call again. Bodies are hand-built Go strings; key passwords go as
 * arrays of one-character strings (`StringToCharArray`), leaving the field out when there is no password.
 * Encryption is done locally with RSA-OAEP-SHA-256 under the key's `publicKey` (SPKI, parsed with ParsePKIXPublicKey);
 * decryption is `/v1/synchronousDecrypt` (reads `payload`) or, once the key's ruleUse has a token with groups, an
 * asynchronous `/v1/decrypt` (minified by json.Compact, `requestSignature` null or the application key's signature)
 * whose `GET /v1/request/{id}` is polled while `status` is PENDING; the result is taken at the first other status.
 * `vault operator update-policy-hsm` (http/sys_update_policy_hsm.go) sends `/v1/synchronousModify` with a ruleUse only
 * and accepts exactly 200; GenerateRSA and the start-up's key read accept exactly 201 and 404 (missing key).
 */
import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js';
import type { TestContext } from '../helpers/app.js';
import { approve, createApprover, taskOf } from '../helpers/approvers.js';
import { b64, conformanceContext, expectKind, type WireAnswer, type WireClient, wireClient } from './wire.js';

type Group = 'KeyManagementToken' | 'KeyOperationToken' | 'ServiceToken';

/** TSBCall: one group's API keys tried in order, a 401 with errorCode 631 moving on to the next. */
class SealTransport {
  private readonly index: Record<Group, number> = {
    KeyManagementToken: 0,
    KeyOperationToken: 0,
    ServiceToken: 0,
  };
  readonly rollovers: Group[] = [];

  constructor(
    private readonly client: WireClient,
    private readonly apiKeys: Partial<Record<Group, string[]>>,
  ) {}

  async call(group: Group, method: string, path: string, body: string): Promise<WireAnswer> {
    const keys = this.apiKeys[group] ?? [];
    const usesKey = keys.length > 0;
    if (usesKey && this.index[group] >= keys.length)
      throw new Error(`All apikeys in group ${group} are invalid`);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (usesKey) headers['x-api-key'] = keys[this.index[group]]!;
    const answer = await this.client.send(method, path, body === '' ? { headers } : { headers, body });
    if (usesKey && answer.status === 401) {
      expectKind(answer.json?.errorCode, 'number', 'errorCode of a 401 (result["errorCode"].(float64))');
      if (answer.json.errorCode === 631) {
        this.index[group] += 1;
        this.rollovers.push(group);
        return this.call(group, method, path, body);
      }
    }
    return answer;
  }
}

const chars = (password: string) => JSON.stringify([...password]);

/** `"password": [..],` / `"keyPassword": [..],` or nothing, as the client writes it */
const passwordField = (name: string, password: string) =>
  password === '' ? '' : `"${name}": ${chars(password)},`;

/** PreparePolicyTokens / preparePolicyTokens: one token "main", one group of every approver, or groups null */
function tokens(approvers: Record<string, string>): string {
  const names = Object.keys(approvers);
  const groups =
    names.length === 0
      ? null
      : [
          {
            name: 'main',
            quorum: names.length,
            approvals: names.map((name) => ({ type: 'public_key', name, value: approvers[name] })),
          },
        ];
  return JSON.stringify({ name: 'main', timelock: 0, timeout: 0, groups });
}

/** PreparePolicy("{}", 1): the same token in every rule and keyStatus, marshalled in struct order */
const defaultPolicy = () => {
  const token = tokens({});
  return `{"ruleUse":{"tokens":[${token}]},"ruleBlock":{"tokens":[${token}]},"ruleUnblock":{"tokens":[${token}]},"ruleModify":{"tokens":[${token}]},"keyStatus":{"blocked":false}}`;
};

interface SealOptions {
  partition: string;
  app: string;
}

/** The application key pair of `application_key_pair`: RSA, both halves base64 without PEM headers. */
const applicationKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const applicationPublicKey = applicationKey.publicKey
  .export({ format: 'der', type: 'spki' })
  .toString('base64');
const applicationSign = (data: string) =>
  sign('sha256', Buffer.from(data), applicationKey.privateKey).toString('base64');

/** The seal against one partition, as hsm/hsm.go drives it; `mode` picks bearer token or API keys. */
export function describeSeal({ partition, app }: SealOptions): void {
  let t: TestContext;
  const transports: Record<'token' | 'apiKeys', SealTransport | undefined> = {
    token: undefined,
    apiKeys: undefined,
  };
  const approver = createApprover('Ed25519');

  beforeAll(async () => {
    t = await conformanceContext(partition);
    const row = await t.prisma.partition.findUniqueOrThrow({ where: { name: partition } });
    const key = async (role: 'keyManagement' | 'keyOperation' | 'service') =>
      (await createApiKey(t.prisma, row.id, role)).key;
    const revokedKey = await createApiKey(t.prisma, row.id, 'keyOperation');
    await revokeApiKey(t.prisma, revokedKey.id);
    const revoked = revokedKey.key;
    transports.token = new SealTransport(
      await wireClient(t, partition, ['keyManagement', 'keyOperation', 'service']),
      {},
    );
    transports.apiKeys = new SealTransport(await wireClient(t, partition, null), {
      KeyManagementToken: [await key('keyManagement')],
      // the first key of the group was revoked: the client rolls over to the next on 401 / 631. The next carries
      // a keyManagement key beside the keyOperation key, as docs/tsb-deviations.md advises for synchronousModify
      KeyOperationToken: [revoked, `${await key('keyOperation')},${await key('keyManagement')}`],
      ServiceToken: [await key('service')],
    });
  });
  afterAll(() => t.close());

  for (const mode of ['token', 'apiKeys'] as const) {
    describe(`${app} seal, ${mode === 'token' ? 'auth TOKEN' : 'auth NONE with api_keys'}`, () => {
      const label = `${app.replace(/ /g, '_')}_seal_${mode}`;
      const password = mode === 'token' ? 'seal-key-password' : '';
      const tsb = () => transports[mode]!;
      let publicKey = '';
      let ciphertext = '';
      const rootKey = Buffer.from('the barrier root key of the seal');

      async function getKeyAttributes(): Promise<WireAnswer> {
        return tsb().call(
          'KeyManagementToken',
          'POST',
          '/v1/key/attributes',
          `{\n\t\t${passwordField('password', password)}\n\t\t"label":"${label}"\n\t\t}`,
        );
      }

      it('Type(): CheckConnection GET /v1/keystore/statistics (empty body) is 200', async () => {
        const answer = await tsb().call('ServiceToken', 'GET', '/v1/keystore/statistics', '');
        expect(answer.status, answer.text).toBe(200);
      });

      it('SetConfig: the key read is 404 while missing, GenerateRSA is 201, the read then types every field', async () => {
        const missing = await getKeyAttributes();
        expect(missing.status, missing.text).toBe(404);
        const created = await tsb().call(
          'KeyManagementToken',
          'POST',
          '/v1/key',
          `{\n\t"label": "${label}",\n\t${passwordField('password', password)}\t\n    "algorithm": "RSA",\t\n    "keySize": 2048,\t\n\t"attributes": {\n\t"encrypt": false,\n\t"decrypt": true,\n\t"verify": false,\n\t"sign": true,\n\t"wrap": false,\n\t"unwrap": true,\n\t"derive": true,\n\t"bip32": false,\n\t"extractable": false,\n\t"modifiable": true,\n\t"destroyable": true,\n\t"sensitive": true\n\t\t},"policy":${defaultPolicy()}}`,
        );
        expect(created.status, created.text).toBe(201);
        const read = await getKeyAttributes();
        expect(read.status, read.text).toBe(200);
        const json = read.json.json;
        expectKind(json.algorithm, 'string', 'json.algorithm');
        expectKind(json.algorithmOid, 'string', 'json.algorithmOid');
        expectKind(json.attributes, 'object', 'json.attributes');
        expectKind(read.json.xml, 'string', 'xml');
        expectKind(read.json.xmlSignature, 'string', 'xmlSignature');
        expectKind(read.json.attestationKeyName, 'string', 'attestationKeyName');
        expectKind(json.label, 'string', 'json.label');
        expectKind(json.publicKey, 'string', 'json.publicKey');
        expect(json.keySize).toBe(2048);
        // json.Unmarshal of the policy into Policy: ruleUse.tokens[].groups read for the SKA decision
        expectKind(json.policy?.ruleUse?.tokens, 'array', 'json.policy.ruleUse.tokens');
        publicKey = json.publicKey;
      });

      it('Encrypt: RSA-OAEP-SHA-256 done locally under publicKey (PKIX), no TSB call', () => {
        const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
        // the wrapper hands the base64 of the plaintext to the client, which encrypts that text
        ciphertext = publicEncrypt(
          { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          Buffer.from(b64(rootKey)),
        ).toString('base64');
      });

      it('Decrypt without approvers: /v1/synchronousDecrypt with "initializationVector":null reads payload', async () => {
        const answer = await tsb().call(
          'KeyOperationToken',
          'POST',
          '/v1/synchronousDecrypt',
          `{"decryptRequest": {\n\t\t${passwordField('keyPassword', password)}\n\t\t"encryptedPayload": "${ciphertext}",\n\t\t"decryptKeyName": "${label}",\n\t\t"cipherAlgorithm": "RSA_PADDING_OAEP_WITH_SHA256",\n\t\t"initializationVector":null\n\t\t}}`,
        );
        expect(answer.status, answer.text).toBe(200);
        expectKind(answer.json.payload, 'string', 'payload');
        // Decrypt in securosysHSM.go: base64 twice
        const once = Buffer.from(answer.json.payload, 'base64').toString();
        expect(Buffer.from(once, 'base64')).toEqual(rootKey);
      });

      async function modify(approvers: Record<string, string>): Promise<WireAnswer> {
        return tsb().call(
          'KeyOperationToken',
          'POST',
          '/v1/synchronousModify',
          `{\n\t\t"modifyRequest":{\n\t\t\t${passwordField('keyPassword', password)}\t\n\t\t\t"modifyKeyName": "${label}"\n\t\t\t\n\t,"policy":{\n\t  "ruleUse": {\n\t\t"tokens":[${tokens(approvers)}]\n\t  }\n\t}}\n\t\t}`,
        );
      }

      it('update-policy-hsm: /v1/synchronousModify with a ruleUse of one approver is 200', async () => {
        const answer = await modify({ seal_approver: approver.publicKey });
        expect(answer.status, answer.text).toBe(200);
      });

      it('Decrypt with approvers: /v1/decrypt (minified, metaData, signatures), polled while PENDING, result', async () => {
        const read = await getKeyAttributes();
        expect(read.status, read.text).toBe(200);
        expect(read.json.json.policy.ruleUse.tokens[0].groups).toHaveLength(1);
        const now = new Date();
        const time = `${now.toISOString().slice(0, 19)}Z`;
        const metaJson = JSON.stringify({ app, time, type: 'Decrypt' });
        // with an application_key_pair in API-key mode, without one in token mode
        const signed = mode === 'apiKeys';
        const requestJson = `{\n\t\t"encryptedPayload": "${ciphertext}",\n\t\t"decryptKeyName": "${label}",\n\t\t${passwordField('keyPassword', password)}\t\n\t\t"cipherAlgorithm": "RSA_PADDING_OAEP_WITH_SHA256",\n\t\t"metaData": "${b64(metaJson)}",\n\t\t"metaDataSignature": ${signed ? `"${applicationSign(metaJson)}"` : 'null'},\n\t\t"initializationVector":null\n\t\t}`;
        const compact = JSON.stringify(JSON.parse(requestJson));
        const requestSignature = signed
          ? JSON.stringify({
              signature: applicationSign(compact),
              digestAlgorithm: 'SHA-256',
              publicKey: applicationPublicKey,
            })
          : 'null';
        const body = `{"decryptRequest":${compact},"requestSignature":${requestSignature}}`;
        const created = await tsb().call('KeyOperationToken', 'POST', '/v1/decrypt', body);
        expect([200, 201], created.text).toContain(created.status);
        expectKind(created.json.decryptRequestId, 'string', 'decryptRequestId');
        const id: string = created.json.decryptRequestId;

        const getRequest = async () => {
          const answer = await tsb().call('KeyOperationToken', 'GET', `/v1/request/${id}`, '');
          expect(answer.status, answer.text).toBe(200);
          // json.Unmarshal into RequestResponse: []string lists, string status and result
          for (const list of ['approvedBy', 'notYetApprovedBy', 'rejectedBy']) {
            const value = answer.json[list];
            if (value != null) {
              expectKind(value, 'array', list);
              for (const item of value) expectKind(item, 'string', `${list}[]`);
            }
          }
          return answer.json;
        };
        let status = await getRequest();
        expect(status.status).toBe('PENDING');
        expect(status.notYetApprovedBy).toHaveLength(1);
        const task = await taskOf(t, partition, approver, id);
        const approved = await approve(t, partition, approver, task);
        expect(approved.statusCode, approved.body).toBeLessThan(300);
        // DecryptDataWithPolicy: loops only while PENDING and takes resp.Result at the first other status
        const until = Date.now() + 10_000;
        while (status.status === 'PENDING' && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          status = await getRequest();
        }
        expect(status.status).toBe('EXECUTED');
        expectKind(status.result, 'string', 'result');
        const once = Buffer.from(status.result, 'base64').toString();
        expect(Buffer.from(once, 'base64')).toEqual(rootKey);
      });

      it('update-policy-hsm with "disable" (groups null again) is refused: ruleUse approvers guard their own removal', async () => {
        // Deliberate (docs/policy-semantics.md, "Who may change a policy"): under an empty ruleModify, removing a
        // ruleUse that has approvers needs their approvals. The TSB answers 200; the client has no asynchronous
        // modify, so with OpenTSB the approvers' rule stays until they approve a /v1/modify.
        const answer = await modify({});
        expect(answer.status, answer.text).toBe(403);
        expect(answer.json.errorCode).toBe(401);
        const read = await getKeyAttributes();
        expect(read.json.json.policy.ruleUse.tokens[0].groups).toHaveLength(1);
      });

      it('RemoveKey (hsm_test.go only): DELETE /v1/key/{label}, JSON content type, empty body, no password', async () => {
        const answer = await tsb().call('KeyManagementToken', 'DELETE', `/v1/key/${label}`, '');
        if (password !== '') {
          // Deliberate (docs/tsb-deviations.md): a key with a password refuses every access without it
          expect(answer.status, answer.text).toBe(403);
          expect(answer.json.errorCode).toBe(620);
          return;
        }
        expect(answer.status, answer.text).toBeLessThan(300);
        expect((await getKeyAttributes()).status).toBe(404);
      });
    });
  }

  it('api_keys: the revoked first KeyOperationToken was answered 401 / 631 and the client rolled over once', () => {
    expect(transports.apiKeys!.rollovers).toEqual(['KeyOperationToken']);
  });
}
