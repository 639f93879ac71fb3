/** HMAC-SHA256 secret keys: 128 to 4096 bits in whole bytes (default 256). */
import { randomBytes } from 'node:crypto';
import { checkSecretLength, loadSecret, type SecretMechanism, secretMaterial } from './symmetric.js';

export const hmac: SecretMechanism = {
  async generate(algorithm, keySize) {
    return secretMaterial(algorithm, randomBytes(keySize / 8));
  },

  fromSecret(algorithm, secret) {
    checkSecretLength(algorithm, secret);
    return secretMaterial(algorithm, Buffer.from(secret));
  },

  load: loadSecret,
};
