import { type KeyObject, sign } from 'node:crypto';
import { promisify } from 'node:util';

const signAsync = promisify(sign);

export const ATTESTATION_KEY_NAME = 'attestation-key';

export interface AttestedKeyFacts {
  uuid: string;
  label: string;
  externalId: string | null;
  origin: 'generated' | 'imported';
  publicOnly: boolean;
  symmetric: boolean;
  createTime: string;
  attestTime: string;
  useCount: bigint | number;
  algorithm: string;
  algorithmOid: string | null;
  curveOid: string | null;
  keySize: number | null;
  publicKeyBase64: string | null;
  derivation: { type: string; value: string } | null;
  addressTruncated: string | null;
  attributes: {
    decrypt: boolean;
    sign: boolean;
    unwrap: boolean;
    derive: boolean;
    sensitive: boolean;
    alwaysSensitive: boolean;
    extractable: boolean;
    neverExtractable: boolean;
    modifiable: boolean;
    copyable: boolean;
    destroyable: boolean;
  };
  /** the `<policy>…</policy>` element, already rendered, or null for a key without SKA policy */
  policyXml: string | null;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

function element(name: string, value: string | number | bigint | boolean | null): string {
  return value === null ? `\t<${name}/>` : `\t<${name}>${escapeXml(String(value))}</${name}>`;
}

/**
 * The key-attribute statement in the XML form the TSB returns (`<private_key creation="generated">…`),
 * tab-indented as in the reference samples. This exact text is what the attestation key signs.
 */
export function renderKeyXml(facts: AttestedKeyFacts): string {
  const root = facts.publicOnly ? 'public_key_object' : facts.symmetric ? 'secret_key' : 'private_key';
  const a = facts.attributes;
  const attributes = [
    ['decrypt', a.decrypt],
    ['sign', a.sign],
    ['unwrap', a.unwrap],
    ['derive', a.derive],
    ['sensitive', a.sensitive],
    ['always_sensitive', a.alwaysSensitive],
    ['extractable', a.extractable],
    ['never_extractable', a.neverExtractable],
    ['modifiable', a.modifiable],
    ['copyable', a.copyable],
    ['destroyable', a.destroyable],
    ['unique', true],
  ] as const;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<${root} creation="${facts.origin}">`,
    element('uuid', facts.uuid),
    element('label', facts.label),
    ...(facts.externalId === null ? [] : [element('id', facts.externalId)]),
    element('create_time', facts.createTime),
    element('attest_time', facts.attestTime),
    element('key_use_count', facts.useCount),
    element('algorithm', facts.algorithm),
    element('algorithm_oid', facts.algorithmOid),
    element('curve_oid', facts.curveOid),
    element('key_size', facts.keySize),
    element('public_key', facts.publicKeyBase64),
    ...(facts.derivation === null
      ? []
      : [
          `\t<derivation_value type="${escapeXml(facts.derivation.type)}">${escapeXml(facts.derivation.value)}</derivation_value>`,
        ]),
    element('address_truncated', facts.addressTruncated),
    '\t<attributes>',
    ...attributes.map(([name, value]) => `\t${element(name, value)}`),
    '\t</attributes>',
    ...(facts.policyXml === null ? [] : [indent(facts.policyXml, 1)]),
    `</${root}>`,
  ];
  return `${lines.join('\n')}\n`;
}

function indent(block: string, depth: number): string {
  const prefix = '\t'.repeat(depth);
  return block
    .trimEnd()
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** ECDSA P-256 with SHA-256 (DER) over the UTF-8 XML: `openssl dgst -sha256 -verify attestation.pem -signature sig file.xml`. */
export async function signStatement(attestationKey: KeyObject, xml: string): Promise<Buffer> {
  return signAsync('sha256', Buffer.from(xml, 'utf8'), attestationKey);
}
