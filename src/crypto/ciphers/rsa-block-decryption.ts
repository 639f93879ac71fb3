/**
 * The RSA private-key decryption of one modulus-length block, by scheme (ciphers-rsa.ts describes the schemes).
 * Kept apart, with no project imports, so that the signature pool's worker (signatures-noble.ts) runs it
 * without loading the rest of the ciphers.
 */
import { constants, type KeyObject, privateDecrypt } from 'node:crypto';

export type RsaScheme =
  | { padding: 'pkcs1' }
  | { padding: 'oaep'; hash: 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' }
  | { padding: 'none' };

/** Throws on an OAEP or range failure; a bad PKCS#1 v1.5 padding decrypts to a derived message (implicit rejection). */
export function rsaDecryptBlock(privateKey: KeyObject, scheme: RsaScheme, block: Uint8Array): Buffer {
  switch (scheme.padding) {
    case 'oaep':
      return privateDecrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: scheme.hash },
        block,
      );
    case 'pkcs1':
      return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, block);
    case 'none':
      return privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
  }
}
