/**
 * The approver's private key on disk, always encrypted under a passphrase (docs/approver-tools.md):
 * - EC P-256, Ed25519, RSA: PKCS#8 EncryptedPrivateKeyInfo (PEM "ENCRYPTED PRIVATE KEY") with PBES2,
 *   scrypt (RFC 7914 §7) and AES-256-CBC, the structure of `openssl pkcs8 -topk8 -scrypt`, so
 *   `openssl pkey -in FILE` opens it too;
 * - ML-DSA (no PKCS#8 form in OpenSSL 3.0 or node:crypto): a JSON envelope, the 32-byte key seed
 *   encrypted with AES-256-GCM under a scrypt key, the clear header (type, public key, scrypt
 *   parameters) bound as AAD.
 */
import {
  type BinaryLike,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  type ScryptOptions,
  scryptSync,
  sign,
} from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { CliError } from './command.js';

export const APPROVER_KEY_TYPES = ['p256', 'ed25519', 'rsa', 'ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'] as const;
export type ApproverKeyType = (typeof APPROVER_KEY_TYPES)[number];

export const MIN_PASSPHRASE_LENGTH = 8;

/** scrypt cost: OpenSSL's `pkcs8 -scrypt` default, within OpenSSL's 32 MiB scrypt memory limit. */
const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;
const SCRYPT_MAX_N = 1 << 20;
const scryptOptions = (params: { N: number; r: number; p: number }): ScryptOptions => ({
  ...params,
  maxmem: 256 * params.N * params.r + 1024 * 1024,
});

const ML_DSA = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;
type MlDsaName = keyof typeof ML_DSA;
const ML_DSA_OIDS: Record<MlDsaName, string> = {
  'ML-DSA-44': '2.16.840.1.101.3.4.3.17',
  'ML-DSA-65': '2.16.840.1.101.3.4.3.18',
  'ML-DSA-87': '2.16.840.1.101.3.4.3.19',
};

const ENVELOPE_FORMAT = 'opentsb-approver-key';

/** A loaded approver key: its public key as the policy names it, and how it signs. */
export interface ApproverSigner {
  /** 'P-256', 'Ed25519', 'RSA-3072', 'ML-DSA-65', … */
  algorithm: string;
  /** base64 SubjectPublicKeyInfo DER (the policy's `public_key` value) */
  publicKey: string;
  /** the `approvalDigestAlgorithm` / `timestampDigestAlgorithm` sent with each signature */
  digestAlgorithm: string;
  sign(data: Uint8Array): Buffer;
}

/** Makes a key of `type`; answers the file text (encrypted) and the base64 SPKI public key. */
export function generateApproverKeyFile(
  type: ApproverKeyType,
  passphrase: string,
): { fileText: string; publicKey: string } {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new CliError(`the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  if (type.startsWith('ml-dsa-')) {
    const name = type.toUpperCase() as MlDsaName;
    const seed = randomBytes(32);
    const spki = mlDsaSpki(name, ML_DSA[name].keygen(seed).publicKey);
    return { fileText: sealEnvelope(name, spki, seed, passphrase), publicKey: spki.toString('base64') };
  }
  const { privateKey, publicKey } =
    type === 'p256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 3072 });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    fileText: encryptPkcs8(pkcs8, passphrase),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** Opens a key file made by {@link generateApproverKeyFile}; a wrong passphrase is a clean CliError. */
export function loadApproverKeyFile(text: string, passphrase: string, file: string): ApproverSigner {
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) return classicSigner(text, passphrase, file);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new CliError(`${file} holds an unencrypted private key; approver keys must be encrypted`);
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not an approver key file (encrypted PKCS#8 PEM or ML-DSA JSON envelope)`);
  }
  return mlDsaSigner(openEnvelope(envelope, passphrase, file));
}

// ---------------------------------------------------------------------------------------------
// EC, Ed25519 and RSA: PKCS#8 encrypted with PBES2 (scrypt, AES-256-CBC)

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_SCRYPT = '1.3.6.1.4.1.11591.4.11';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';

function encryptPkcs8(pkcs8: Buffer, passphrase: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = scryptSync(passphrase, salt, 32, scryptOptions(SCRYPT));
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  const scryptParams = der(0x30, octets(salt), integer(SCRYPT.N), integer(SCRYPT.r), integer(SCRYPT.p));
  const pbes2Params = der(
    0x30,
    der(0x30, oid(OID_SCRYPT), scryptParams),
    der(0x30, oid(OID_AES256_CBC), octets(iv)),
  );
  const info = der(0x30, der(0x30, oid(OID_PBES2), pbes2Params), octets(encrypted));
  const lines = info.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${lines.join('\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}

function classicSigner(pem: string, passphrase: string, file: string): ApproverSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    // OpenSSL cannot tell a wrong passphrase from a damaged file: both fail the padding check
    throw new CliError(`cannot open ${file}: wrong passphrase, or the file is damaged`);
  }
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const details = privateKey.asymmetricKeyDetails ?? {};
  switch (privateKey.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve !== 'prime256v1')
        throw new CliError(`${file}: only EC P-256 keys are supported`);
      return classic('P-256', spki, 'SHA-256', (data) => sign('sha256', data, privateKey));
    case 'ed25519':
      return classic('Ed25519', spki, 'EdDSA', (data) => sign(null, data, privateKey));
    case 'rsa':
      return classic(`RSA-${details.modulusLength}`, spki, 'SHA-256', (data) =>
        sign('sha256', data, privateKey),
      );
    default:
      throw new CliError(`${file}: ${privateKey.asymmetricKeyType} keys cannot approve`);
  }
}

function classic(
  algorithm: string,
  spki: Buffer,
  digestAlgorithm: string,
  signWith: (data: Uint8Array) => Buffer,
): ApproverSigner {
  return { algorithm, publicKey: spki.toString('base64'), digestAlgorithm, sign: signWith };
}

// ---------------------------------------------------------------------------------------------
// ML-DSA: JSON envelope

interface EnvelopeHeader {
  format: typeof ENVELOPE_FORMAT;
  version: 1;
  algorithm: MlDsaName;
  /** base64 SPKI DER */
  publicKey: string;
  kdf: { name: 'scrypt'; salt: string; N: number; r: number; p: number };
  cipher: { name: 'aes-256-gcm'; iv: string };
}

interface Envelope extends EnvelopeHeader {
  /** base64 AES-256-GCM ciphertext of the 32-byte seed followed by the 16-byte tag */
  ciphertext: string;
}

const headerAad = (header: EnvelopeHeader): Buffer =>
  Buffer.from(
    JSON.stringify([
      header.format,
      header.version,
      header.algorithm,
      header.publicKey,
      header.kdf,
      header.cipher,
    ]),
  );

function sealEnvelope(algorithm: MlDsaName, spki: Buffer, seed: Buffer, passphrase: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header: EnvelopeHeader = {
    format: ENVELOPE_FORMAT,
    version: 1,
    algorithm,
    publicKey: spki.toString('base64'),
    kdf: { name: 'scrypt', salt: salt.toString('base64'), ...SCRYPT },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64') },
  };
  const cipher = createCipheriv('aes-256-gcm', scryptSync(passphrase, salt, 32, scryptOptions(SCRYPT)), iv);
  cipher.setAAD(headerAad(header));
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final(), cipher.getAuthTag()]);
  const envelope: Envelope = { ...header, ciphertext: ciphertext.toString('base64') };
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

function openEnvelope(
  value: unknown,
  passphrase: string,
  file: string,
): { algorithm: MlDsaName; spki: Buffer; seed: Buffer } {
  const envelope = value as Partial<Envelope> | null;
  const kdf = envelope?.kdf;
  const wellFormed =
    envelope?.format === ENVELOPE_FORMAT &&
    envelope.version === 1 &&
    typeof envelope.algorithm === 'string' &&
    Object.hasOwn(ML_DSA, envelope.algorithm) &&
    typeof envelope.publicKey === 'string' &&
    kdf?.name === 'scrypt' &&
    typeof kdf.salt === 'string' &&
    [kdf.N, kdf.r, kdf.p].every((n) => Number.isSafeInteger(n) && n > 0) &&
    kdf.N <= SCRYPT_MAX_N &&
    kdf.r <= 32 &&
    kdf.p <= 16 &&
    envelope.cipher?.name === 'aes-256-gcm' &&
    typeof envelope.cipher.iv === 'string' &&
    typeof envelope.ciphertext === 'string';
  if (!wellFormed) throw new CliError(`${file} is not an OpenTSB approver key envelope`);
  const full = envelope as Envelope;
  const ciphertext = Buffer.from(full.ciphertext, 'base64');
  const key = scryptSync(passphrase, Buffer.from(kdf.salt, 'base64') as BinaryLike, 32, scryptOptions(kdf));
  let seed: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(full.cipher.iv, 'base64'));
    decipher.setAAD(headerAad(full));
    decipher.setAuthTag(ciphertext.subarray(-16));
    seed = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  } catch {
    throw new CliError(`cannot open ${file}: wrong passphrase, or the file is damaged`);
  }
  const spki = mlDsaSpki(full.algorithm, ML_DSA[full.algorithm].keygen(seed).publicKey);
  if (spki.toString('base64') !== full.publicKey) {
    throw new CliError(`${file}: the public key does not belong to the encrypted key`);
  }
  return { algorithm: full.algorithm, spki, seed };
}

function mlDsaSigner({ algorithm, spki, seed }: { algorithm: MlDsaName; spki: Buffer; seed: Buffer }) {
  const { secretKey } = ML_DSA[algorithm].keygen(seed);
  return {
    algorithm,
    publicKey: spki.toString('base64'),
    digestAlgorithm: 'ML-DSA',
    sign: (data: Uint8Array) => Buffer.from(ML_DSA[algorithm].sign(data, secretKey)),
  } satisfies ApproverSigner;
}

/** SubjectPublicKeyInfo { AlgorithmIdentifier { id-ml-dsa-NN } (no parameters), BIT STRING key }. */
function mlDsaSpki(algorithm: MlDsaName, publicKey: Uint8Array): Buffer {
  return der(0x30, der(0x30, oid(ML_DSA_OIDS[algorithm])), der(0x03, Buffer.of(0), publicKey));
}

// ---------------------------------------------------------------------------------------------
// A minimal DER writer for the structures above

function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length =
    n < 0x80
      ? Buffer.of(n)
      : n < 0x100
        ? Buffer.of(0x81, n)
        : n < 0x10000
          ? Buffer.of(0x82, n >> 8, n & 0xff)
          : Buffer.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return Buffer.concat([Buffer.of(tag), length, body]);
}

const octets = (bytes: Uint8Array): Buffer => der(0x04, bytes);

function integer(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return der(0x02, Buffer.from(bytes));
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [first! * 40 + second!];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      base128.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}
