/** EC keys on the named curves of the catalogue (node:crypto, incl. secp256k1 and brainpool). */
import { fail } from './key-material.js';
import { generateNodeKeyPair, nodeMechanism } from './node-keys.js';

export const ec = nodeMechanism({
  algorithm: 'EC',
  checkSize(_key, curve) {
    if (!curve) throw fail('INVALID_KEY_TYPE', 'the EC key has no supported named curve');
    return curve.keySize;
  },
  generate(_keySize, curve) {
    if (!curve) throw fail('INPUT_VALIDATION_FAILED', 'curveOid is required for EC keys');
    return generateNodeKeyPair('ec', { namedCurve: curve.nodeName, paramEncoding: 'named' });
  },
});
