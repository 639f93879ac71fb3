/**
 * Test PKI made with the openssl CLI: a client CA, a server certificate, client certificates signed by
 * the CA, and a foreign CA with its own client certificate. EC P-256 keys, so generation is quick.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NEW_P256_KEY, openssl, selfSignedP256 } from './openssl.js';

export interface PemPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  ca: PemPair;
  server: PemPair;
  /** A client certificate signed by `ca`. */
  client: PemPair;
  /** A second client certificate signed by `ca`. */
  client2: PemPair;
  /** A third one, for tests that need a trusted but unregistered certificate. */
  client3: PemPair;
  /** A CA the server does not trust, and a client certificate it signed. */
  foreignCa: PemPair;
  foreignClient: PemPair;
  cleanup(): Promise<void>;
}

async function pair(dir: string, name: string): Promise<PemPair> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

async function makeCa(dir: string, name: string): Promise<PemPair> {
  await selfSignedP256(dir, {
    subject: `/CN=${name}`,
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    keyFile: `${name}.key`,
    certFile: `${name}.crt`,
  });
  return pair(dir, name);
}

async function makeLeaf(dir: string, name: string, ca: string, extensions: string): Promise<PemPair> {
  await openssl(
    ['req', '-new', ...NEW_P256_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`],
    dir,
  );
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
  return pair(dir, name);
}

const SERVER_EXT =
  'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n';
const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n';

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'opentsb-pki-'));
  try {
    const [ca, foreignCa] = await Promise.all([makeCa(dir, 'test-ca'), makeCa(dir, 'foreign-ca')]);
    const [server, client, client2, client3, foreignClient] = await Promise.all([
      makeLeaf(dir, 'server', 'test-ca', SERVER_EXT),
      makeLeaf(dir, 'client', 'test-ca', CLIENT_EXT),
      makeLeaf(dir, 'client2', 'test-ca', CLIENT_EXT),
      makeLeaf(dir, 'client3', 'test-ca', CLIENT_EXT),
      makeLeaf(dir, 'foreign-client', 'foreign-ca', CLIENT_EXT),
    ]);
    return {
      dir,
      ca,
      server,
      client,
      client2,
      client3,
      foreignCa,
      foreignClient,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
