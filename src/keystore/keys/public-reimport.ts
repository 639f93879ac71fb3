import type { KeyMaterial } from '../../crypto/mechanisms/key-mechanisms.js';
import { TsbError } from '../../errors.js';
import type { Key } from '../../generated/prisma/client.js';
import type { KeyAttributes } from '../key-attributes.js';
import { ACTIVE, type PublicPart } from './key.repository.js';

/**
 * Re-importing a public key or certificate under a taken name replaces it, never a private key.
 * Only an active key takes one (KEY_ALREADY_EXISTING otherwise, before anything else is looked at).
 */
export function assertPublicReimport(existing: Key, publicOnly: boolean): void {
  if (!publicOnly || existing.status !== ACTIVE) {
    throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${existing.label}" already exists`);
  }
}

/**
 * A re-import changes the key, so it needs what every change of a key needs: the key's password
 * (checked by the caller, before this) and a key that is `modifiable`, as destroying one needs
 * `destroyable` (OPERATION_FORBIDDEN_FOR_KEY).
 */
export function assertModifiable(key: Key): void {
  const attributes = key.attributes as unknown as KeyAttributes;
  if (!attributes.modifiable) {
    throw new TsbError(
      'OPERATION_FORBIDDEN_FOR_KEY',
      `key "${key.label}" is not modifiable: its public key and certificate cannot be replaced`,
    );
  }
}

/** What the stored key becomes, or the error that refuses the import. */
export function publicReimport(existing: Key, material: KeyMaterial): PublicPart {
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
