/**
 * The 32-byte hash address ADRS of RFC 8391 §2.5: eight big-endian 32-bit words. Words 0–3 are the
 * layer, the tree (two words) and the type (0 OTS, 1 L-tree, 2 hash tree); words 4–7 depend on the type.
 */
export const ADDRESS_TYPE = { OTS: 0, L_TREE: 1, HASH_TREE: 2 } as const;

export class XmssAddress {
  readonly bytes = Buffer.alloc(32);

  constructor(type: number, layer = 0, tree = 0) {
    this.setWord(0, layer);
    this.bytes.writeUInt32BE(Math.floor(tree / 2 ** 32), 4);
    this.setWord(2, tree >>> 0);
    this.setWord(3, type);
  }

  private setWord(word: number, value: number): this {
    this.bytes.writeUInt32BE(value, word * 4);
    return this;
  }

  /** OTS address: the leaf; L-tree address: the leaf */
  setKeyPair(index: number): this {
    return this.setWord(4, index);
  }

  /** OTS address: the chain */
  setChain(chain: number): this {
    return this.setWord(5, chain);
  }

  /** OTS address: the step in the chain */
  setHash(step: number): this {
    return this.setWord(6, step);
  }

  /** L-tree and hash-tree address: the height of the two nodes hashed */
  setTreeHeight(height: number): this {
    return this.setWord(5, height);
  }

  /** L-tree and hash-tree address: the index of the node computed */
  setTreeIndex(index: number): this {
    return this.setWord(6, index);
  }

  setKeyAndMask(value: number): this {
    return this.setWord(7, value);
  }
}
