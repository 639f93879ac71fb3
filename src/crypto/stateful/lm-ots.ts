/**
 * LM-OTS, the one-time signature of RFC 8554 §4, with SHA-256 (n = 32). The private elements come from
 * (I, SEED) by the pseudorandom generation of Appendix A: x_i = H(I ‖ u32(q) ‖ u16(i) ‖ u8(0xff) ‖ SEED).
 */
import { hash } from 'node:crypto';
import { type LmotsType, N, otsSignatureLength } from './lms-params.js';

const D_PBLC = 0x8080;
const D_MESG = 0x8181;
/** the j byte of Appendix A; also the "no chain step" marker of the derivations below */
const PRG_J = 0xff;
/** i values outside 0 … p−1 for values derived from SEED besides the chain heads (as hash-sigs does) */
export const PRG_RANDOMIZER = 0xfffd;
export const PRG_CHILD_SEED = 0xfffe;
export const PRG_CHILD_I = 0xffff;

export const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer');

/** H(I ‖ u32(q) ‖ u16(i) ‖ u8(0xff) ‖ SEED): Appendix A, also used with the PRG_* values of i */
export function prg(I: Uint8Array, q: number, i: number, seed: Uint8Array): Buffer {
  const input = Buffer.alloc(16 + 4 + 2 + 1 + N);
  input.set(I, 0);
  input.writeUInt32BE(q, 16);
  input.writeUInt16BE(i, 20);
  input[22] = PRG_J;
  input.set(seed, 23);
  return sha256(input);
}

/** Runs chain i from `start` for steps j = from … to−1; the 55-byte input is one SHA-256 block. */
function chain(I: Uint8Array, q: number, i: number, start: Uint8Array, from: number, to: number): Buffer {
  const input = Buffer.alloc(16 + 4 + 2 + 1 + N);
  input.set(I, 0);
  input.writeUInt32BE(q, 16);
  input.writeUInt16BE(i, 20);
  let tmp: Buffer = Buffer.from(start);
  for (let j = from; j < to; j++) {
    input[22] = j;
    input.set(tmp, 23);
    tmp = sha256(input);
  }
  return tmp;
}

/** coef(S, i, w) of §3.1.3 */
function coef(S: Uint8Array, i: number, w: number): number {
  const perByte = 8 / w;
  const byte = S[Math.floor(i / perByte)]!;
  return (byte >>> (8 - (w * (i % perByte) + w))) & ((1 << w) - 1);
}

/** the chain lengths a_0 … a_{p−1}: Q ‖ Cksm(Q) in base 2^w (§4.4) */
function digits(ots: LmotsType, Q: Uint8Array): number[] {
  const max = (1 << ots.w) - 1;
  let sum = 0;
  for (let i = 0; i < (N * 8) / ots.w; i++) sum += max - coef(Q, i, ots.w);
  const S = Buffer.alloc(N + 2);
  S.set(Q, 0);
  S.writeUInt16BE((sum << ots.ls) & 0xffff, N);
  return Array.from({ length: ots.p }, (_, i) => coef(S, i, ots.w));
}

function messageHash(I: Uint8Array, q: number, C: Uint8Array, message: Uint8Array): Buffer {
  const head = Buffer.alloc(16 + 4 + 2);
  head.set(I, 0);
  head.writeUInt32BE(q, 16);
  head.writeUInt16BE(D_MESG, 20);
  return sha256(Buffer.concat([head, C, message]));
}

function publicHash(I: Uint8Array, q: number, ys: Uint8Array[]): Buffer {
  const head = Buffer.alloc(16 + 4 + 2);
  head.set(I, 0);
  head.writeUInt32BE(q, 16);
  head.writeUInt16BE(D_PBLC, 20);
  return sha256(Buffer.concat([head, ...ys]));
}

/** K, the hash of the one-time public key of leaf q (§4.3) */
export function otsPublicKeyHash(ots: LmotsType, I: Uint8Array, seed: Uint8Array, q: number): Buffer {
  const end = (1 << ots.w) - 1;
  const ys = Array.from({ length: ots.p }, (_, i) => chain(I, q, i, prg(I, q, i, seed), 0, end));
  return publicHash(I, q, ys);
}

/**
 * The LM-OTS signature of leaf q (§4.5). C, the randomizer, is derived from SEED too, so a signature at
 * an index is reproducible (RFC 8554 Appendix F test case 2 was made that way).
 */
export function otsSign(
  ots: LmotsType,
  I: Uint8Array,
  seed: Uint8Array,
  q: number,
  message: Uint8Array,
): Buffer {
  const C = prg(I, q, PRG_RANDOMIZER, seed);
  const a = digits(ots, messageHash(I, q, C, message));
  const signature = Buffer.alloc(otsSignatureLength(ots));
  signature.writeUInt32BE(ots.id, 0);
  signature.set(C, 4);
  for (let i = 0; i < ots.p; i++) signature.set(chain(I, q, i, prg(I, q, i, seed), 0, a[i]!), 4 + N + i * N);
  return signature;
}

/** Kc, the public key hash a signature stands for (§4.6, Algorithm 4b); null if malformed */
export function otsCandidate(
  I: Uint8Array,
  q: number,
  signature: Uint8Array,
  message: Uint8Array,
  ots: LmotsType,
): Buffer | null {
  if (signature.length !== otsSignatureLength(ots)) return null;
  if (Buffer.from(signature.buffer, signature.byteOffset, 4).readUInt32BE(0) !== ots.id) return null;
  const C = signature.subarray(4, 4 + N);
  const a = digits(ots, messageHash(I, q, C, message));
  const end = (1 << ots.w) - 1;
  const zs = Array.from({ length: ots.p }, (_, i) =>
    chain(I, q, i, signature.subarray(4 + N + i * N, 4 + N + (i + 1) * N), a[i]!, end),
  );
  return publicHash(I, q, zs);
}
