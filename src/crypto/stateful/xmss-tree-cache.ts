import { createHash } from 'node:crypto';
import { BoundedTtlCache } from '../../lib/ttl-cache.js';

/**
 * The node layers of recently used XMSS trees, so that only the first signature of a key (or the
 * first after an eviction) pays for the whole tree. Bounded by entries: a height-10 tree is 64 KiB
 * (n = 32), a height-16 tree 4 MiB. Keyed by a digest of what the tree depends on (OID, SK_SEED,
 * PUB_SEED), never by the secret itself; the caller checks the root against its key.
 */
const MAX_TREES = 16;
const trees = new BoundedTtlCache<Buffer[]>(MAX_TREES);

/** The layers of the tree `which` (e.g. an XMSS^MT subtree's position) of a key, built once */
export function cachedTreeLayers(
  oid: number,
  skSeed: Uint8Array,
  pubSeed: Uint8Array,
  which: string,
  build: () => Buffer[],
): Buffer[] {
  const id = `${oid}:${createHash('sha256').update(skSeed).update(pubSeed).digest('base64')}:${which}`;
  return trees.getOrSet(id, build);
}
