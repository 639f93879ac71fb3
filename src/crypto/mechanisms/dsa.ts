/**
 * DSA keys (node:crypto): FIPS 186-4 (L, N) = (2048, 256) or (3072, 256), and (1024, 160) as legacy strength
 * (the TSB creates them); imports from 1024 bits.
 */
import { fail } from './key-material.js';
import { generateNodeKeyPair, nodeMechanism } from './node-keys.js';

export const DSA_IMPORT_MIN_BITS = 1024;
export const DSA_IMPORT_MAX_BITS = 3072;

export const dsa = nodeMechanism({
  algorithm: 'DSA',
  checkSize(key) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < DSA_IMPORT_MIN_BITS || bits > DSA_IMPORT_MAX_BITS) {
      throw fail(
        'INPUT_KEYSIZE',
        `DSA keys of ${bits} bits are not supported (${DSA_IMPORT_MIN_BITS} to ${DSA_IMPORT_MAX_BITS})`,
      );
    }
    return bits;
  },
  generate: (keySize) =>
    generateNodeKeyPair('dsa', { modulusLength: keySize, divisorLength: keySize === 1024 ? 160 : 256 }),
});
