/** The XMSS key types of the TSB as stateful schemes, by their names on the wire (tsb-client-go). */
import { randomBytes } from 'node:crypto';
import { TsbError } from '../../errors.js';
import type { StatefulScheme } from './stateful-scheme.js';
import { xmssVerify } from './xmss.js';
import { decodeXmssPublicKey } from './xmss-keys.js';
import { XMSS_SHA2_10_256, XMSS_SHAKE256_10_256, type XmssParams } from './xmss-params.js';
import { runInXmssPool } from './xmss-pool.js';

function xmssScheme(name: string, params: XmssParams): StatefulScheme {
  const publicKeyLength = 4 + 2 * params.n;
  return {
    name,
    family: 'XMSS',
    maxSignatures: 2 ** params.height,
    signatureLength: params.signatureLength,
    async generate() {
      const both = await runInXmssPool({
        kind: 'generate',
        oid: params.oid,
        seeds: randomBytes(3 * params.n),
      });
      const split = both.length - publicKeyLength;
      return { privateKey: both.slice(0, split), publicKey: both.slice(split) };
    },
    sign(privateKey, index, message) {
      return runInXmssPool({ kind: 'sign', oid: params.oid, privateKey, index, message });
    },
    verify(publicKey, message, signature) {
      return decodeXmssPublicKey(publicKey)?.params === params && xmssVerify(publicKey, message, signature);
    },
    indexOf(signature) {
      if (signature.length < 4) throw new TsbError('INVALID_SIGNATURE', 'the XMSS signature is too short');
      return Buffer.from(signature.buffer, signature.byteOffset, 4).readUInt32BE(0);
    },
  };
}

export const XMSS_SHA256_10_256 = xmssScheme('XMSS-SHA256_10_256', XMSS_SHA2_10_256);
export const XMSS_SHAKE256_10_256_SCHEME = xmssScheme('XMSS-SHAKE256_10_256', XMSS_SHAKE256_10_256);

export const XMSS_SCHEMES: readonly StatefulScheme[] = [XMSS_SHA256_10_256, XMSS_SHAKE256_10_256_SCHEME];
