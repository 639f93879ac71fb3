import { TsbError } from '../../errors.js';
import { type XmssParams, xmssParamsByOid } from './xmss-params.js';

/**
 * OpenTSB's XMSS private key (docs/stateful-signatures.md, "XMSS"):
 *
 *   OID (4 bytes, big-endian) ‖ SK_SEED (n) ‖ SK_PRF (n) ‖ root (n) ‖ PUB_SEED (n)
 *
 * the layout of the XMSS reference implementation's key without its 4-byte index: the index of the
 * next signature is state, and the HSM keeps it in its database, never in the key bytes.
 */
export interface XmssPrivateKey {
  readonly params: XmssParams;
  readonly skSeed: Buffer;
  readonly skPrf: Buffer;
  readonly root: Buffer;
  readonly pubSeed: Buffer;
}

export function encodeXmssPrivateKey(key: XmssPrivateKey): Uint8Array {
  const oid = Buffer.alloc(4);
  oid.writeUInt32BE(key.params.oid);
  return new Uint8Array(Buffer.concat([oid, key.skSeed, key.skPrf, key.root, key.pubSeed]));
}

export function decodeXmssPrivateKey(bytes: Uint8Array): XmssPrivateKey {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const params = buffer.length >= 4 ? xmssParamsByOid(buffer.readUInt32BE(0)) : undefined;
  if (!params || buffer.length !== 4 + 4 * params.n) {
    throw new TsbError('HSM_INTEGRITY', 'the XMSS private key is malformed');
  }
  const part = (i: number) => Buffer.from(buffer.subarray(4 + i * params.n, 4 + (i + 1) * params.n));
  return { params, skSeed: part(0), skPrf: part(1), root: part(2), pubSeed: part(3) };
}

/** The public key of RFC 8391 §4.1.7: OID ‖ root ‖ PUB_SEED */
export function encodeXmssPublicKey(params: XmssParams, root: Uint8Array, pubSeed: Uint8Array): Uint8Array {
  const oid = Buffer.alloc(4);
  oid.writeUInt32BE(params.oid);
  return new Uint8Array(Buffer.concat([oid, root, pubSeed]));
}

export interface XmssPublicKey {
  readonly params: XmssParams;
  readonly root: Buffer;
  readonly pubSeed: Buffer;
}

/** The public key, or null when it is not one of a known parameter set */
export function decodeXmssPublicKey(bytes: Uint8Array): XmssPublicKey | null {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const params = buffer.length >= 4 ? xmssParamsByOid(buffer.readUInt32BE(0)) : undefined;
  if (!params || buffer.length !== params.publicKeyLength) return null;
  return {
    params,
    root: buffer.subarray(4, 4 + params.n),
    pubSeed: buffer.subarray(4 + params.n, 4 + 2 * params.n),
  };
}

/** The parts of an RFC 8391 §4.1.8 signature: idx_sig (4 bytes) ‖ r ‖ sig_ots ‖ auth */
export interface XmssSignatureParts {
  readonly index: number;
  readonly r: Buffer;
  readonly ots: Buffer;
  readonly auth: Buffer;
}

export function splitXmssSignature(params: XmssParams, signature: Uint8Array): XmssSignatureParts | null {
  if (signature.length !== params.signatureLength) return null;
  const buffer = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
  const { n, len } = params;
  const otsStart = 4 + n;
  const authStart = otsStart + len * n;
  return {
    index: buffer.readUInt32BE(0),
    r: buffer.subarray(4, otsStart),
    ots: buffer.subarray(otsStart, authStart),
    auth: buffer.subarray(authStart),
  };
}
