import type { KeyMaterial } from '../../crypto/mechanisms/key-mechanisms.js';
import { TsbError } from '../../errors.js';
import type { Key } from '../../generated/prisma/client.js';
import { ACTIVE, type PublicPart } from './key.repository.js';

/**
 * Re-importing a public key or certificate under a taken name replaces it, never a private key:
 * what the stored key becomes, or the error that refuses the import.
 */
export function publicReimport(existing: Key, material: KeyMaterial, publicOnly: boolean): PublicPart {
  if (!publicOnly || existing.status !== ACTIVE) {
    throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${existing.label}" already exists`);
  }
  if (existing.algorithm !== material.algorithm) {
    throw new TsbError(
      'KEY_ALREADY_EXISTING',
      `a ${existing.algorithm} key named "${existing.label}" already exists`,
    );
  }
  if (!existing.publicOnly) {
    const samePublicKey =
      existing.publicKey !== null && material.publicKey?.equals(existing.publicKey) === true;
    if (!samePublicKey) {
      throw new TsbError(
        'PARSING_KEY',
        'the public key or certificate does not belong to the existing private key',
      );
    }
  }
  return {
    publicKey: existing.publicOnly && material.publicKey ? material.publicKey : existing.publicKey,
    certificate: material.certificate ?? existing.certificate,
    curveOid: material.curveOid,
    keySize: material.keySize,
  };
}
