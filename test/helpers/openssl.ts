import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs the openssl CLI (an implementation independent of the service) over files in a scratch folder. */
export async function withScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'opentsb-openssl-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function openssl(args: string[], cwd?: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync('openssl', args, { cwd, encoding: 'utf8' });
  return stdout + stderr;
}

/** `openssl pkey -pubin -text` on a DER SubjectPublicKeyInfo. */
export async function describePublicKey(spki: Buffer): Promise<string> {
  return withScratch(async (dir) => {
    const file = path.join(dir, 'key.der');
    await writeFile(file, spki);
    return openssl(['pkey', '-pubin', '-inform', 'DER', '-in', file, '-noout', '-text']);
  });
}

/** `openssl dgst -sha256 -verify` of a signature over data with a DER SubjectPublicKeyInfo. */
export async function opensslVerifies(spki: Buffer, data: Buffer, signature: Buffer): Promise<boolean> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.der'), spki);
    await openssl(['pkey', '-pubin', '-inform', 'DER', '-in', 'key.der', '-out', 'key.pem'], dir);
    await writeFile(path.join(dir, 'data'), data);
    await writeFile(path.join(dir, 'sig'), signature);
    try {
      const out = await openssl(['dgst', '-sha256', '-verify', 'key.pem', '-signature', 'sig', 'data'], dir);
      return out.includes('Verified OK');
    } catch {
      return false;
    }
  });
}

/**
 * `openssl pkeyutl -encrypt` with a DER SubjectPublicKeyInfo, or `-decrypt` with a DER PKCS#8 key,
 * each `-pkeyopt` given (e.g. `rsa_padding_mode:oaep`).
 */
export async function opensslPkeyutl(
  mode: 'encrypt' | 'decrypt',
  keyDer: Buffer,
  pkeyopts: string[],
  input: Buffer,
): Promise<Buffer> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.der'), keyDer);
    await writeFile(path.join(dir, 'in'), input);
    const args = ['pkeyutl', `-${mode}`, '-keyform', 'DER', '-inkey', 'key.der', '-in', 'in', '-out', 'out'];
    if (mode === 'encrypt') args.push('-pubin');
    for (const option of pkeyopts) args.push('-pkeyopt', option);
    await openssl(args, dir);
    return readFile(path.join(dir, 'out'));
  });
}

/** `openssl enc` (encrypt, or decrypt with `decrypt`) of input with a raw key and IV (a Buffer, or hex text). */
export async function opensslEnc(
  cipher: string,
  key: Buffer,
  iv: Buffer | string | null,
  input: Buffer,
  options: { decrypt?: boolean; nopad?: boolean } = {},
): Promise<Buffer> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'in'), input);
    const args = ['enc', `-${cipher}`, options.decrypt ? '-d' : '-e', '-K', key.toString('hex')];
    if (iv !== null) args.push('-iv', typeof iv === 'string' ? iv : iv.toString('hex'));
    if (options.nopad) args.push('-nopad');
    await openssl([...args, '-in', 'in', '-out', 'out'], dir);
    return readFile(path.join(dir, 'out'));
  });
}

/** `openssl req` arguments for a fresh, unencrypted EC P-256 key. */
export const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface SelfSignedOptions {
  /** `-subj`, e.g. `/CN=approver` */
  subject: string;
  /** validity in days from now (default 2) */
  days?: number;
  /** `-addext` values, e.g. `basicConstraints=critical,CA:TRUE` */
  extensions?: string[];
  /** file names in the folder (PEM) */
  keyFile: string;
  certFile: string;
}

/**
 * `openssl req -x509 -new`: a fresh EC P-256 key (unencrypted) and a self-signed certificate over it,
 * written to `keyFile` and `certFile` in `dir`; answers their paths.
 */
export async function selfSignedP256(
  dir: string,
  { subject, days = 2, extensions = [], keyFile, certFile }: SelfSignedOptions,
): Promise<{ keyFile: string; certFile: string }> {
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      ...NEW_P256_KEY,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      String(days),
      '-subj',
      subject,
      ...extensions.flatMap((extension) => ['-addext', extension]),
    ],
    dir,
  );
  return { keyFile: path.join(dir, keyFile), certFile: path.join(dir, certFile) };
}
