/** The attestation XML of a stored key (`SignedKeyAttributes.xml`), built from the same facts as its JSON view. */
import type { Key } from '../../generated/prisma/client.js';
import type { NormalizedPolicy } from '../../ska/policy-normalized.js';
import { renderPolicyXml } from '../../ska/policy-xml.js';
import { renderKeyXml } from '../attestation.js';
import type { KeyAttributesJson } from './key-store.types.js';

export function keyAttestationXml(key: Key, json: KeyAttributesJson): string {
  return renderKeyXml({
    uuid: key.id,
    label: key.label,
    externalId: key.externalId,
    origin: key.origin === 'imported' ? 'imported' : 'generated',
    publicOnly: key.publicOnly,
    symmetric: key.publicKey === null && !key.publicOnly,
    createTime: json.createTime,
    attestTime: json.attestTime,
    useCount: json.keyUsageCount,
    // as the JSON reports it (a stateful key: its family, HSS-LMS or XMSS)
    algorithm: json.algorithm,
    algorithmOid: json.algorithmOid,
    curveOid: key.curveOid,
    keySize: key.keySize,
    publicKeyBase64: json.publicKey,
    derivation: json.derivedAttributes
      ? { type: json.derivedAttributes.derivationType, value: json.derivedAttributes.derivationValue }
      : null,
    addressTruncated: json.addressTruncated?.address ?? null,
    attributes: json.attributes,
    policyXml:
      key.policy === null
        ? null
        : renderPolicyXml({
            ...(key.policy as unknown as NormalizedPolicy),
            keyStatus: { blocked: key.blocked },
          }),
  });
}
