/**
 * Conformance: securosys-com/dev-securosys-docs, commit 6c00d80e383bb12dbf046c19497fe2f5cba9019e, the TSB
 * documentation's SKA Python sample.
 *
 * Read from: tsb/Tutorials/TransactionSecurityBroker/samples/ska-python-sample.md (create_ska_ec_key,
 * sign_payload, sign_with_ed_private_key, filtered_sign_approval_task, send_approval, get_request_status,
 * main: Python `requests` with `json=` bodies). The key and the request carry the bearer token; the
 * approver's two calls carry none (only `Content-Type`), the approver being known by its Ed25519 key; the
 * status is read once, right after the approval, and is expected EXECUTED with its result.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { conformanceContext, type WireClient, wireClient } from './wire.js';

const P = 'docs';
let t: TestContext;
let withToken: WireClient;
let approverCalls: WireClient;
const JSON_CT = { 'content-type': 'application/json' };

const approver = generateKeyPairSync('ed25519');
const APPROVER_PUBLIC_KEY = approver.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
const signEd = (data: Buffer) => sign(null, data, approver.privateKey).toString('base64');

beforeAll(async () => {
  t = await conformanceContext(P);
  withToken = await wireClient(t, P, ['keyManagement', 'keyOperation']);
  approverCalls = await wireClient(t, P, null);
});
afterAll(() => t.close());

describe('ska-python-sample.md main()', () => {
  const label = 'SKA_EC_KEY_With_ED_Approvers_1';
  let requestId = '';

  it('create_ska_ec_key: 201 for a secp256k1 key with one Ed25519 approver', async () => {
    const answer = await withToken.send('POST', '/v1/key', {
      headers: JSON_CT,
      body: {
        label,
        algorithm: 'EC',
        curveOid: '1.3.132.0.10',
        addressFormat: { format: 'BTC' },
        attributes: {
          encrypt: false,
          decrypt: false,
          verify: true,
          sign: true,
          wrap: false,
          unwrap: false,
          derive: true,
          bip32: true,
          slip10: true,
          extractable: false,
          modifiable: true,
          destroyable: true,
          sensitive: true,
          copyable: false,
        },
        policy: {
          ruleUse: {
            tokens: [
              {
                name: 'Token1',
                timelock: 0,
                timeout: 0,
                groups: [
                  {
                    name: 'Group1',
                    quorum: 1,
                    approvals: [
                      {
                        type: 'public_key',
                        name: 'ApproverEDTestKeys_Approver1',
                        value: APPROVER_PUBLIC_KEY,
                      },
                    ],
                  },
                ],
              },
            ],
          },
          keyStatus: { blocked: false },
        },
      },
    });
    expect(answer.status, answer.text).toBe(201);
  });

  it('sign_payload: 201 with signRequestId', async () => {
    const answer = await withToken.send('POST', '/v1/sign', {
      headers: JSON_CT,
      body: {
        signRequest: {
          payload: 'U29tZSBQYXlsb2Fk',
          payloadType: 'UNSPECIFIED',
          signKeyName: label,
          metaData: 'Metadata',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          signatureType: 'DER',
        },
      },
    });
    expect(answer.status, answer.text).toBe(201);
    requestId = answer.json.signRequestId;
    expect(typeof requestId).toBe('string');
  });

  it('filtered_sign_approval_task and send_approval without a credential, then the status read once is EXECUTED', async () => {
    const timestamp = new Date().toISOString();
    const listed = await approverCalls.send('POST', '/v1/filteredSignApprovalTask', {
      headers: JSON_CT,
      body: {
        timestamp,
        timestampSignature: signEd(Buffer.from(timestamp)),
        approverPublicKey: APPROVER_PUBLIC_KEY,
        timestampDigestAlgorithm: 'EdDSA',
        requestId,
        detailLevel: 'level1',
        paging: { pageNumber: 0, pageSize: 1, sortOrder: 'CREATION_DATE_ASC' },
      },
    });
    expect(listed.status, listed.text).toBe(200);
    const tasks: Array<{ id: string; approvalToBeSigned: string; approverPublicKey?: string }> =
      listed.json.tasks ?? [];
    expect(tasks).toHaveLength(1);
    for (const task of tasks) {
      const approved = await approverCalls.send('POST', '/v1/approval', {
        headers: JSON_CT,
        body: {
          id: task.id,
          approvalToBeSigned: task.approvalToBeSigned,
          signature: signEd(Buffer.from(task.approvalToBeSigned, 'base64')),
          approvalDigestAlgorithm: 'EdDSA',
          approverPublicKey: task.approverPublicKey ?? '',
        },
      });
      expect(approved.status, approved.text).toBeLessThan(300);
    }
    // get_request_status: one GET with the token and no content type, right after the approval
    const status = await withToken.send('GET', `/v1/request/${requestId}`);
    expect(status.status, status.text).toBe(200);
    expect(status.json.status, status.text).toBe('EXECUTED');
    expect(typeof status.json.result).toBe('string');
  });
});
