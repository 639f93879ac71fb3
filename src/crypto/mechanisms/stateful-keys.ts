/**
 * Keys of the stateful hash-based signature schemes (HSS/LMS, XMSS; crypto/stateful/):
 * - SPKI: AlgorithmIdentifier { id-alg-hss-lms-hashsig (RFC 9708) | id-alg-xmss-hashsig (RFC 9802) }
 *   without parameters, BIT STRING = the scheme's public key (HSS: u32 L ‖ LMS public key).
 * - PKCS#8 (OpenTSB-internal, sealed, never exported): privateKey OCTET STRING = u32 length of the
 *   public key ‖ public key ‖ the scheme's private key (seeds, never an index).
 * Private keys are never imported: a copy made elsewhere could sign at indices this HSM also hands out.
 * Public keys may be imported, for verification.
 */
import { type KeyAlgorithm, STATEFUL_OIDS, type StatefulAlgorithm, statefulFamily } from '../algorithms.js';
import type { StatefulScheme } from '../stateful/stateful-scheme.js';
import { statefulScheme } from '../stateful/stateful-schemes.js';
import { type AsymmetricMechanism, fail, type KeyMaterial, storedMaterial } from './key-material.js';
import { noblePkcs8, nobleSpki, readPublicKey, readStoredPrivateKey } from './noble-keys.js';

const asStateful = (algorithm: KeyAlgorithm) => algorithm as StatefulAlgorithm;
export const statefulOidOf = (algorithm: StatefulAlgorithm) => STATEFUL_OIDS[statefulFamily(algorithm)];

/** The scheme of a key type; a catalogued name without an implementation → 613. */
export function schemeOf(algorithm: KeyAlgorithm): StatefulScheme {
  const scheme = statefulScheme(algorithm);
  if (!scheme) throw fail('INVALID_KEY_TYPE', `${algorithm} keys are not offered by this HSM`);
  return scheme;
}

function material(
  algorithm: StatefulAlgorithm,
  privateKey: Uint8Array | null,
  publicKey: Uint8Array,
): KeyMaterial {
  const oid = statefulOidOf(algorithm);
  let secret: Buffer | null = null;
  if (privateKey) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(publicKey.length, 0);
    secret = noblePkcs8(oid, Buffer.concat([length, publicKey, privateKey]));
  }
  return {
    algorithm,
    algorithmOid: oid,
    curveOid: null,
    keySize: 256,
    publicKey: nobleSpki(oid, publicKey),
    secret,
  };
}

/** The scheme's private and public key from stored material. */
export function storedStatefulKey(stored: KeyMaterial): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const algorithm = asStateful(stored.algorithm);
  const content = readStoredPrivateKey(algorithm, statefulOidOf(algorithm), stored);
  return storedMaterial(algorithm, () => {
    const length = content.readUInt32BE(0);
    if (content.length < 4 + length) throw new Error('short');
    return {
      publicKey: new Uint8Array(content.subarray(4, 4 + length)),
      privateKey: new Uint8Array(content.subarray(4 + length)),
    };
  });
}

export const statefulKeys: AsymmetricMechanism = {
  async generate(alg) {
    const algorithm = asStateful(alg);
    const { privateKey, publicKey } = await schemeOf(algorithm).generate();
    return material(algorithm, privateKey, publicKey);
  },

  fromPrivate(_input, spec) {
    throw fail(
      'UNSUPPORTED_OPERATION',
      `${spec.algorithm} private keys are not imported: their one-time signature state cannot be taken over safely`,
    );
  },

  fromPublic(input, spec) {
    const algorithm = asStateful(spec.algorithm);
    const scheme = schemeOf(algorithm);
    const publicKey = readPublicKey(algorithm, statefulOidOf(algorithm), input, publicKeyLength(scheme));
    return material(algorithm, null, publicKey);
  },

  publicKeyOf(stored) {
    return nobleSpki(statefulOidOf(asStateful(stored.algorithm)), storedStatefulKey(stored).publicKey);
  },

  load(stored) {
    const { privateKey, publicKey } = storedStatefulKey(stored);
    return { kind: 'stateful', algorithm: asStateful(stored.algorithm), privateKey, publicKey };
  },
};

/** HSS: u32 L ‖ 56-byte LMS key; XMSS (RFC 8391): u32 OID ‖ root ‖ SEED = 4 + 2n. */
function publicKeyLength(scheme: StatefulScheme): number {
  return scheme.family === 'HSS-LMS' ? 60 : 68;
}
