/**
 * Signatures known to be valid, so that the same signature is not verified twice in one process: the
 * approval the approve route verified is verified again by the HSM's gate right before the operation runs,
 * and the partition's signature over a challenge by the gate of the process that made it.
 *
 * Only successes are remembered, under a SHA-256 of everything the verification depends on (the public
 * key, the scheme, the data and the signature, each length-prefixed): a hit stands for a verification of the
 * very same bytes, which is a pure function of them. Bounded; the least recently used entries go first.
 */
import { createHash } from 'node:crypto';
import { BoundedTtlCache } from '../../lib/ttl-cache.js';

function lengthPrefix(bytes: Uint8Array | string): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length);
  return prefix;
}

export class VerifiedSignatures {
  private readonly valid: BoundedTtlCache<true>;

  constructor(capacity: number) {
    this.valid = new BoundedTtlCache<true>(capacity);
  }

  /**
   * `verify()`'s answer, or true at once when this signature was found valid before. `publicKey` names
   * the key exactly (its SPKI, or a SHA-256 fingerprint of it); `scheme` everything else the verification
   * depends on (algorithm, digest, encoding).
   */
  check(
    publicKey: Uint8Array | string,
    scheme: string,
    data: Uint8Array,
    signature: Uint8Array,
    verify: () => boolean,
  ): boolean {
    const key = VerifiedSignatures.key(publicKey, scheme, data, signature);
    return this.valid.get(key) === true || this.learned(key, verify());
  }

  /** {@link check} with a verification that answers later (in the thread pool). */
  async checkAsync(
    publicKey: Uint8Array | string,
    scheme: string,
    data: Uint8Array,
    signature: Uint8Array,
    verify: () => Promise<boolean>,
  ): Promise<boolean> {
    const key = VerifiedSignatures.key(publicKey, scheme, data, signature);
    return this.valid.get(key) === true || this.learned(key, await verify());
  }

  /** A verification's answer, remembered when it is a success (failures are always verified again). */
  private learned(key: string, valid: boolean): boolean {
    if (valid) this.valid.set(key, true, Number.POSITIVE_INFINITY);
    return valid;
  }

  /** Records a signature this process has just made with the private half of `publicKey`. */
  remember(publicKey: Uint8Array | string, scheme: string, data: Uint8Array, signature: Uint8Array): void {
    this.valid.set(
      VerifiedSignatures.key(publicKey, scheme, data, signature),
      true,
      Number.POSITIVE_INFINITY,
    );
  }

  private static key(
    publicKey: Uint8Array | string,
    scheme: string,
    data: Uint8Array,
    signature: Uint8Array,
  ): string {
    const hash = createHash('sha256');
    for (const part of [publicKey, scheme, data, signature]) hash.update(lengthPrefix(part)).update(part);
    return hash.digest('base64');
  }
}
