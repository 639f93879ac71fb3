/**
 * The one-time indices of stateful hash-based keys (HSS/LMS, XMSS). Every signature gets an index that
 * was reserved in PostgreSQL, by an atomic UPDATE that committed, before the signature is made; so no index
 * is handed out twice, whatever process is killed when, and however many API processes sign with the key.
 *
 * A process reserves indices in blocks for keys with many signatures (1 per statement for keys of up to
 * 2^16 signatures, up to 64 for larger ones) and hands them out from memory. Indices reserved and not used
 * (the process stops, a signature fails) are lost, never reused.
 */
import { TsbError } from '../../errors.js';
import type { Key } from '../../generated/prisma/client.js';
import type { KeyRepository } from './key.repository.js';

export interface SignatureIndex {
  index: number;
  /** signatures the key has left after this one (counting indices other processes hold in their blocks) */
  remaining: number;
  limit: number;
}

interface Block {
  next: number;
  end: number;
  limit: number;
}

/** indices per reservation: 1 up to 2^16 signatures, then 1/1024 of the key, at most 64 */
export const blockSize = (limit: number) => (limit <= 2 ** 16 ? 1 : Math.min(64, Math.floor(limit / 1024)));

/** Export, wrap and copy of a stateful private key are refused: a copy could sign at indices this HSM hands out. */
export function refuseStatefulCopy(
  key: Pick<Key, 'label' | 'algorithm' | 'statefulLimit' | 'materialSealed'>,
  what: string,
): void {
  if (key.statefulLimit !== null && key.materialSealed !== null) {
    throw new TsbError(
      'OPERATION_FORBIDDEN_FOR_KEY',
      `key "${key.label}" is a stateful ${key.algorithm} key: its private key and one-time index state are never ${what}`,
    );
  }
}

export class StatefulIndices {
  private readonly blocks = new Map<string, Block>();

  constructor(private readonly repository: KeyRepository) {}

  /** The next index of the key: from this process's block, or a new reservation; 614 when exhausted. */
  async reserve(key: Pick<Key, 'id' | 'label' | 'algorithm' | 'statefulLimit'>): Promise<SignatureIndex> {
    const held = this.blocks.get(key.id);
    if (held && held.next < held.end) return this.take(held);
    if (key.statefulLimit === null)
      throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${key.label}" is not a stateful key`);
    const limit = Number(key.statefulLimit);
    const wanted = blockSize(limit);
    // near the end a full block may not fit: then one index at a time
    const reserved =
      (await this.repository.reserveStatefulIndices(key.id, wanted)) ??
      (wanted > 1 ? await this.repository.reserveStatefulIndices(key.id, 1) : null);
    if (!reserved) {
      throw new TsbError(
        'OPERATION_FORBIDDEN_FOR_KEY',
        `key "${key.label}" (${key.algorithm}) has made all of its ${limit} signatures: a stateful hash-based key signs each one-time index once`,
      );
    }
    const block = { next: reserved.first, end: reserved.first + reserved.count, limit: reserved.limit };
    this.blocks.set(key.id, block);
    return this.take(block);
  }

  /** Forgets this process's block of a key (its remaining indices are lost): a destroyed or restored key. */
  drop(keyId: string): void {
    this.blocks.delete(keyId);
  }

  private take(block: Block): SignatureIndex {
    const index = block.next++;
    return { index, remaining: block.limit - index - 1, limit: block.limit };
  }
}
