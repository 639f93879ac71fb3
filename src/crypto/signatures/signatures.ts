/**
 * Signing and verification with ready keys: no HTTP, no database.
 *
 * Where the work runs:
 * - node:crypto (OpenSSL), asynchronous callback form, on libuv's thread pool: RSA PKCS#1 v1.5 and
 *   PSS with SHA-1/2, ECDSA with SHA-1/2/3 and DOUBLE_SHA256, DSA with SHA-1/2, EdDSA.
 * - noble on the calling thread (sub-millisecond): ECDSA over a digest node cannot take (NONE,
 *   KECCAK*, RFC 6979 deterministic, ETH recoverable signatures) and BIP-340 Schnorr on secp256k1.
 * - pure ML-DSA and SLH-DSA through node:crypto where the runtime has them (signatures-pq-node.ts).
 * - the signature worker pool (signatures-pool.ts): the other ML-DSA and SLH-DSA forms (and all of
 *   them where node:crypto lacks the algorithm) and BLS with noble, SLH-DSA through node:crypto, and
 *   the raw RSA private operation of the prehashed RSA forms (NONE*, NONESHA*), and NONE_WITH_DSA
 *   (dsa-digest.ts: g^k by OpenSSL's constant-time exponentiation, the rest blinded; 2–3 ms).
 *
 * The request checks and their decisions are in signature-request.ts; verify answers false for
 * malformed signatures and throws only for requests that are wrong whatever the signature (unknown
 * algorithm 600, algorithm not for the key 607, bad digest length 612).
 */
import type { KeyAlgorithm } from '../algorithms.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import type { ReadyPublicKey } from '../mechanisms/public-keys.js';
import { schemeOf } from '../mechanisms/stateful-keys.js';
import { nodeSignCheap, nodeVerifyAsync } from './node-signing.js';
import {
  checkDigestLength,
  notForKey,
  prepare,
  type SignRequest,
  type VerifyRequest,
  verifiableEncodings,
} from './signature-request.js';
import { signDsa, verifyDsa } from './signatures-dsa.js';
import { signEcdsa, signSchnorr, verifyEcdsa, verifySchnorr } from './signatures-ecdsa.js';
import { nobleSignTask, nobleVerifyTask } from './signatures-noble-tasks.js';
import { runInWorker } from './signatures-pool.js';
import { signPqWithNode, verifyPqWithNode } from './signatures-pq-node.js';
import { signRsa, verifyRsa } from './signatures-rsa.js';

/** Checks a sign request against a key type without signing (an SKA request is checked before it is stored). */
export function checkSignRequest(
  keyAlgorithm: KeyAlgorithm,
  curveOid: string | null,
  request: SignRequest,
): void {
  checkDigestLength(prepare(keyAlgorithm, curveOid, request).algorithm, request.payload);
}

/** Signs `payload` with a ready private key; the signature bytes (encoding per signatureType). */
export async function sign(key: ReadyKey, request: SignRequest): Promise<Buffer> {
  const curveOid = key.kind === 'node' ? key.curveOid : null;
  const prepared = prepare(key.algorithm, curveOid, request);
  const { algorithm } = prepared;
  const payload = request.payload;
  checkDigestLength(algorithm, payload);
  if (key.kind === 'secret')
    throw notForKey(`a ${key.algorithm} key cannot make ${algorithm.name} signatures`);
  if (key.kind === 'noble') {
    const signature = await signPqWithNode(key, prepared, payload);
    if (signature) return signature;
    return Buffer.from((await runInWorker(nobleSignTask(key, prepared, payload))) as Uint8Array);
  }
  if (key.kind === 'stateful')
    throw notForKey(`a ${key.algorithm} key signs only with an index the key store reserved (signStateful)`);
  switch (key.algorithm) {
    case 'RSA':
      return signRsa(key, algorithm, payload);
    case 'EC':
      if (algorithm.family === 'SCHNORR_BIP340') return signSchnorr(key, payload);
      return signEcdsa(key, prepared, payload);
    case 'DSA':
      return signDsa(key, prepared, payload);
    case 'ED':
      return nodeSignCheap(null, payload, key.key);
  }
}

/** Verifies a signature with a ready public key: false for wrong or malformed signatures. */
export async function verify(publicKey: ReadyPublicKey, request: VerifyRequest): Promise<boolean> {
  const curveOid = publicKey.kind === 'node' ? publicKey.curveOid : null;
  const prepared = prepare(publicKey.algorithm, curveOid, request);
  const { algorithm } = prepared;
  const { payload, signature } = request;
  checkDigestLength(algorithm, payload);
  if (!Buffer.isBuffer(signature) || signature.length === 0) return false;
  if (publicKey.kind === 'noble') {
    const verdict = await verifyPqWithNode(publicKey, prepared, payload, signature);
    if (verdict !== null) return verdict;
    return (await runInWorker(nobleVerifyTask(publicKey, prepared, payload, signature))) === true;
  }
  if (publicKey.kind === 'stateful')
    return schemeOf(publicKey.algorithm).verify(publicKey.publicKey, payload, signature);
  switch (publicKey.algorithm) {
    case 'RSA':
      return verifyRsa(publicKey.key, algorithm, payload, signature);
    case 'EC':
    case 'DSA':
      if (algorithm.family === 'SCHNORR_BIP340') return verifySchnorr(publicKey.key, payload, signature);
      for (const type of verifiableEncodings(request, prepared, publicKey.curveOid)) {
        const as = { ...prepared, type };
        const valid =
          publicKey.algorithm === 'EC'
            ? await verifyEcdsa(publicKey.key, publicKey.curveOid, as, payload, signature)
            : await verifyDsa(publicKey.key, as, payload, signature);
        if (valid) return true;
      }
      return false;
    case 'ED':
      return nodeVerifyAsync(null, payload, publicKey.key, signature);
  }
}

/** The public half of a ready private key, for verifying with it (tests, self-checks). */
export function publicOf(key: ReadyKey): ReadyPublicKey {
  if (key.kind === 'node')
    return { kind: 'node', algorithm: key.algorithm, curveOid: key.curveOid, key: key.publicKey };
  if (key.kind === 'noble')
    return {
      kind: 'noble',
      algorithm: key.algorithm,
      publicKey: key.publicKey,
      node: key.node?.publicKey ?? null,
    };
  if (key.kind === 'stateful')
    return { kind: 'stateful', algorithm: key.algorithm, publicKey: key.publicKey };
  throw notForKey(`a ${key.algorithm} key has no public key`);
}
