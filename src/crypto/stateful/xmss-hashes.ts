import { createHash, hash } from 'node:crypto';
import type { XmssAddress } from './xmss-address.js';
import type { XmssParams } from './xmss-params.js';

/** The domain separators toByte(x, padding) of RFC 8391 §5.1 and SP 800-208 §5.1. */
const DOMAIN = { F: 0, H: 1, H_MSG: 2, PRF: 3, PRF_KEYGEN: 4 } as const;

/**
 * The keyed hash functions of one XMSS key (RFC 8391 §5.1, SP 800-208 §5.1): F and H with their keys
 * and bitmasks from PRF(PUB_SEED, ADRS), H_msg, PRF and PRF_keygen. Each call fills a buffer kept for
 * its function, so a tree costs no allocation but the digests.
 */
export class XmssHashes {
  private readonly n: number;
  private readonly pad: number;
  /** toByte(3) ‖ PUB_SEED ‖ ADRS */
  private readonly prfPublic: Buffer;
  /** toByte(0) ‖ KEY ‖ (M ⊕ BM) */
  private readonly fInput: Buffer;
  /** toByte(1) ‖ KEY ‖ (LEFT ⊕ BM_0) ‖ (RIGHT ⊕ BM_1) */
  private readonly hInput: Buffer;
  /** toByte(4) ‖ SK_SEED ‖ PUB_SEED ‖ ADRS */
  private readonly keygenInput: Buffer;
  /** toByte(3) ‖ KEY ‖ 32-byte input */
  private readonly prfInput: Buffer;

  constructor(
    readonly params: XmssParams,
    readonly pubSeed: Uint8Array,
  ) {
    const { n, paddingLength: pad } = params;
    this.n = n;
    this.pad = pad;
    this.prfPublic = domain(pad + n + 32, pad, DOMAIN.PRF);
    Buffer.from(pubSeed).copy(this.prfPublic, pad);
    this.fInput = domain(pad + 2 * n, pad, DOMAIN.F);
    this.hInput = domain(pad + 3 * n, pad, DOMAIN.H);
    this.keygenInput = domain(pad + 2 * n + 32, pad, DOMAIN.PRF_KEYGEN);
    Buffer.from(pubSeed).copy(this.keygenInput, pad + n);
    this.prfInput = domain(pad + n + 32, pad, DOMAIN.PRF);
  }

  private digest(input: Uint8Array): Buffer {
    if (this.params.hash === 'shake256') {
      return createHash('shake256', { outputLength: this.n }).update(input).digest();
    }
    const out = hash('sha256', input, 'buffer');
    return out.length === this.n ? out : out.subarray(0, this.n);
  }

  /** PRF(PUB_SEED, ADRS) with the address's keyAndMask word set to `keyAndMask` */
  private keyOrMask(address: XmssAddress, keyAndMask: number): Buffer {
    address.setKeyAndMask(keyAndMask);
    address.bytes.copy(this.prfPublic, this.pad + this.n);
    return this.digest(this.prfPublic);
  }

  /** F(KEY, M ⊕ BM) for one chain step */
  f(address: XmssAddress, x: Uint8Array): Buffer {
    const { n, pad, fInput } = this;
    this.keyOrMask(address, 0).copy(fInput, pad);
    const mask = this.keyOrMask(address, 1);
    for (let i = 0; i < n; i++) fInput[pad + n + i] = x[i]! ^ mask[i]!;
    return this.digest(fInput);
  }

  /** RAND_HASH (RFC 8391 §4.1.4): H(KEY, (LEFT ⊕ BM_0) ‖ (RIGHT ⊕ BM_1)) */
  h(address: XmssAddress, left: Uint8Array, right: Uint8Array): Buffer {
    const { n, pad, hInput } = this;
    this.keyOrMask(address, 0).copy(hInput, pad);
    const mask0 = this.keyOrMask(address, 1);
    const mask1 = this.keyOrMask(address, 2);
    for (let i = 0; i < n; i++) {
      hInput[pad + n + i] = left[i]! ^ mask0[i]!;
      hInput[pad + 2 * n + i] = right[i]! ^ mask1[i]!;
    }
    return this.digest(hInput);
  }

  /** PRF_keygen(SK_SEED, PUB_SEED ‖ ADRS) of SP 800-208 §5.1: the secret start of one WOTS+ chain */
  prfKeygen(skSeed: Uint8Array, address: XmssAddress): Buffer {
    const { n, pad, keygenInput } = this;
    Buffer.from(skSeed.buffer, skSeed.byteOffset, n).copy(keygenInput, pad);
    address.bytes.copy(keygenInput, pad + 2 * n);
    return this.digest(keygenInput);
  }

  /** PRF(SK_PRF, toByte(index, 32)): the randomiser r of the signature at `index` */
  randomizer(skPrf: Uint8Array, index: number): Buffer {
    const { n, pad, prfInput } = this;
    Buffer.from(skPrf.buffer, skPrf.byteOffset, n).copy(prfInput, pad);
    prfInput.fill(0, pad + n);
    prfInput.writeBigUInt64BE(BigInt(index), prfInput.length - 8);
    return this.digest(prfInput);
  }

  /** H_msg(r ‖ root ‖ toByte(index, n), M) */
  messageDigest(r: Uint8Array, root: Uint8Array, index: number, message: Uint8Array): Buffer {
    const { n, pad } = this;
    const prefix = domain(pad + 3 * n, pad, DOMAIN.H_MSG);
    Buffer.from(r).copy(prefix, pad);
    Buffer.from(root).copy(prefix, pad + n);
    prefix.writeBigUInt64BE(BigInt(index), prefix.length - 8);
    if (this.params.hash === 'shake256') {
      return createHash('shake256', { outputLength: n }).update(prefix).update(message).digest();
    }
    const out = createHash('sha256').update(prefix).update(message).digest();
    return out.length === n ? out : out.subarray(0, n);
  }
}

/** A zeroed buffer of `length` bytes that starts with toByte(value, pad) */
function domain(length: number, pad: number, value: number): Buffer {
  const buffer = Buffer.alloc(length);
  buffer[pad - 1] = value;
  return buffer;
}
