/**
 * The operation parameters an approval binds besides the payload (docs/approval-challenge.md, "Operation
 * parameters"): everything in the request that changes what the operation does. The challenge carries
 * SHA-256 of their canonical JSON (tag 0x7F06), so approvals for one signature algorithm, cipher setting
 * or imported key's label and attributes do not authorize another.
 *
 * One rule for every field: an absent field and `null` are the same; a field with a documented default
 * (signatureType DER, payloadType UNSPECIFIED, tagLength 0 = 128) is written with that default, so
 * leaving it out and sending the default give the same digest. Everything else is bound exactly as sent
 * (a different spelling of the same thing, e.g. another attribute object, needs its own approval).
 * Binary fields are bound by the lower-case hex SHA-256 of their base64-decoded bytes (null when absent
 * or empty). `metaData` is not bound: it changes nothing the operation does (the application's
 * `metaDataSignature` protects it).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.js';
import { decodeBase64 } from '../lib/encoding.js';
import type { SkaOperation } from './challenge.js';

export type OperationParameters = Record<string, string | number | object | null>;

/** The inner TSB request (`signRequest`, `decryptRequest`, `unwrapKeyRequest`, …), as sent or as stored. */
export type InnerRequest = Readonly<Record<string, unknown>>;

/** The parameters of `operation` as `request` gives them, defaults written out. */
export function operationParameters(operation: SkaOperation, request: InnerRequest): OperationParameters {
  switch (operation) {
    case 'SIGN':
      return {
        signatureAlgorithm: text(request['signatureAlgorithm']),
        signatureType: text(request['signatureType']) ?? 'DER',
        payloadType: text(request['payloadType']) ?? 'UNSPECIFIED',
        context: binaryDigest(request['context'], 'context'),
      };
    case 'DECRYPT':
      return {
        cipherAlgorithm: text(request['cipherAlgorithm']),
        initializationVector: binaryDigest(request['initializationVector'], 'initializationVector'),
        tagLength: tagLength(request['tagLength']),
        additionalAuthenticationData: binaryDigest(
          request['additionalAuthenticationData'],
          'additionalAuthenticationData',
        ),
      };
    case 'UNWRAP':
      return {
        label: text(request['label']),
        wrapMethod: text(request['wrapMethod']),
        algorithm: text(request['algorithm']),
        attributes: jsonValue(request['attributes']),
        policy: jsonValue(request['policy']),
      };
    // the payload digest already covers everything these do: nothing (block, unblock), the whole new
    // policy (modify), the whole request without its password (certificates)
    case 'BLOCK':
    case 'UNBLOCK':
    case 'MODIFY':
    case 'CERTIFICATE_REQUEST':
    case 'SELF_SIGN_CERTIFICATE':
    case 'SIGN_CERTIFICATE':
      return {};
  }
}

/** SHA-256 of the canonical JSON of {@link operationParameters}: the challenge's 0x7F06 item. */
export function parametersDigest(operation: SkaOperation, request: InnerRequest): Buffer {
  return sha256(canonicalJson(operationParameters(operation, request)));
}

const sha256 = (data: string | Uint8Array): Buffer => createHash('sha256').update(data).digest();

function text(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

function binaryDigest(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  const bytes = decodeBase64(String(value), field);
  return bytes.length === 0 ? null : sha256(bytes).toString('hex');
}

function tagLength(value: unknown): number | string {
  if (value === undefined || value === null || value === 0) return 128;
  return typeof value === 'number' ? value : String(value);
}

function jsonValue(value: unknown): object | string | number | null {
  return value === undefined ? null : (value as object);
}
