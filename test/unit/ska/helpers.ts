import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { TsbError } from '../../../src/errors.js';

export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** A JSON example of the TSB reference, copied into test/fixtures/tsb-examples/<name>. */
export function tsbSample<T = Record<string, string>>(name: string): T {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/tsb-examples/${name}`, import.meta.url), 'utf8'),
  ) as T;
}

/** The TsbError that `fn` throws; any other error is thrown on, and no error at all fails. */
export function errorOf(fn: () => unknown): TsbError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TsbError) return err;
    throw err;
  }
  throw new Error('expected a TsbError');
}

/** {@link errorOf} for a function that answers with a promise. */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<TsbError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof TsbError) return err;
    throw err;
  }
  throw new Error('expected a TsbError');
}

// --- minimal DER encoder for building test keys and certificates ---

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

export const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

export const bitString = (bytes: Uint8Array) => tlv(0x03, Buffer.from([0]), bytes);
export const integer = (n: number) => tlv(0x02, Buffer.from([n]));
const utcTime = (s: string) => tlv(0x17, Buffer.from(s, 'latin1'));
const generalizedTime = (s: string) => tlv(0x18, Buffer.from(s, 'latin1'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));

export const ML_DSA_OIDS = {
  44: '2.16.840.1.101.3.4.3.17',
  65: '2.16.840.1.101.3.4.3.18',
  87: '2.16.840.1.101.3.4.3.19',
} as const;

export function mlDsaSpki(level: 44 | 65 | 87): Buffer {
  const impl = { 44: ml_dsa44, 65: ml_dsa65, 87: ml_dsa87 }[level];
  const { publicKey } = impl.keygen();
  return seq(seq(oid(ML_DSA_OIDS[level])), bitString(publicKey));
}

export function spkiOf(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

type KeyGenType = 'ec' | 'ed25519' | 'ed448' | 'rsa' | 'rsa-pss' | 'dsa' | 'x25519' | 'x448';
export function genSpki(type: KeyGenType, options?: object): Buffer {
  const generate = generateKeyPairSync as unknown as (t: KeyGenType, o?: object) => { publicKey: KeyObject };
  return spkiOf(generate(type, options).publicKey);
}

/**
 * A v3 certificate around `spki`. Signed with `signer` (ECDSA-SHA256) when given, else a dummy
 * signature (X509Certificate does not verify signatures).
 */
export function makeCertificate(
  spki: Uint8Array,
  opts: { signer?: KeyObject; notBefore?: string; notAfter?: string; cn?: string; v1?: boolean } = {},
): Buffer {
  const sigAlg = seq(oid('1.2.840.10045.4.3.2'));
  const tbs = seq(
    ...(opts.v1 ? [] : [tlv(0xa0, integer(2))]),
    integer(7),
    sigAlg,
    name('OpenTSB test CA'),
    seq(utcTime(opts.notBefore ?? '240101000000Z'), generalizedTime(opts.notAfter ?? '20991231235959Z')),
    name(opts.cn ?? 'approver'),
    spki,
  );
  const signature = opts.signer ? sign('sha256', tbs, opts.signer) : Buffer.alloc(72, 1);
  return seq(tbs, sigAlg, bitString(signature));
}

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A policy with one rule holding one token with the given groups. */
export function policyWith(
  groups: unknown[],
  extra: Record<string, unknown> = {},
  token: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ruleUse: { tokens: [{ name: 'Token1', timelock: 0, timeout: 3600, groups, ...token }] },
    ...extra,
  };
}

export const pk = (spki: Uint8Array, n?: string) => ({
  type: 'public_key',
  name: n ?? null,
  value: b64(spki),
});
export const cert = (der: Uint8Array, n?: string) => ({
  type: 'certificate',
  name: n ?? null,
  value: b64(der),
});
export const group = (approvals: unknown[], quorum = 1, n = 'Group1') => ({ name: n, quorum, approvals });
