import { wotsPublicKey } from './wots-plus.js';
import { ADDRESS_TYPE, XmssAddress } from './xmss-address.js';
import type { XmssHashes } from './xmss-hashes.js';

/**
 * The Merkle tree of one XMSS key (RFC 8391 §4.1): leaves are the L-tree compressed WOTS+ public keys,
 * inner nodes RAND_HASH of their children. `layer` and `tree` place the tree in an XMSS^MT hypertree
 * (both 0 for XMSS).
 */
export interface TreePosition {
  readonly layer: number;
  readonly tree: number;
}

const XMSS_TREE: TreePosition = { layer: 0, tree: 0 };

/** ltree(pk, SEED, ADRS) of RFC 8391 §4.1.5: one n-byte node from the `len` chain ends */
export function lTree(hashes: XmssHashes, publicKey: Buffer[], address: XmssAddress): Buffer {
  let nodes = publicKey;
  let height = 0;
  while (nodes.length > 1) {
    address.setTreeHeight(height);
    const parents: Buffer[] = [];
    for (let i = 0; i + 1 < nodes.length; i += 2) {
      address.setTreeIndex(i / 2);
      parents.push(hashes.h(address, nodes[i]!, nodes[i + 1]!));
    }
    if (nodes.length % 2 === 1) parents.push(nodes[nodes.length - 1]!);
    nodes = parents;
    height++;
  }
  return nodes[0]!;
}

/** The leaf `index`: the L-tree of the WOTS+ public key at that index */
export function leaf(
  hashes: XmssHashes,
  skSeed: Uint8Array,
  index: number,
  position: TreePosition = XMSS_TREE,
): Buffer {
  const ots = new XmssAddress(ADDRESS_TYPE.OTS, position.layer, position.tree).setKeyPair(index);
  const lTreeAddress = new XmssAddress(ADDRESS_TYPE.L_TREE, position.layer, position.tree).setKeyPair(index);
  return lTree(hashes, wotsPublicKey(hashes, skSeed, ots), lTreeAddress);
}

/**
 * Every node of the tree, layer by layer: `layers[k]` holds the 2^(height−k) nodes of height k, each
 * n bytes, left to right; `layers[height]` is the root.
 */
export function treeLayers(
  hashes: XmssHashes,
  skSeed: Uint8Array,
  position: TreePosition = XMSS_TREE,
): Buffer[] {
  const { n, height } = hashes.params;
  const leaves = Buffer.alloc(n * 2 ** height);
  for (let i = 0; i < 2 ** height; i++) leaf(hashes, skSeed, i, position).copy(leaves, i * n);
  const layers = [leaves];
  const address = new XmssAddress(ADDRESS_TYPE.HASH_TREE, position.layer, position.tree);
  for (let k = 0; k < height; k++) {
    const children = layers[k]!;
    const parents = Buffer.alloc(children.length / 2);
    address.setTreeHeight(k);
    for (let j = 0; j < parents.length / n; j++) {
      address.setTreeIndex(j);
      const left = children.subarray(2 * j * n, (2 * j + 1) * n);
      const right = children.subarray((2 * j + 1) * n, (2 * j + 2) * n);
      hashes.h(address, left, right).copy(parents, j * n);
    }
    layers.push(parents);
  }
  return layers;
}

/** The authentication path of leaf `index`: the sibling of each node on its way to the root, height · n bytes */
export function authenticationPath(layers: readonly Buffer[], n: number, index: number): Buffer {
  const path: Buffer[] = [];
  for (let k = 0; k < layers.length - 1; k++) {
    const sibling = (index >>> k) ^ 1;
    path.push(layers[k]!.subarray(sibling * n, (sibling + 1) * n));
  }
  return Buffer.concat(path);
}

/** The root that `leafNode` at `index` and its authentication path imply (RFC 8391 §4.1.10) */
export function rootFromPath(
  hashes: XmssHashes,
  leafNode: Uint8Array,
  index: number,
  path: Uint8Array,
  position: TreePosition = XMSS_TREE,
): Buffer {
  const { n, height } = hashes.params;
  const address = new XmssAddress(ADDRESS_TYPE.HASH_TREE, position.layer, position.tree);
  let node: Buffer = Buffer.from(leafNode);
  for (let k = 0; k < height; k++) {
    const sibling = path.subarray(k * n, (k + 1) * n);
    address.setTreeHeight(k).setTreeIndex(index >>> (k + 1));
    node = ((index >>> k) & 1) === 0 ? hashes.h(address, node, sibling) : hashes.h(address, sibling, node);
  }
  return node;
}
