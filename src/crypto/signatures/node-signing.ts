/** node:crypto sign in its callback form, so that the work runs on libuv's thread pool; verify in place. */
import { sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import type { SignatureAlgorithm } from './signature-algorithms.js';

export const nodeSignAsync = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeSign>[2],
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    nodeSign(hash, data, key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });

/**
 * Verification runs synchronously (tens of microseconds for RSA, EC, DSA and EdDSA public operations):
 * the thread-pool form once answered true for a tampered RSA-PSS payload under load in CI (Node 20,
 * OpenSSL 3.0; not reproduced since), and a verifier that can say yes wrongly is worse than a slower one.
 */
export const verifyWithNode = async (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeVerify>[2],
  signature: Buffer,
): Promise<boolean> => {
  try {
    return nodeVerify(hash, data, key, signature);
  } catch {
    return false;
  }
};

export const nodeHashName = (hash: SignatureAlgorithm['hash']): string => hash; // sha1, sha224…, sha3-256…
