/**
 * DSA keys (node:crypto): FIPS 186-4 (L, N) = (2048, 256) or (3072, 256), and (1024, 160) as legacy strength
 * (the TSB creates them); imports from 1024 bits, with N = 160, 224 or 256 and domain parameters DSA can
 * use (dsaDomainProblem: OpenSSL reads a key of any (p, q, g), and NONE_WITH_DSA could not sign with some).
 */
import { DSA_Q_BITS, dsaDomainProblem, dsaPublicKey } from '../signatures/dsa-digest.js';
import { fail, parsing } from './key-material.js';
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
    const divisor = key.asymmetricKeyDetails?.divisorLength ?? 0;
    if (!(DSA_Q_BITS as readonly number[]).includes(divisor)) {
      throw fail(
        'INPUT_KEYSIZE',
        `DSA keys with a ${divisor}-bit q are not supported (${DSA_Q_BITS.join(', ')} bits)`,
      );
    }
    const problem = parsing('PARSING_KEY', 'the DSA key has no readable domain parameters', () =>
      dsaDomainProblem(dsaPublicKey(key)),
    );
    if (problem) throw fail('PARSING_KEY', `the DSA key is not a valid DSA key: ${problem}`);
    return bits;
  },
  generate: (keySize) =>
    generateNodeKeyPair('dsa', { modulusLength: keySize, divisorLength: keySize === 1024 ? 160 : 256 }),
});
