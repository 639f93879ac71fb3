/** Rules a new or changed key must meet before it is stored: writable partition, derivation, address format. */
import type { Clock } from '../../clock.js';
import {
  ADDRESS_FORMATS,
  type AddressFormat,
  addressFormatFits,
} from '../../crypto/addresses/address-formats.js';
import { curveSupportsDerivation, type KeyAlgorithm } from '../../crypto/algorithms.js';
import type { KeyMaterial } from '../../crypto/mechanisms/key-mechanisms.js';
import { TsbError } from '../../errors.js';
import type { Partition } from '../../generated/prisma/client.js';
import { decodeKeyField } from '../../lib/encoding.js';
import { parseApproverValuesAhead } from '../../ska/approver-keys-pool.js';
import type { NormalizedPolicy } from '../../ska/policy-normalized.js';
import { validatePolicy } from '../../ska/policy-validate.js';
import type { KeyAttributes } from '../key-attributes.js';

export function assertWritable(partition: Partition): void {
  if (partition.readOnly) {
    throw new TsbError(
      'SECURITY_NOT_ALLOWED',
      'the partition is read-only: keys cannot be created, changed or deleted',
    );
  }
}

/** Key import (plain, seed or unwrapped) must be allowed by the partition security policy. */
export function assertImportAllowed(partition: Partition, what = 'importing keys'): void {
  assertWritable(partition);
  if (!partition.allowKeyImport) {
    throw new TsbError('SECURITY_NOT_ALLOWED', `the partition security policy does not allow ${what}`);
  }
}

/** A key's SKA policy as given (absent or null: none), validated at the key store's clock. */
export async function resolveKeyPolicy(policy: unknown, clock: Clock): Promise<NormalizedPolicy | null> {
  if (policy === undefined || policy === null) return null;
  await parseApproverValuesAhead(policy);
  return validatePolicy(policy, { now: clock.now() });
}

/** Private material that was outside this HSM before its import was never always-sensitive nor never-extractable. */
export const importedPrivateAttributes = (attributes: KeyAttributes): KeyAttributes => ({
  ...attributes,
  alwaysSensitive: false,
  neverExtractable: false,
});

export function assertDerivationFits(
  attributes: KeyAttributes,
  algorithm: KeyAlgorithm,
  curveOid: string | null,
): void {
  if ((attributes.bip32 || attributes.slip10) && !curveSupportsDerivation(algorithm, curveOid)) {
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      'attributes.bip32/slip10: BIP32/SLIP-10 derivation needs an EC key on secp256k1 or secp256r1, or an Ed25519 key',
    );
  }
}

export function optionalField(
  value: string | null | undefined,
  field: string,
  kind: 'KEY_INVALID_ENCODING' | 'CERTIFICATE_INVALID_ENCODING',
) {
  return value === null || value === undefined || value === ''
    ? undefined
    : decodeKeyField(value, field, kind);
}

export function resolveAddressFormat(
  requested: { format: string } | null | undefined,
  material: KeyMaterial,
  hasPolicy: boolean,
): AddressFormat | null {
  if (!requested) return null;
  if (!hasPolicy) {
    throw new TsbError(
      'ADDRESS_ON_NON_SKA_KEY',
      'addressFormat is only available for keys with an SKA policy',
    );
  }
  const format = requested.format as AddressFormat;
  if (!ADDRESS_FORMATS.includes(format)) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `addressFormat.format must be one of ${ADDRESS_FORMATS.join(', ')}`,
    );
  }
  if (!addressFormatFits(format, material.algorithm, material.curveOid)) {
    throw new TsbError(
      'INVALID_KEY_TYPE',
      `addressFormat ${format} does not fit a ${material.algorithm} key on this curve`,
    );
  }
  return format;
}
