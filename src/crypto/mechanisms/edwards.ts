/** EdDSA keys (node:crypto): Ed25519 and Ed448; the curve OID is also the key's algorithm OID. */
import { fail } from './key-material.js';
import { generateNodeKeyPair, nodeMechanism } from './node-keys.js';

export const edwards = nodeMechanism({
  algorithm: 'ED',
  checkSize(_key, curve) {
    if (!curve) throw fail('INVALID_KEY_TYPE', 'the Edwards curve of the key is not supported');
    return curve.keySize;
  },
  generate(_keySize, curve) {
    return generateNodeKeyPair(curve?.nodeName === 'ed448' ? 'ed448' : 'ed25519');
  },
});
