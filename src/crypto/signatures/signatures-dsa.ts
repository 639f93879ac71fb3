/** DSA: node:crypto for the hashed forms, dsa-digest.ts for NONE_WITH_DSA. */
import type { KeyObject } from 'node:crypto';
import type { ReadyKey } from '../mechanisms/key-material.js';
import { cannotSign, dsaPublicKey } from './dsa-digest.js';
import { nodeHashName, nodeSignInTurn, nodeVerifyAsync } from './node-signing.js';
import { encodeRs, type RS, readRawSignature, readRs, writeRawSignature } from './signature-encoding.js';
import type { Prepared } from './signature-request.js';
import { runInWorker } from './signatures-pool.js';

export async function signDsa(
  key: ReadyKey & { kind: 'node' },
  prepared: Prepared,
  payload: Buffer,
): Promise<Buffer> {
  const { algorithm, type } = prepared;
  const width = (key.key.asymmetricKeyDetails?.divisorLength ?? 256) / 8;
  let rs: RS;
  if (algorithm.prehashed) {
    // g^k by OpenSSL's constant-time exponentiation, 2–3 ms for 2048–3072-bit p here: in the signature pool
    const signed = await runInWorker({ op: 'dsa-sign-digest', key: key.key, digest: payload });
    if (signed === null || typeof signed !== 'object' || !('r' in signed)) throw cannotSign();
    rs = signed;
  } else {
    const raw = await nodeSignInTurn(nodeHashName(algorithm.hash), payload, {
      key: key.key,
      dsaEncoding: 'ieee-p1363',
    });
    rs = readRawSignature(raw, width)!;
  }
  return encodeRs(rs, type, { width });
}

export async function verifyDsa(
  key: KeyObject,
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const { algorithm, type } = prepared;
  const publicKey = dsaPublicKey(key);
  const rs = readRs(signature, type, publicKey.width, publicKey.q);
  if (!rs) return false;
  if (algorithm.prehashed) {
    // BigInt exponentiations (7–10 ms for 2048–3072-bit p here): in the signature pool, off the event loop
    const task = { op: 'dsa-verify-digest', key: publicKey, digest: payload, r: rs.r, s: rs.s } as const;
    return (await runInWorker(task)) === true;
  }
  const raw = writeRawSignature(rs, publicKey.width);
  return nodeVerifyAsync(nodeHashName(algorithm.hash), payload, { key, dsaEncoding: 'ieee-p1363' }, raw);
}
