/**
 * `payloadType` never changes which bytes are signed against what the client meant: HEX carries the
 * payload as hex text (the Fireblocks agent sends its digests so), every other type of the reference as
 * base64. Each signature is checked by an independent verifier (node:crypto, noble).
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/roles.js';
import type { TestContext } from '../helpers/app.js';
import { createApprover, listTasks, rule, waitForStatus } from '../helpers/approvers.js';
import { createKey, createSkaKey, workflowContext } from './workflow/fixtures.js';

const P = 'payload-types';
const KO: Role[] = ['keyOperation'];
let t: TestContext;
const spki = new Map<string, Buffer>();

/** The attributes the Fireblocks agent creates its keys with. */
const FIREBLOCKS_ATTRIBUTES = {
  decrypt: true,
  sign: true,
  wrap: false,
  unwrap: false,
  derive: false,
  extractable: false,
  modifiable: true,
  destroyable: true,
  sensitive: true,
  copyable: false,
};
const SIGN_ONLY = { decrypt: false, sign: true, unwrap: false };

beforeAll(async () => {
  t = await workflowContext(P);
  const keys: Record<string, Record<string, unknown>> = {
    Fireblocks_SigningKey: {
      label: 'Fireblocks_SigningKey',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: FIREBLOCKS_ATTRIBUTES,
    },
    fireblocks_ed: {
      label: 'fireblocks_ed',
      algorithm: 'ED',
      curveOid: '1.3.101.112',
      attributes: FIREBLOCKS_ATTRIBUTES,
    },
    p256: { label: 'p256', algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7', attributes: SIGN_ONLY },
  };
  for (const [label, body] of Object.entries(keys)) {
    const created = await createKey(t, P, body);
    spki.set(label, Buffer.from(created.json.publicKey!, 'base64'));
  }
});
afterAll(() => t?.close());

const publicKey = (label: string) => createPublicKey({ key: spki.get(label)!, format: 'der', type: 'spki' });
const DIGEST = createHash('sha256').update('Fireblocks transaction 42').digest();
const MESSAGE = Buffer.from('OpenTSB payload types \x00\xff');

describe('payloadType HEX (Fireblocks agent)', () => {
  it('POST /v1/sign NONE_WITH_ECDSA RAW signs the hex-decoded digest', async () => {
    const created = await t.call(P, KO, {
      method: 'POST',
      url: '/v1/sign',
      body: {
        signRequest: {
          payload: DIGEST.toString('hex'),
          payloadType: 'HEX',
          signKeyName: 'Fireblocks_SigningKey',
          signatureAlgorithm: 'NONE_WITH_ECDSA',
          signatureType: 'RAW',
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const done = await waitForStatus(t, P, created.json().signRequestId, ['EXECUTED', 'FAILED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    const signature = Buffer.from(String(done['result']), 'base64');
    expect(signature).toHaveLength(64);
    const point = secp256k1.Point.fromBytes(spki.get('Fireblocks_SigningKey')!.subarray(-65)).toBytes(true);
    expect(secp256k1.verify(signature, DIGEST, point, { prehash: false })).toBe(true);
  });

  it('POST /v1/synchronousSign EDDSA signs the hex-decoded bytes', async () => {
    const response = await t.call(P, KO, {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: {
          payload: DIGEST.toString('hex').toUpperCase(),
          payloadType: 'HEX',
          signKeyName: 'fireblocks_ed',
          signatureAlgorithm: 'EDDSA',
          signatureType: 'RAW',
        },
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    const signature = Buffer.from(response.json().signature, 'base64');
    expect(verify(null, DIGEST, publicKey('fireblocks_ed'), signature)).toBe(true);
  });

  it('/v1/verify with payloadType HEX verifies against the hex-decoded bytes', async () => {
    const signed = await t.call(P, KO, {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: {
          payload: MESSAGE.toString('base64'),
          signKeyName: 'p256',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    const signature = signed.json().signature;
    const check = async (payload: string, payloadType: string) =>
      (
        await t.call(P, KO, {
          method: 'POST',
          url: '/v1/verify',
          body: {
            verifySignatureRequest: {
              signKeyName: 'p256',
              signatureAlgorithm: 'SHA256_WITH_ECDSA',
              payload,
              payloadType,
              signature,
            },
          },
        })
      ).json().signatureValid;
    expect(await check(MESSAGE.toString('hex'), 'HEX')).toBe(true);
    expect(await check(Buffer.from('other bytes').toString('hex'), 'HEX')).toBe(false);
  });

  it('approvers are shown, and approve, the hex-decoded bytes', async () => {
    const approver = createApprover();
    await createSkaKey(t, P, 'ska', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
    const created = await t.call(P, KO, {
      method: 'POST',
      url: '/v1/sign',
      body: {
        signRequest: {
          payload: DIGEST.toString('hex'),
          payloadType: 'HEX',
          signKeyName: 'ska',
          signatureAlgorithm: 'NONE_WITH_ECDSA',
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const listed = await listTasks(t, P, approver, {
      requestId: created.json().signRequestId,
      detailLevel: 'level3',
    });
    const [task] = listed.json().tasks;
    expect(task.payload).toBe(DIGEST.toString('base64'));
    expect(task.payloadType).toBe('HEX');
    expect(task.payloadDigest).toBe(createHash('sha256').update(DIGEST).digest('base64'));
  });

  it.each([
    ['an odd number of digits', 'abc'],
    ['a character that is no hex digit', 'zz00'],
    ['base64 text', 'AQID+w=='],
    ['a 0x prefix', `0x${DIGEST.toString('hex')}`],
  ])('a payload with %s is refused with 600', async (_name, payload) => {
    const response = await t.call(P, KO, {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: {
        signRequest: {
          payload,
          payloadType: 'HEX',
          signKeyName: 'p256',
          signatureAlgorithm: 'NONE_WITH_ECDSA',
        },
      },
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errorCode).toBe(600);
    expect(response.json().message).toMatch(/hex/i);
  });
});

describe('every other payloadType of the reference carries base64', () => {
  it.each(['UNSPECIFIED', 'ISO_20022', 'PDF', 'BTC', 'ETH', null, undefined])(
    '%s: the signature verifies over the base64-decoded payload',
    async (payloadType) => {
      const response = await t.call(P, KO, {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: {
          signRequest: {
            payload: MESSAGE.toString('base64'),
            ...(payloadType === undefined ? {} : { payloadType }),
            signKeyName: 'p256',
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        },
      });
      expect(response.statusCode, response.body).toBe(200);
      const signature = Buffer.from(response.json().signature, 'base64');
      expect(verify('sha256', MESSAGE, publicKey('p256'), signature)).toBe(true);
    },
  );
});
