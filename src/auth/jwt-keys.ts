/**
 * The key pair of the service's bearer tokens: JWT_PUBLIC_KEY_FILE (PEM SubjectPublicKeyInfo or
 * certificate) verifies, JWT_PRIVATE_KEY_FILE signs. With neither, a development ES256 key pair in
 * `<dataDir>/jwt-private.pem` and `<dataDir>/jwt-public.pem` is used, created on first use.
 * Only asymmetric algorithms that fit the key are ever accepted (never `none` or HS*).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWSAlgorithm } from 'jose';
import type { Config } from '../config.js';

export const DEVELOPMENT_JWT_PRIVATE_KEY_FILE = 'jwt-private.pem';
export const DEVELOPMENT_JWT_PUBLIC_KEY_FILE = 'jwt-public.pem';

export interface JwtAlgorithms {
  /** Algorithms a token signed with this key pair may declare. */
  verify: JWSAlgorithm[];
  /** Algorithm `issueToken` signs with. */
  sign: JWSAlgorithm;
}

/** The JWS algorithms that fit an asymmetric key; throws for symmetric or unsupported keys. */
export function algorithmsForKey(key: KeyObject): JwtAlgorithms {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { verify: ['ES256'], sign: 'ES256' };
      if (curve === 'secp384r1') return { verify: ['ES384'], sign: 'ES384' };
      if (curve === 'secp521r1') return { verify: ['ES512'], sign: 'ES512' };
      throw new Error(
        `JWT keys on curve ${curve ?? 'unknown'} are not supported (use P-256, P-384 or P-521)`,
      );
    }
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) throw new Error(`RSA JWT keys must have at least 2048 bits (this one has ${bits})`);
      return { verify: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], sign: 'RS256' };
    }
    case 'rsa-pss':
      return { verify: ['PS256', 'PS384', 'PS512'], sign: 'PS256' };
    case 'ed25519':
      return { verify: ['EdDSA', 'Ed25519'], sign: 'EdDSA' };
    default:
      throw new Error(
        `JWT keys of type ${key.asymmetricKeyType ?? 'secret'} are not supported (use EC P-256/P-384/P-521, RSA or Ed25519)`,
      );
  }
}

export interface JwtKeys {
  publicKey: KeyObject;
  /** null when only a verification key is configured (tokens then come from an external issuer). */
  privateKey: KeyObject | null;
  algorithms: JwtAlgorithms;
  /** true for the development key pair kept in the data folder. */
  development: boolean;
  publicKeyFile: string | null;
  privateKeyFile: string | null;
}

/** Reads a PEM public key (SPKI, PKCS#1) or the public key of a PEM/DER certificate. */
export function readPublicKey(file: string): KeyObject {
  const data = readFileSync(file);
  const text = data.toString('latin1');
  try {
    if (text.includes('-----BEGIN CERTIFICATE-----') || !text.includes('-----BEGIN')) {
      try {
        return new X509Certificate(data).publicKey;
      } catch (error) {
        if (text.includes('-----BEGIN CERTIFICATE-----')) throw error;
      }
    }
    const key = createPublicKey(data);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch (error) {
    throw new Error(`${file} does not hold a PEM public key or certificate: ${(error as Error).message}`);
  }
}

function readPrivateKey(file: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new Error(`${file} does not hold a PEM private key: ${(error as Error).message}`);
  }
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

/**
 * The development key pair in `dataDir`, created on first use (private key mode 0600). Creation is
 * atomic (write to a temporary file, then link), so concurrent first uses agree on one key.
 */
export function ensureDevelopmentJwtKeys(dataDir: string): {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privateKeyFile: string;
  publicKeyFile: string;
  created: boolean;
} {
  const privateKeyFile = path.join(dataDir, DEVELOPMENT_JWT_PRIVATE_KEY_FILE);
  const publicKeyFile = path.join(dataDir, DEVELOPMENT_JWT_PUBLIC_KEY_FILE);
  let created = false;
  if (!existsSync(privateKeyFile)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const temporary = `${privateKeyFile}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, pem, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temporary, privateKeyFile);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  const privateKey = readPrivateKey(privateKeyFile);
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  if (created || !existsSync(publicKeyFile) || readFileSync(publicKeyFile, 'utf8') !== publicPem) {
    writeFileSync(publicKeyFile, publicPem, { mode: 0o644 });
  }
  return { privateKey, publicKey, privateKeyFile, publicKeyFile, created };
}

/** The JWT keys the configuration names, or the development pair in the data folder. */
export function loadJwtKeys(config: Pick<Config, 'jwt' | 'dataDir'>): JwtKeys {
  const { publicKeyFile, privateKeyFile } = config.jwt;
  if (publicKeyFile === null && privateKeyFile === null) {
    const dev = ensureDevelopmentJwtKeys(config.dataDir);
    return {
      publicKey: dev.publicKey,
      privateKey: dev.privateKey,
      algorithms: algorithmsForKey(dev.publicKey),
      development: true,
      publicKeyFile: dev.publicKeyFile,
      privateKeyFile: dev.privateKeyFile,
    };
  }
  const privateKey = privateKeyFile === null ? null : readPrivateKey(privateKeyFile);
  const publicKey = publicKeyFile === null ? createPublicKey(privateKey!) : readPublicKey(publicKeyFile);
  if (privateKey && !spki(createPublicKey(privateKey)).equals(spki(publicKey))) {
    throw new Error(
      `JWT_PRIVATE_KEY_FILE (${privateKeyFile}) is not the private half of JWT_PUBLIC_KEY_FILE (${publicKeyFile})`,
    );
  }
  return {
    publicKey,
    privateKey,
    algorithms: algorithmsForKey(publicKey),
    development: false,
    publicKeyFile,
    privateKeyFile,
  };
}
