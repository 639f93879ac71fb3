/**
 * Shared code of the families node:crypto (OpenSSL) implements: RSA, EC, EdDSA and DSA. Keys are
 * parsed by OpenSSL and always re-exported, so stored material is canonical PKCS#8 / SPKI DER.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  ECDH,
  generateKeyPair,
  type KeyObject,
} from 'node:crypto';
import { LIBUV_THREADS } from '../../lib/thread-pool-turns.js';
import { TurnGate } from '../../lib/work-owner.js';
import { algorithmOidOf, type CurveInfo, curveByNodeName } from '../algorithms.js';
import { children, decode, readOctetString } from '../der.js';
import { algorithmIdentifier, decodePkcs8, decodeSpki, encodePkcs8 } from '../spki-pkcs8.js';
import {
  type AsymmetricMechanism,
  describeAlgorithmOid,
  fail,
  type ImportSpec,
  type KeyMaterial,
  parsing,
  peekAlgorithmOid,
  type ReadyKey,
  storedMaterial,
  type Unarmoured,
  wrongType,
} from './key-material.js';

export type NodeAlgorithm = 'RSA' | 'EC' | 'ED' | 'DSA';
type NodePairType = 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'dsa';

const ALGORITHM_OF_TYPE: Record<string, NodeAlgorithm> = {
  rsa: 'RSA',
  ec: 'EC',
  ed25519: 'ED',
  ed448: 'ED',
  dsa: 'DSA',
};
const TYPE_NAMES: Record<string, string> = {
  'rsa-pss': 'RSA-PSS',
  x25519: 'X25519',
  x448: 'X448',
  dh: 'DH',
};

type Callback = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) => void;

/**
 * RSA and DSA generation search for primes on libuv's threads (RSA-8192 took 6–18 s each here, DSA-3072 2.5 s),
 * which every request shares: key password checks (scrypt), the other key generations. All threads but two
 * at most run such searches; further ones wait here, served in turn per partition (work-owner.ts), so that a
 * caller asking for many cannot stall every tenant's password checks and key generations behind them.
 */
export const PRIME_SEARCH_THREADS = Math.max(1, LIBUV_THREADS - 2);
const primeSearches = new TurnGate(PRIME_SEARCH_THREADS);

/** node's async key pair generation (runs on the libuv thread pool), as KeyObjects. */
export function generateNodeKeyPair(
  type: NodePairType,
  options: Record<string, unknown> = {},
): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  const generate = generateKeyPair as unknown as (type: string, options: object, callback: Callback) => void;
  const pair = () =>
    new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) => {
      generate(type, options, (error, publicKey, privateKey) =>
        error ? reject(error) : resolve({ publicKey, privateKey }),
      );
    });
  return type === 'rsa' || type === 'dsa' ? primeSearches.run(pair) : pair();
}

export interface NodeFamily {
  algorithm: NodeAlgorithm;
  /** the key size of a parsed key, or an error if the key is outside what we accept */
  checkSize(key: KeyObject, curve: CurveInfo | null): number;
  generate(
    keySize: number,
    curve: CurveInfo | null,
  ): Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;
  /** refuses an imported private key whose parts do not agree (after the size check) */
  checkImportedPrivate?(key: KeyObject): void;
  /** the slow part of checkSize in a worker thread, remembered for it; never throws (checkSize refuses) */
  checkAhead?(publicKey: KeyObject): Promise<void>;
}

const PRIVATE_DER_TYPES = ['pkcs8', 'pkcs1', 'sec1'] as const;

function parsePrivate(input: Unarmoured): KeyObject | null {
  if (input.label !== null) {
    try {
      return createPrivateKey({ key: toPem(input), format: 'pem' });
    } catch {
      return null;
    }
  }
  for (const type of PRIVATE_DER_TYPES) {
    try {
      return createPrivateKey({ key: input.der, format: 'der', type });
    } catch {
      // next encoding
    }
  }
  return null;
}

function parsePublic(input: Unarmoured): KeyObject | null {
  const types = input.label === 'RSA PUBLIC KEY' ? (['pkcs1'] as const) : (['spki', 'pkcs1'] as const);
  for (const type of types) {
    try {
      return createPublicKey({ key: input.der, format: 'der', type });
    } catch {
      // next encoding
    }
  }
  return null;
}

const toPem = ({ der, label }: Unarmoured): string =>
  `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

/** The curve of an EC or ED KeyObject, or an error if we do not offer it. */
function curveOfKey(algorithm: NodeAlgorithm, key: KeyObject): CurveInfo | null {
  if (algorithm === 'ED') return curveByNodeName('ED', key.asymmetricKeyType ?? '') ?? null;
  if (algorithm !== 'EC') return null;
  const named = key.asymmetricKeyDetails?.namedCurve;
  if (!named) throw fail('INVALID_KEY_TYPE', 'EC keys with explicit curve parameters are not supported');
  const curve = curveByNodeName('EC', named);
  if (!curve) throw fail('INVALID_KEY_TYPE', `the EC curve ${named} is not supported`);
  return curve;
}

function checkType(family: NodeFamily, key: KeyObject, what: string): void {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (ALGORITHM_OF_TYPE[type] !== family.algorithm) {
    throw wrongType(family.algorithm, ALGORITHM_OF_TYPE[type] ?? TYPE_NAMES[type] ?? type, what);
  }
}

function materialOf(
  family: NodeFamily,
  spec: ImportSpec | null,
  privateKey: KeyObject | null,
  publicKey: KeyObject,
): KeyMaterial {
  const curve = curveOfKey(family.algorithm, publicKey);
  if (spec?.curve && curve && spec.curve.oid !== curve.oid) {
    throw fail(
      'INVALID_KEY_TYPE',
      `the key is on curve ${curve.name} (${curve.oid}), not on the requested ${spec.curve.name} (${spec.curve.oid})`,
    );
  }
  const keySize = family.checkSize(publicKey, curve);
  return {
    algorithm: family.algorithm,
    algorithmOid: algorithmOidOf(family.algorithm, curve?.oid ?? null),
    curveOid: curve?.oid ?? null,
    keySize,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    secret: privateKey ? privateKey.export({ type: 'pkcs8', format: 'der' }) : null,
  };
}

const FOREIGN_PUBLIC_KEY =
  'the public key inside the private key structure does not belong to its private key';

/**
 * The public key of an imported private key, checked against its private part. OpenSSL takes the
 * public point an EC private key carries (SEC1 `publicKey`, also inside PKCS#8) as given, without
 * checking it against the scalar: a key whose point is another key's would be stored and attested
 * with that key's public key while it signs with its own scalar. The point must be the scalar's
 * (PARSING_KEY otherwise, as for a `publicKey` field of another pair). Edwards keys: OpenSSL derives
 * the public key from the private key and ignores (3.5) or refuses (3.0) the public key of a
 * OneAsymmetricKey v2; one that is not the key's own is refused as for the other v2 keys
 * (checkEmbeddedPublicKey), and the derivation is checked whatever OpenSSL does with that field.
 */
function ownPublicKey(algorithm: NodeAlgorithm, privateKey: KeyObject, input: Unarmoured): KeyObject {
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (algorithm === 'EC') {
    if (!ecPointIsScalars(privateKey, spki, 'PARSING_KEY')) throw fail('PARSING_KEY', FOREIGN_PUBLIC_KEY);
  } else if (algorithm === 'ED') {
    const info = decodePkcs8(privateKey.export({ type: 'pkcs8', format: 'der' }));
    const derived = createPublicKey(
      createPrivateKey({
        key: encodePkcs8(algorithmIdentifier(info.algorithm.oid), info.privateKey),
        format: 'der',
        type: 'pkcs8',
      }),
    ).export({ type: 'spki', format: 'der' });
    const embedded = embeddedPublicKey(input);
    if (!derived.equals(spki) || (embedded && !embedded.equals(decodeSpki(derived).publicKey))) {
      throw fail('PARSING_KEY', FOREIGN_PUBLIC_KEY);
    }
  }
  return publicKey;
}

/**
 * Is the EC public key `spki` (OpenSSL's, taken from the point the private key embeds) the point its scalar gives?
 * Explicit curve parameters (no named curve) are refused elsewhere and pass here. A scalar that is not one of the
 * curve's is `invalid` (PARSING_KEY on import, HSM_INTEGRITY for stored material).
 */
function ecPointIsScalars(
  privateKey: KeyObject,
  spki: Buffer,
  invalid: 'PARSING_KEY' | 'HSM_INTEGRITY',
): boolean {
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (!curve) return true;
  const sec1 = privateKey.export({ type: 'sec1', format: 'der' });
  const scalar = readOctetString(children(decode(sec1))[1]!);
  const derived = parsing(invalid, `the private key is not a valid ${curve} scalar`, () => {
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(scalar);
    return ecdh.getPublicKey(null, 'uncompressed');
  });
  const point = ECDH.convertKey(decodeSpki(spki).publicKey, curve, undefined, undefined, 'uncompressed');
  return derived.equals(point as Buffer);
}

/** The `[1] publicKey` of a OneAsymmetricKey v2 input, if it is one. */
function embeddedPublicKey(input: Unarmoured): Buffer | null {
  try {
    return decodePkcs8(input.der).publicKey;
  } catch {
    return null;
  }
}

function unparsable(family: NodeFamily, input: Unarmoured, kind: 'private' | 'public') {
  const oid =
    input.label === null || input.label === 'PRIVATE KEY' || input.label === 'PUBLIC KEY'
      ? peekAlgorithmOid(input.der, kind)
      : null;
  if (oid) {
    const actual = describeAlgorithmOid(oid);
    if (!actual.startsWith(family.algorithm)) return wrongType(family.algorithm, actual, `${kind} key`);
  }
  return fail(
    'PARSING_KEY',
    kind === 'private'
      ? `the private key is not a readable ${family.algorithm} key (PKCS#8${family.algorithm === 'RSA' ? ', PKCS#1' : ''}${family.algorithm === 'EC' ? ', SEC1' : ''} DER or PEM expected)`
      : `the public key is not a readable ${family.algorithm} key (SubjectPublicKeyInfo DER or PEM expected)`,
  );
}

/** The public key of an input, if it parses as a key of the family (the errors are the import's to report). */
function publicKeyOfInput(
  family: NodeFamily,
  input: Unarmoured,
  kind: 'private' | 'public',
): KeyObject | null {
  const key = kind === 'private' ? parsePrivate(input) : parsePublic(input);
  if (!key || ALGORITHM_OF_TYPE[key.asymmetricKeyType ?? ''] !== family.algorithm) return null;
  try {
    return kind === 'private' ? createPublicKey(key) : key;
  } catch {
    return null;
  }
}

export function nodeMechanism(family: NodeFamily): AsymmetricMechanism {
  const { checkAhead } = family;
  return {
    async generate(_algorithm, keySize, curve) {
      const { publicKey, privateKey } = await family.generate(keySize, curve);
      await checkAhead?.(publicKey);
      return materialOf(family, null, privateKey, publicKey);
    },

    checkAhead:
      checkAhead &&
      (async (input, kind) => {
        const publicKey = publicKeyOfInput(family, input, kind);
        if (publicKey) await checkAhead(publicKey);
      }),

    fromPrivate(input, spec) {
      const privateKey = parsePrivate(input);
      if (!privateKey) throw unparsable(family, input, 'private');
      checkType(family, privateKey, 'private key');
      const material = materialOf(
        family,
        spec,
        privateKey,
        ownPublicKey(family.algorithm, privateKey, input),
      );
      family.checkImportedPrivate?.(privateKey);
      return material;
    },

    fromPublic(input, spec) {
      const publicKey = parsePublic(input);
      if (!publicKey) throw unparsable(family, input, 'public');
      checkType(family, publicKey, 'public key');
      return materialOf(family, spec, null, publicKey);
    },

    publicKeyOf(material) {
      const privateKey = loadNodeKey(family.algorithm, material);
      const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      // stored before imports checked it (b14313b): the point an EC key embeds is OpenSSL's public key, unchecked
      if (family.algorithm === 'EC' && !ecPointIsScalars(privateKey, spki, 'HSM_INTEGRITY')) {
        throw fail('HSM_INTEGRITY', 'the stored EC private key embeds a public point that is not its own');
      }
      return spki;
    },

    load(material): ReadyKey {
      const key = loadNodeKey(family.algorithm, material);
      return {
        kind: 'node',
        algorithm: family.algorithm,
        curveOid: material.curveOid,
        key,
        publicKey: createPublicKey(key),
      };
    },
  };
}

function loadNodeKey(algorithm: NodeAlgorithm, material: KeyMaterial): KeyObject {
  const secret = material.secret;
  if (!secret) throw fail('OPERATION_FORBIDDEN_FOR_KEY', 'the key holds only a public key');
  const key = storedMaterial(algorithm, () =>
    createPrivateKey({ key: secret, format: 'der', type: 'pkcs8' }),
  );
  if (ALGORITHM_OF_TYPE[key.asymmetricKeyType ?? ''] !== algorithm) {
    throw fail('HSM_INTEGRITY', `the stored key material is not a ${algorithm} key`);
  }
  return key;
}
