import { readFileSync } from 'node:fs';

/** One liboqs known-answer file (fixtures/README.md): a key pair and the signature at index 0. */
export interface XmssKnownAnswer {
  /** OID ‖ root ‖ PUB_SEED */
  publicKey: Buffer;
  /** the reference implementation's key: OID ‖ idx ‖ SK_SEED ‖ SK_PRF ‖ root ‖ PUB_SEED ‖ BDS state */
  referencePrivateKey: Buffer;
  message: Buffer;
  signature: Buffer;
}

export function xmssKnownAnswer(name: string): XmssKnownAnswer {
  const text = readFileSync(new URL(`./fixtures/${name}.rsp`, import.meta.url), 'utf8');
  const field = (key: string) => {
    const match = new RegExp(`^${key} = ([0-9A-F]*)$`, 'm').exec(text);
    if (!match) throw new Error(`${name}.rsp has no ${key}`);
    return Buffer.from(match[1]!, 'hex');
  };
  return {
    publicKey: field('pk'),
    referencePrivateKey: field('sk'),
    message: field('msg'),
    signature: field('sm'),
  };
}

/** SK_SEED, SK_PRF and PUB_SEED of a reference private key (n = 32) */
export function referenceSeeds(key: Buffer): { skSeed: Buffer; skPrf: Buffer; pubSeed: Buffer } {
  const n = 32;
  const body = key.subarray(8);
  return {
    skSeed: body.subarray(0, n),
    skPrf: body.subarray(n, 2 * n),
    pubSeed: body.subarray(3 * n, 4 * n),
  };
}
