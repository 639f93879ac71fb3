import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openssl, withScratch } from './openssl.js';

/** How the openssl CLI checks a signature. */
export type OpensslCheck =
  | { kind: 'digest'; digest: string; pss?: { saltLength: number } }
  /** one-shot signatures (Ed25519): `pkeyutl -verify -rawin` */
  | { kind: 'raw' };

/**
 * Verifies a signature with the openssl CLI (an implementation independent of the service):
 * `openssl dgst -<digest> -verify` (optionally RSA-PSS with the salt length) or, for EdDSA,
 * `openssl pkeyutl -verify -rawin`. The key is a DER SubjectPublicKeyInfo.
 */
export async function opensslVerify(
  spki: Buffer,
  data: Buffer,
  signature: Buffer,
  check: OpensslCheck,
): Promise<boolean> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.der'), spki);
    await openssl(['pkey', '-pubin', '-inform', 'DER', '-in', 'key.der', '-out', 'key.pem'], dir);
    await writeFile(path.join(dir, 'data'), data);
    await writeFile(path.join(dir, 'sig'), signature);
    const args =
      check.kind === 'raw'
        ? ['pkeyutl', '-verify', '-pubin', '-inkey', 'key.pem', '-rawin', '-in', 'data', '-sigfile', 'sig']
        : [
            'dgst',
            `-${check.digest}`,
            ...(check.pss
              ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${check.pss.saltLength}`]
              : []),
            '-verify',
            'key.pem',
            '-signature',
            'sig',
            'data',
          ];
    try {
      const out = await openssl(args, dir);
      return /Verified OK|Signature Verified Successfully/.test(out);
    } catch {
      return false;
    }
  });
}

/** The public key (DER SPKI) of a key pair made by the openssl CLI and a signature made with it. */
export interface OpensslSignature {
  spki: Buffer;
  signature: Buffer;
}

/**
 * Generates a key pair with `openssl genpkey` and signs data with it by the CLI; answers the public
 * key (DER SPKI) and the signature. `genpkey` takes e.g. ['-algorithm', 'EC', '-pkeyopt',
 * 'ec_paramgen_curve:P-256']; `sign` the signing arguments (digest / sigopts, or 'raw' for EdDSA).
 */
export async function opensslSign(
  genpkey: string[],
  data: Buffer,
  sign: { digest: string; pss?: { saltLength: number } } | 'raw',
): Promise<OpensslSignature> {
  return withScratch(async (dir) => {
    await openssl(['genpkey', ...genpkey, '-out', 'key.pem'], dir);
    await openssl(['pkey', '-in', 'key.pem', '-pubout', '-outform', 'DER', '-out', 'pub.der'], dir);
    await writeFile(path.join(dir, 'data'), data);
    if (sign === 'raw') {
      await openssl(['pkeyutl', '-sign', '-inkey', 'key.pem', '-rawin', '-in', 'data', '-out', 'sig'], dir);
    } else {
      await openssl(
        [
          'dgst',
          `-${sign.digest}`,
          ...(sign.pss
            ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${sign.pss.saltLength}`]
            : []),
          '-sign',
          'key.pem',
          '-out',
          'sig',
          'data',
        ],
        dir,
      );
    }
    return {
      spki: await readFile(path.join(dir, 'pub.der')),
      signature: await readFile(path.join(dir, 'sig')),
    };
  });
}

/** An ECDSA r ‖ s (RAW) signature as DER, for tools that take only DER. */
export function rawToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const integer = (bytes: Buffer): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let body = bytes.subarray(start);
    if ((body[0]! & 0x80) !== 0) body = Buffer.concat([Buffer.of(0), body]);
    return Buffer.concat([Buffer.of(0x02, body.length), body]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  const length = content.length < 0x80 ? Buffer.of(content.length) : Buffer.of(0x81, content.length);
  return Buffer.concat([Buffer.of(0x30), length, content]);
}

/** The raw public key bytes of an SPKI (the BIT STRING content without its unused-bits byte). */
export function rawPublicKeyOfSpki(spki: Buffer, rawLength: number): Buffer {
  return spki.subarray(spki.length - rawLength);
}

export const publicKeyObject = (spki: Buffer): KeyObject =>
  createPublicKey({ key: spki, format: 'der', type: 'spki' });
