/**
 * Signing with a stateful hash-based key (HSS/LMS, XMSS) at an index the key store reserved for this
 * signature. The request is checked like any other (signatureAlgorithm `LMS` or the XMSS key type name;
 * signatureType DER and RAW both give the scheme's one encoding); the message is signed as given.
 */
import type { ReadyKey } from '../mechanisms/key-material.js';
import { schemeOf } from '../mechanisms/stateful-keys.js';
import { prepare, type SignRequest } from './signature-request.js';

export type StatefulReadyKey = ReadyKey & { kind: 'stateful' };

export const isStatefulKey = (key: ReadyKey): key is StatefulReadyKey => key.kind === 'stateful';

export async function signStateful(
  key: StatefulReadyKey,
  index: number,
  request: SignRequest,
): Promise<Buffer> {
  prepare(key.algorithm, null, request);
  return Buffer.from(await schemeOf(key.algorithm).sign(key.privateKey, index, request.payload));
}
