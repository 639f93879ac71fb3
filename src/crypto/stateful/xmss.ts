import { timingSafeEqual } from 'node:crypto';
import { TsbError } from '../../errors.js';
import { wotsPublicKeyFromSignature, wotsSign } from './wots-plus.js';
import { ADDRESS_TYPE, XmssAddress } from './xmss-address.js';
import { XmssHashes } from './xmss-hashes.js';
import {
  decodeXmssPrivateKey,
  decodeXmssPublicKey,
  encodeXmssPrivateKey,
  encodeXmssPublicKey,
  splitXmssSignature,
} from './xmss-keys.js';
import type { XmssParams } from './xmss-params.js';
import { authenticationPath, lTree, rootFromPath, treeLayers } from './xmss-tree.js';
import { cachedTreeLayers } from './xmss-tree-cache.js';

/**
 * XMSS (RFC 8391 §4.1) with the key derivation of NIST SP 800-208 and the XMSS reference
 * implementation: key generation, signing at an index the caller reserved, verification.
 */

/** The key pair of the seeds SK_SEED, SK_PRF and PUB_SEED (n bytes each): key generation without its randomness */
export function xmssKeyFromSeeds(
  params: XmssParams,
  skSeed: Uint8Array,
  skPrf: Uint8Array,
  pubSeed: Uint8Array,
): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const hashes = new XmssHashes(params, pubSeed);
  const layers = treeLayers(hashes, skSeed);
  const root = layers[params.height]!;
  const privateKey = encodeXmssPrivateKey({
    params,
    skSeed: Buffer.from(skSeed),
    skPrf: Buffer.from(skPrf),
    root,
    pubSeed: Buffer.from(pubSeed),
  });
  cachedTreeLayers(params.oid, skSeed, pubSeed, '', () => layers);
  return { privateKey, publicKey: encodeXmssPublicKey(params, root, pubSeed) };
}

export function xmssSign(
  params: XmssParams,
  privateKey: Uint8Array,
  index: number,
  message: Uint8Array,
): Uint8Array {
  const key = decodeXmssPrivateKey(privateKey);
  if (key.params !== params) {
    throw new TsbError('HSM_INTEGRITY', `the private key is not an ${params.name} key`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** params.height) {
    throw new TsbError('HSM_INTEGRITY', `XMSS index ${index} is out of range`);
  }
  const hashes = new XmssHashes(params, key.pubSeed);
  const layers = cachedTreeLayers(params.oid, key.skSeed, key.pubSeed, '', () =>
    treeLayers(hashes, key.skSeed),
  );
  if (!layers[params.height]!.equals(key.root)) {
    throw new TsbError('HSM_INTEGRITY', 'the XMSS private key does not match its root');
  }
  const r = hashes.randomizer(key.skPrf, index);
  const digest = hashes.messageDigest(r, key.root, index, message);
  const ots = wotsSign(hashes, digest, key.skSeed, new XmssAddress(ADDRESS_TYPE.OTS).setKeyPair(index));
  const indexBytes = Buffer.alloc(4);
  indexBytes.writeUInt32BE(index);
  const auth = authenticationPath(layers, params.n, index);
  return new Uint8Array(Buffer.concat([indexBytes, r, ots, auth]));
}

/** Whether `signature` is a valid XMSS signature of `message` under `publicKey` (any known parameter set) */
export function xmssVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = decodeXmssPublicKey(publicKey);
  if (!key) return false;
  const { params } = key;
  const parts = splitXmssSignature(params, signature);
  if (!parts || parts.index >= 2 ** params.height) return false;
  const hashes = new XmssHashes(params, key.pubSeed);
  const digest = hashes.messageDigest(parts.r, key.root, parts.index, message);
  const ots = new XmssAddress(ADDRESS_TYPE.OTS).setKeyPair(parts.index);
  const wotsKey = wotsPublicKeyFromSignature(hashes, parts.ots, digest, ots);
  const leafNode = lTree(hashes, wotsKey, new XmssAddress(ADDRESS_TYPE.L_TREE).setKeyPair(parts.index));
  const root = rootFromPath(hashes, leafNode, parts.index, parts.auth);
  return timingSafeEqual(root, key.root);
}
