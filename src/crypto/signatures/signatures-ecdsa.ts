/**
 * ECDSA: node:crypto for the hashes OpenSSL has (and DOUBLE_SHA256), noble on the calling thread for a
 * digest node cannot take (NONE, KECCAK*, RFC 6979 deterministic, ETH recoverable signatures).
 * Signatures on secp256k1 are always low-s normalised (BIP-62 / EIP-2), whatever the encoding.
 * BIP-340 Schnorr signatures of secp256k1 keys (NONE_WITH_EC_SCHNORR_BIP0340) with noble, on the calling thread.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { ecdsa } from '@noble/curves/abstract/weierstrass.js';
import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from '@noble/curves/misc.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { keccak_224, keccak_256, keccak_384, keccak_512 } from '@noble/hashes/sha3.js';
import { TsbError } from '../../errors.js';
import { curveByOid } from '../algorithms.js';
import { children, decode, readOctetString } from '../der.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import { decodePkcs8, decodeSpki } from '../spki-pkcs8.js';
import { nodeHashName, nodeSignAsync, nodeSignCheap, nodeVerifyAsync } from './node-signing.js';
import type { SignatureAlgorithm } from './signature-algorithms.js';
import {
  derToRaw,
  encodeRs,
  type RS,
  readDerSignature,
  readRawSignature,
  readRs,
  toBigInt,
  toBytes,
  lowS as toLowS,
  writeDerSignature,
  writeRawSignature,
} from './signature-encoding.js';
import type { Prepared } from './signature-request.js';

// ---------------------------------------------------------------------------------------------
// Digests

const KECCAK = { keccak224: keccak_224, keccak256: keccak_256, keccak384: keccak_384, keccak512: keccak_512 };

/** The digest ECDSA signs for the noble path (NONE: the payload itself). */
function ecdsaDigest(algorithm: SignatureAlgorithm, payload: Buffer): Uint8Array {
  if (algorithm.hash === 'none') return payload;
  if (algorithm.hash in KECCAK) return KECCAK[algorithm.hash as keyof typeof KECCAK](payload);
  return createHash(nodeHashName(algorithm.hash)).update(payload).digest();
}

// ---------------------------------------------------------------------------------------------
// EC keys: curve parameters, private scalar and public point for noble

type NobleEcdsa = typeof p256;

interface EcCurve {
  name: string;
  noble: NobleEcdsa;
  order: bigint;
  width: number;
  /** RFC 6979 with HMAC-SHA-256 as its hash (SHA256_WITH_ECDSA_DETERMINISTIC), whatever the curve */
  deterministic: () => NobleEcdsa;
}

const NOBLE_CURVES: Record<string, NobleEcdsa> = {
  secp256r1: p256,
  secp384r1: p384,
  secp521r1: p521,
  secp256k1: secp256k1 as unknown as NobleEcdsa,
  brainpoolP256r1,
  brainpoolP384r1,
  brainpoolP512r1,
};

const curves = new Map<string, EcCurve>();

function ecCurve(curveOid: string | null): EcCurve {
  const info = curveOid ? curveByOid(curveOid) : undefined;
  const cached = curveOid ? curves.get(curveOid) : undefined;
  if (cached) return cached;
  const noble = info ? NOBLE_CURVES[info.name] : undefined;
  if (!info || !noble) throw new TsbError('HSM_INTEGRITY', `the EC key has an unknown curve ${curveOid}`);
  let sha256Variant: NobleEcdsa | null = null;
  const curve: EcCurve = {
    name: info.name,
    noble,
    order: noble.Point.Fn.ORDER,
    width: noble.Point.Fn.BYTES,
    deterministic: () => {
      sha256Variant ??= ecdsa(noble.Point, nobleSha256) as NobleEcdsa;
      return sha256Variant;
    },
  };
  curves.set(info.oid, curve);
  return curve;
}

/** curves whose signature takes tens of microseconds (see nodeSignCheap) */
const CHEAP_CURVES = new Set(['secp256r1', 'secp256k1']);

const ecScalars = new WeakMap<KeyObject, Uint8Array>();
const ecPoints = new WeakMap<KeyObject, Uint8Array>();

/** The uncompressed public point of an EC public KeyObject. */
function ecPoint(publicKey: KeyObject): Uint8Array {
  let point = ecPoints.get(publicKey);
  if (!point) {
    point = decodeSpki(publicKey.export({ type: 'spki', format: 'der' })).publicKey;
    ecPoints.set(publicKey, point);
  }
  return point;
}

/** The private scalar of an EC KeyObject (SEC1 ECPrivateKey in PKCS#8), checked against its public key once. */
function ecScalar(key: ReadyKey & { kind: 'node' }, curve: EcCurve): Uint8Array {
  let scalar = ecScalars.get(key.key);
  if (scalar) return scalar;
  try {
    const info = decodePkcs8(key.key.export({ type: 'pkcs8', format: 'der' }));
    const ecPrivateKey = children(decode(info.privateKey));
    scalar = toBytes(toBigInt(readOctetString(ecPrivateKey[1]!)), curve.width);
  } catch {
    throw new TsbError('HSM_INTEGRITY', 'the EC private key could not be read');
  }
  const derived = curve.noble.getPublicKey(scalar, false);
  if (!Buffer.from(derived).equals(Buffer.from(ecPoint(key.publicKey)))) {
    throw new TsbError('HSM_INTEGRITY', 'the EC private key does not match its public key');
  }
  ecScalars.set(key.key, scalar);
  return scalar;
}

/** ECDSA signatures node can make: a hash OpenSSL has (DOUBLE_SHA256 = SHA-256 over SHA-256(payload)). */
const nodeEcdsa = (algorithm: SignatureAlgorithm): boolean =>
  !algorithm.prehashed && !algorithm.deterministic && !(algorithm.hash in KECCAK);

// ---------------------------------------------------------------------------------------------
// Sign and verify

export async function signEcdsa(
  key: ReadyKey & { kind: 'node' },
  prepared: Prepared,
  payload: Buffer,
): Promise<Buffer> {
  const { algorithm, type } = prepared;
  const curve = ecCurve(key.curveOid);
  const k1 = curve.name === 'secp256k1';
  let rs: RS;
  if (nodeEcdsa(algorithm)) {
    const data = algorithm.hash === 'double-sha256' ? createHash('sha256').update(payload).digest() : payload;
    const hash = algorithm.hash === 'double-sha256' ? 'sha256' : nodeHashName(algorithm.hash);
    // a bare KeyObject (DER out): an options object with dsaEncoding costs ~15 µs more per call on Node 24
    const der = await (CHEAP_CURVES.has(curve.name) ? nodeSignCheap : nodeSignAsync)(hash, data, key.key);
    if (!k1) return type === 'RAW' ? derToRaw(der, curve.width) : der;
    rs = readDerSignature(der)!;
  } else {
    const digest = ecdsaDigest(algorithm, payload);
    const scalar = ecScalar(key, curve);
    const impl = algorithm.deterministic ? curve.deterministic() : curve.noble;
    const options = {
      prehash: false,
      lowS: k1,
      extraEntropy: !algorithm.deterministic,
    } as const;
    if (type === 'ETH') {
      const recovered = secp256k1.sign(digest, scalar, { ...options, lowS: true, format: 'recovered' });
      return Buffer.concat([recovered.subarray(1), Buffer.of(27 + recovered[0]!)]);
    }
    const compact = impl.sign(digest, scalar, { ...options, format: 'compact' });
    rs = readRawSignature(compact, curve.width)!;
  }
  if (k1) rs = toLowS(rs, curve.order);
  return encodeRs(rs, type, curve);
}

export async function verifyEcdsa(
  key: KeyObject,
  curveOid: string | null,
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const { algorithm, type } = prepared;
  const curve = ecCurve(curveOid);
  if (type === 'ETH') {
    if (signature.length !== 65) return false;
    const v = signature[64]!;
    const recovery = v >= 27 ? v - 27 : v;
    if (recovery !== 0 && recovery !== 1) return false;
    try {
      const digest = ecdsaDigest(algorithm, payload);
      const recovered = secp256k1.recoverPublicKey(
        Buffer.concat([Buffer.of(recovery), signature.subarray(0, 64)]),
        digest,
        { prehash: false },
      );
      return secp256k1.Point.fromBytes(recovered).equals(secp256k1.Point.fromBytes(ecPoint(key)));
    } catch {
      return false;
    }
  }
  const rs = readRs(signature, type, curve.width, curve.order);
  if (!rs) return false;
  if (nodeEcdsa(algorithm) || algorithm.deterministic) {
    const data = algorithm.hash === 'double-sha256' ? createHash('sha256').update(payload).digest() : payload;
    const hash = algorithm.hash === 'double-sha256' ? 'sha256' : nodeHashName(algorithm.hash);
    // readRs accepted only minimal DER, so the DER given is the one writeDerSignature would make
    const der = type === 'RAW' ? writeDerSignature(rs) : signature;
    return nodeVerifyAsync(hash, data, key, der);
  }
  const raw = writeRawSignature(rs, curve.width);
  try {
    return curve.noble.verify(raw, ecdsaDigest(algorithm, payload), ecPoint(key), {
      prehash: false,
      lowS: false,
    });
  } catch {
    return false;
  }
}

/** BIP-340 over the 32-byte message as given, with fresh auxiliary randomness; the 64-byte R.x ‖ s. */
export function signSchnorr(key: ReadyKey & { kind: 'node' }, payload: Buffer): Buffer {
  return Buffer.from(schnorr.sign(payload, ecScalar(key, ecCurve(key.curveOid))));
}

/** BIP-340 verification against the key's x-only public key (its point's x coordinate). */
export function verifySchnorr(key: KeyObject, payload: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return schnorr.verify(signature, payload, ecPoint(key).subarray(1, 33));
  } catch {
    return false;
  }
}
