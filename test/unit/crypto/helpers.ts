import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TsbError } from '../../../src/errors.js';
import { openssl, withScratch } from '../../helpers/openssl.js';

export { describePublicKey, openssl, withScratch } from '../../helpers/openssl.js';

/** The TsbError a function throws (fails the test if it throws something else or nothing). */
export function tsbErrorOf(fn: () => unknown): TsbError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TsbError) return error;
    throw new Error(`expected a TsbError, got ${String(error)}`);
  }
  throw new Error('expected a TsbError, nothing was thrown');
}

export async function tsbErrorOfAsync(fn: () => Promise<unknown>): Promise<TsbError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof TsbError) return error;
    throw new Error(`expected a TsbError, got ${String(error)}`);
  }
  throw new Error('expected a TsbError, nothing was thrown');
}

/** `openssl pkey` on a DER PKCS#8 private key: its text and the SPKI DER openssl derives from it. */
export async function opensslPrivateKey(pkcs8: Buffer): Promise<{ text: string; spki: Buffer }> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.der'), pkcs8);
    const text = await openssl(['pkey', '-inform', 'DER', '-in', 'key.der', '-noout', '-text'], dir);
    await openssl(
      ['pkey', '-inform', 'DER', '-in', 'key.der', '-pubout', '-outform', 'DER', '-out', 'pub.der'],
      dir,
    );
    return { text, spki: await readFile(path.join(dir, 'pub.der')) };
  });
}

/** `openssl asn1parse` (an independent DER parser) of any DER structure. */
export async function opensslAsn1Parse(der: Buffer): Promise<string> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'data.der'), der);
    return openssl(['asn1parse', '-inform', 'DER', '-in', 'data.der', '-i'], dir);
  });
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
