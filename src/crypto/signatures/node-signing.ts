/** node:crypto sign and verify in their callback form, so that the work runs on libuv's thread pool. */
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

export const nodeVerifyAsync = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeVerify>[2],
  signature: Buffer,
): Promise<boolean> =>
  new Promise((resolve) => {
    try {
      nodeVerify(hash, data, key, signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });

export const nodeHashName = (hash: SignatureAlgorithm['hash']): string => hash; // sha1, sha224…, sha3-256…
