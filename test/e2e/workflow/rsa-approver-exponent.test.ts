/**
 * An RSA approver key's public exponent is below 2^256 (FIPS 186-5 §5.4; every real key has 65537). Anyone may
 * list tasks without a credential by signing a timestamp with any key, and an RSA-3072 key with a 3,000-bit
 * exponent makes each verification of it cost ~7 ms instead of ~0.06 ms (OpenSSL bounds the exponent only above
 * 3,072 bits of modulus): a hundred times the work per unauthenticated request, on the calling thread or the
 * signing lane every tenant's signatures share. Such a key is now refused before anything is verified, in a
 * listing as in a policy.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApproverPublicKey } from '../../../src/ska/approver-key.js';
import type { TestContext } from '../../helpers/app.js';
import type { TestApprover } from '../../helpers/approvers.js';
import { expectTsbError, taskFilter, workflowContext } from './fixtures.js';

const P = 'exponents';
const big = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex')}`);
const bytesOf = (value: bigint) => {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
};
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((s0 % m) + m) % m;
}

/** A working RSA-3072 key pair whose public exponent has ~3,000 bits. */
function hugeExponentApprover(): TestApprover {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey.export({ format: 'jwk' });
  const [p, q] = [big(Buffer.from(jwk.p!, 'base64url')), big(Buffer.from(jwk.q!, 'base64url'))];
  const phi = (p - 1n) * (q - 1n);
  for (;;) {
    const e = big(randomBytes(380)) | 1n | (1n << 3000n);
    let d: bigint;
    try {
      d = inverse(e, phi);
    } catch {
      continue;
    }
    const field = (value: bigint) => bytesOf(value).toString('base64url');
    const privateKey = createPrivateKey({
      key: {
        ...jwk,
        e: field(e),
        d: field(d),
        dp: field(d % (p - 1n)),
        dq: field(d % (q - 1n)),
        qi: field(inverse(q, p)),
      },
      format: 'jwk',
    });
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    return {
      kind: 'RSA-2048',
      privateKey,
      publicKey: spki.toString('base64'),
      digest: 'SHA-256',
      sign: (data) => sign('sha256', data, privateKey),
    };
  }
}

describe('RSA approver keys with a huge public exponent', () => {
  let ctx: TestContext;
  const approver = hugeExponentApprover();
  beforeAll(async () => {
    ctx = await workflowContext(P);
  });
  afterAll(async () => ctx?.close());

  it('are refused in an unauthenticated task listing before the timestamp signature is verified', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/filteredAllApprovalTask',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(taskFilter(approver, new Date(), { detailLevel: 'level1' })),
    });
    expectTsbError(response, 400, 407);
    expect(response.json().message).toMatch(/public exponent/);
  });

  it('are refused in a policy; 65537 and 3 are accepted', () => {
    expect(() => parseApproverPublicKey(Buffer.from(approver.publicKey, 'base64'))).toThrow(
      /public exponent/,
    );
    for (const publicExponent of [65537, 3]) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent });
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      expect(parseApproverPublicKey(spki).keyAlgorithm).toBe('RSA-2048');
    }
  });
});
