/** RSA keys (node:crypto): 1024 (legacy strength) and 2048–8192-bit generation with e = 65537; imports of PKCS#8 or PKCS#1. */
import { fail } from './key-material.js';
import { generateNodeKeyPair, nodeMechanism } from './node-keys.js';
import { checkRsaPrivateKey } from './rsa-private-key-check.js';

/** Imported RSA keys may be smaller or larger than the sizes offered for generation. */
export const RSA_IMPORT_MIN_BITS = 1024;
export const RSA_IMPORT_MAX_BITS = 16384;

export const rsa = nodeMechanism({
  algorithm: 'RSA',
  checkSize(key) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < RSA_IMPORT_MIN_BITS || bits > RSA_IMPORT_MAX_BITS) {
      throw fail(
        'INPUT_KEYSIZE',
        `RSA keys of ${bits} bits are not supported (${RSA_IMPORT_MIN_BITS} to ${RSA_IMPORT_MAX_BITS})`,
      );
    }
    return bits;
  },
  checkImportedPrivate: checkRsaPrivateKey,
  generate: (keySize) => generateNodeKeyPair('rsa', { modulusLength: keySize, publicExponent: 0x10001 }),
});
