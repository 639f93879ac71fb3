import { randomUUID } from 'node:crypto';
import type { AddressFormat } from '../../crypto/addresses/address-formats.js';
import { isStateful } from '../../crypto/algorithms.js';
import type { KeyMaterial } from '../../crypto/mechanisms/key-mechanisms.js';
import { keyMaterialBinding, seal } from '../../crypto/seal.js';
import { statefulScheme } from '../../crypto/stateful/stateful-schemes.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { NormalizedPolicy } from '../../ska/policy-normalized.js';
import type { KeyAttributes } from '../key-attributes.js';
import { hashPassword } from '../key-password.js';
import type { PartitionKeyring } from '../partitions/partition-keyring.js';
import type { KeyRepository } from './key.repository.js';

/** a stateful private key starts with all its one-time indices; a public-only one has none to spend */
function statefulLimitOf(material: KeyMaterial): number | null {
  if (!isStateful(material.algorithm) || material.secret === null) return null;
  const scheme = statefulScheme(material.algorithm);
  if (!scheme)
    throw new TsbError('INVALID_KEY_TYPE', `${material.algorithm} keys are not offered by this HSM`);
  return scheme.maxSignatures;
}

/** A key about to be stored: its material in the clear (wiped once stored) and what was resolved for it. */
export interface KeyToStore {
  label: string;
  externalId: string | null;
  origin: 'generated' | 'imported';
  material: KeyMaterial;
  attributes: KeyAttributes;
  policy: NormalizedPolicy | null;
  password: string | null;
  addressFormat: AddressFormat | null;
  certificate?: Buffer | null;
  chainCode?: Buffer | null;
  derivation?: { type: string; value: string } | null;
  requestId?: string | null;
}

/**
 * Stores a new key with its private or secret material sealed under the partition key, bound to the
 * partition and the new key's id, and its password as an scrypt verifier; the clear material is wiped.
 */
export class SealedKeyWriter {
  constructor(
    private readonly repository: KeyRepository,
    private readonly keyring: PartitionKeyring,
  ) {}

  async insert(partition: Partition, fields: KeyToStore): Promise<Key> {
    const id = randomUUID();
    const { partitionKey } = this.keyring.open(partition);
    const { material } = fields;
    try {
      return await this.repository.insert({
        id,
        partitionId: partition.id,
        label: fields.label,
        externalId: fields.externalId,
        algorithm: material.algorithm,
        algorithmOid: material.algorithmOid,
        curveOid: material.curveOid,
        keySize: material.keySize,
        origin: fields.origin,
        publicOnly: material.secret === null,
        publicKey: material.publicKey,
        certificate: fields.certificate ?? null,
        materialSealed:
          material.secret === null
            ? null
            : seal(partitionKey, material.secret, keyMaterialBinding(partition.id, id)),
        passwordHash: fields.password === null ? null : await hashPassword(fields.password),
        attributes: fields.attributes,
        policy: fields.policy,
        addressFormat: fields.addressFormat,
        chainCode: fields.chainCode ?? null,
        derivation: fields.derivation ?? null,
        requestId: fields.requestId ?? null,
        statefulLimit: statefulLimitOf(material),
      });
    } finally {
      material.secret?.fill(0);
    }
  }
}
