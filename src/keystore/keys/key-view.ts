/** The TSB JSON view of a stored key (`SignedKeyAttributes.json`). */
import { type AddressFormat, truncatedAddress } from '../../crypto/addresses/address-formats.js';
import {
  algorithmOidOf,
  isKeyAlgorithm,
  isStateful,
  normalizeAlgorithm,
  statefulFamily,
} from '../../crypto/algorithms.js';
import { derivationTypeOf } from '../../crypto/derivation/key-derivation.js';
import type { Key, Prisma } from '../../generated/prisma/client.js';
import { toBase64 } from '../../lib/encoding.js';
import { isoSeconds } from '../../lib/time.js';
import type { SkaPolicy } from '../../ska/policy.schema.js';
import { toPolicyJson } from '../../ska/policy-json.js';
import type { NormalizedPolicy } from '../../ska/policy-normalized.js';
import { type KeyAttributes, publicAttributeView } from '../key-attributes.js';
import type { KeyAttributesJson } from './key-store.types.js';

export function keyAttributesJson(key: Key, attestTime: Date): KeyAttributesJson {
  const attributes = key.attributes as unknown as KeyAttributes;
  const address =
    key.addressFormat && key.publicKey
      ? {
          address: truncatedAddress(key.addressFormat as AddressFormat, Buffer.from(key.publicKey)),
          format: key.addressFormat,
        }
      : null;
  return {
    label: key.label,
    id: key.externalId,
    uuid: key.id,
    version: key.version,
    algorithm: reportedAlgorithm(key.algorithm),
    algorithmOid: reportedAlgorithmOid(key),
    curveOid: key.curveOid,
    derivedAttributes: derivedAttributesOf(key, attributes),
    keySize: key.keySize,
    // every answered use is committed before its answer leaves (use-counter.ts): the stored count is exact
    keyUsageCount: Number(key.useCount),
    createTime: isoSeconds(key.createdAt),
    attestTime: isoSeconds(attestTime),
    publicKey: toBase64(key.publicKey),
    addressTruncated: address,
    attributes: publicAttributeView(attributes),
    policy: key.policy === null ? null : wirePolicy(key.policy, key.blocked),
    ...statefulView(key),
  };
}

/** The stored algorithm OID; secret keys stored before they had one get their family's (SYMMETRIC_OIDS). */
export function reportedAlgorithmOid(key: Pick<Key, 'algorithm' | 'algorithmOid' | 'curveOid'>): string {
  return key.algorithmOid ?? algorithmOidOf(normalizeAlgorithm(key.algorithm), key.curveOid);
}

/** A stateful key reports its family (`HSS-LMS`, `XMSS`), as the TSB does; its parameter set and state are OpenTSB's. */
const reportedAlgorithm = (algorithm: string) =>
  isKeyAlgorithm(algorithm) && isStateful(algorithm) ? statefulFamily(algorithm) : algorithm;

function statefulView(key: Key): Pick<KeyAttributesJson, 'parameterSet' | 'remainingSignatures'> {
  if (!isKeyAlgorithm(key.algorithm) || !isStateful(key.algorithm)) return {};
  const remaining =
    key.statefulLimit === null || key.statefulNext === null
      ? 0
      : Number(key.statefulLimit - key.statefulNext);
  return { parameterSet: key.algorithm, remainingSignatures: remaining };
}

function derivedAttributesOf(key: Key, attributes: KeyAttributes): KeyAttributesJson['derivedAttributes'] {
  if (key.derivationType && key.derivationValue) {
    return { derivationType: key.derivationType, derivationValue: key.derivationValue };
  }
  const type = derivationTypeOf(key.algorithm, attributes);
  if (!type || !key.chainCode) return null;
  return { derivationType: type, derivationValue: Buffer.from(key.chainCode).toString('hex').toUpperCase() };
}

/** The policy as the TSB shows it: the stored rules plus the live `keyStatus`, without our derived fields. */
function wirePolicy(policy: Prisma.JsonValue, blocked: boolean): SkaPolicy {
  return { ...toPolicyJson(policy as unknown as NormalizedPolicy), keyStatus: { blocked } };
}
