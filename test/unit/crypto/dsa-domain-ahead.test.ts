/**
 * The domain check of a DSA key (dsaDomainProblem: q's primality and two exponentiations over p, 5–11 ms for
 * 3,072 bits) runs in the signature pool's worker for the asynchronous import, unwrap and generation, and the
 * synchronous size check finds its answer (dsa-domain.ts): none of them computes it on this thread. A bad key
 * is refused as before, and a pool shut down meanwhile leaves the check to the size check.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { children, decode, integer, readInteger, sequence } from '../../../src/crypto/der.js';
import { dsaDomainCheckStats } from '../../../src/crypto/mechanisms/dsa-domain.js';
import {
  generateKey,
  importKey,
  importKeyOffThread,
  type KeyMaterial,
  loadPrivate,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { shutdownSignaturePool, signaturePoolStats } from '../../../src/crypto/signatures/signatures-pool.js';
import { algorithmIdentifier, decodePkcs8, encodePkcs8, encodeSpki } from '../../../src/crypto/spki-pkcs8.js';
import { unwrapKeyOffThread, wrapKey } from '../../../src/crypto/wrapping/key-wrapping.js';
import { countEventLoopTurns } from '../../helpers/event-loop-turns.js';
import { openssl, tsbErrorOf, tsbErrorOfAsync, withScratch } from './helpers.js';

afterAll(() => shutdownSignaturePool());

const DSA_OID = '1.2.840.10040.4.1';
const FIXTURE = path.join(import.meta.dirname, 'signatures', 'fixtures', 'dsa-3072-256.pem');

let p: bigint;
let q: bigint;
let g: bigint;

beforeAll(async () => {
  const info = decodePkcs8(
    createPrivateKey(await readFile(FIXTURE, 'utf8')).export({ type: 'pkcs8', format: 'der' }),
  );
  [p, q, g] = children(decode(info.algorithm.parameters!)).map(readInteger) as [bigint, bigint, bigint];
});

const algorithm = (gg = g) => algorithmIdentifier(DSA_OID, sequence(integer(p), integer(q), integer(gg)));

/** A DSA-3072 key never checked before: the fixture's domain with a fresh x (so a fresh y). */
function freshKey(gg = g): { privateKey: Buffer; publicKey: Buffer } {
  const x = (BigInt(`0x${randomBytes(32).toString('hex')}`) % (q - 2n)) + 2n;
  const privateKey = encodePkcs8(algorithm(gg), integer(x));
  const publicKey = createPublicKey(
    createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }),
  ).export({
    type: 'spki',
    format: 'der',
  });
  return { privateKey, publicKey };
}

/** A self-signed certificate of the key, by the openssl CLI. */
const certificateOf = (privateKey: Buffer): Promise<Buffer> =>
  withScratch(async (dir) => {
    const pem = createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }).export({
      type: 'pkcs8',
      format: 'pem',
    });
    await writeFile(path.join(dir, 'key.pem'), pem);
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'key.pem',
        '-subj',
        '/CN=dsa',
        '-days',
        '2',
        '-sha256',
        '-outform',
        'DER',
        '-out',
        'cert.der',
      ],
      dir,
    );
    return readFile(path.join(dir, 'cert.der'));
  });

/** Runs the work, counting the domain checks on this thread and in the pool's workers, and the event loop's turns. */
async function watched<T>(
  work: () => Promise<T>,
): Promise<{ result: T; here: number; inWorker: number; turns: number }> {
  const here = dsaDomainCheckStats().computedHere;
  const inWorker = signaturePoolStats().worker;
  const turns = countEventLoopTurns();
  const result = await work();
  return {
    result,
    turns: turns.stop(),
    here: dsaDomainCheckStats().computedHere - here,
    inWorker: signaturePoolStats().worker - inWorker,
  };
}

describe('the DSA domain check off the event loop', () => {
  it('an import of a DSA-3072 private key, public key and certificate checks the domain once, in the worker', async () => {
    const { privateKey, publicKey } = freshKey();
    const certificate = await certificateOf(privateKey);
    const { result, here, inWorker, turns } = await watched(() =>
      importKeyOffThread({ algorithm: 'DSA', privateKey, publicKey, certificate }),
    );
    expect(here, 'domain checks on the event loop').toBe(0);
    expect(inWorker, 'the three inputs are one key: one check').toBe(1);
    expect(turns, 'event-loop turns while the worker checked').toBeGreaterThan(0);
    expect(result.keySize).toBe(3072);
    expect(result.publicKey!.equals(publicKey)).toBe(true);
    expect(result.certificate!.equals(certificate)).toBe(true);
    expect(
      result.secret!.equals(
        createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }).export({
          type: 'pkcs8',
          format: 'der',
        }),
      ),
    ).toBe(true);
  });

  it('a public key alone too; importing it again (or synchronously) is a lookup', async () => {
    const { publicKey } = freshKey();
    const first = await watched(() => importKeyOffThread({ algorithm: 'DSA', publicKey }));
    expect([first.here, first.inWorker]).toEqual([0, 1]);
    const again = await watched(() => importKeyOffThread({ algorithm: 'DSA', publicKey }));
    expect([again.here, again.inWorker]).toEqual([0, 0]);
    const sync = await watched(async () => importKey({ algorithm: 'DSA', publicKey }));
    expect([sync.here, sync.inWorker]).toEqual([0, 0]);
    expect(sync.result.publicKey!.equals(publicKey)).toBe(true);
  });

  it('an AES-unwrapped DSA-3072 key is checked in the worker', async () => {
    const { privateKey, publicKey } = freshKey();
    const kek = loadPrivate(importKey({ algorithm: 'AES', secretKey: randomBytes(32) }));
    const wrapped = wrapKey(kek, 'AES_WRAP_PAD_DSA', {
      algorithm: 'DSA',
      algorithmOid: null,
      curveOid: null,
      keySize: 3072,
      publicKey: null,
      secret: privateKey,
    } satisfies KeyMaterial);
    const { result, here, inWorker } = await watched(() =>
      unwrapKeyOffThread(kek, 'AES_WRAP_PAD_DSA', wrapped),
    );
    expect([here, inWorker]).toEqual([0, 1]);
    expect(result.publicKey!.equals(publicKey)).toBe(true);
  });

  it('a generated DSA key is checked in the worker', async () => {
    const { result, here, inWorker } = await watched(() => generateKey({ algorithm: 'DSA', keySize: 2048 }));
    expect([here, inWorker]).toEqual([0, 1]);
    expect(result.keySize).toBe(2048);
  }, 60_000);

  it('a key of bad domain parameters is refused as before (400 / 407, the same message), checked in the worker', async () => {
    const otherOrder = freshKey(2n);
    const { publicKey } = freshKey();
    const badY = encodeSpki(algorithm(), integer(2n));
    for (const [input, problem] of [
      [{ privateKey: otherOrder.privateKey }, 'g is not of order q'],
      [{ publicKey: badY }, 'the public value y is not of order q'],
    ] as const) {
      const {
        result: error,
        here,
        inWorker,
      } = await watched(() => tsbErrorOfAsync(() => importKeyOffThread({ algorithm: 'DSA', ...input })));
      expect([error.kind, error.errorCode, error.message]).toEqual([
        'PARSING_KEY',
        407,
        `the DSA key is not a valid DSA key: ${problem}`,
      ]);
      expect([here, inWorker]).toEqual([0, 1]);
    }
    // a good public key with a bad private key: the private key's refusal, as importKey gives it
    const mixed = await tsbErrorOfAsync(() =>
      importKeyOffThread({ algorithm: 'DSA', privateKey: otherOrder.privateKey, publicKey }),
    );
    expect(mixed.message).toBe(
      tsbErrorOf(() => importKey({ algorithm: 'DSA', privateKey: otherOrder.privateKey, publicKey })).message,
    );
  });

  it('a pool shut down meanwhile leaves the check to the import, which answers the same', async () => {
    const good = freshKey();
    const bad = freshKey(2n);
    const imported = importKeyOffThread({ algorithm: 'DSA', privateKey: good.privateKey });
    const refused = tsbErrorOfAsync(() =>
      importKeyOffThread({ algorithm: 'DSA', privateKey: bad.privateKey }),
    );
    const before = dsaDomainCheckStats().computedHere;
    await shutdownSignaturePool();
    expect((await imported).publicKey!.equals(good.publicKey)).toBe(true);
    const error = await refused;
    expect([error.kind, error.message]).toEqual([
      'PARSING_KEY',
      'the DSA key is not a valid DSA key: g is not of order q',
    ]);
    expect(dsaDomainCheckStats().computedHere - before, 'checked on this thread instead').toBe(2);
  });
});
