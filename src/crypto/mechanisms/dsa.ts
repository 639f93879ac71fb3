/**
 * DSA keys (node:crypto): FIPS 186-4 (L, N) = (2048, 256) or (3072, 256), and (1024, 160) as legacy strength
 * (the TSB creates them); imports from 1024 bits, with N = 160, 224 or 256 and domain parameters DSA can
 * use (dsaDomainProblem: OpenSSL reads a key of any (p, q, g), and NONE_WITH_DSA could not sign with some).
 * That check is slow, so the asynchronous callers have it done in a worker thread first (checkAhead).
 */
import type { KeyObject } from 'node:crypto';
import { DSA_Q_BITS, dsaPublicKey } from '../signatures/dsa-digest.js';
import { checkedDsaDomainProblem } from './dsa-domain.js';
import { checkDsaDomainAhead } from './dsa-domain-ahead.js';
import { fail, parsing } from './key-material.js';
import { generateNodeKeyPair, nodeMechanism } from './node-keys.js';

export const DSA_IMPORT_MIN_BITS = 1024;
export const DSA_IMPORT_MAX_BITS = 3072;

/** The bits of p, or INPUT_KEYSIZE if p or q has a size we do not accept. */
function dsaKeySize(key: KeyObject): number {
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
  return bits;
}

export const dsa = nodeMechanism({
  algorithm: 'DSA',
  checkSize(key) {
    const bits = dsaKeySize(key);
    const problem = parsing('PARSING_KEY', 'the DSA key has no readable domain parameters', () =>
      checkedDsaDomainProblem(dsaPublicKey(key)),
    );
    if (problem) throw fail('PARSING_KEY', `the DSA key is not a valid DSA key: ${problem}`);
    return bits;
  },
  async checkAhead(key) {
    try {
      dsaKeySize(key);
    } catch {
      // refused by size before its domain is looked at
      return;
    }
    await checkDsaDomainAhead(key);
  },
  generate: (keySize) =>
    generateNodeKeyPair('dsa', { modulusLength: keySize, divisorLength: keySize === 1024 ? 160 : 256 }),
});
