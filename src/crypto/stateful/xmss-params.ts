/**
 * The XMSS parameter sets of RFC 8391 (§5.2) and NIST SP 800-208 (§5, table 10) that OpenTSB knows,
 * all with n = 32 bytes and the Winternitz parameter w = 16. The SHA2 sets are the same in both
 * documents; the SHAKE256 sets are SP 800-208's (SHAKE256 with 256 bits of output), not RFC 8391's
 * `XMSS-SHAKE_*` sets, which use SHAKE128.
 */
export type XmssHashFunction = 'sha256' | 'shake256';

export interface XmssParams {
  /** the name RFC 8391 / SP 800-208 give the set */
  readonly name: string;
  /** the 32-bit OID that starts the public key (RFC 8391 §5.3, SP 800-208 table 10) */
  readonly oid: number;
  readonly hash: XmssHashFunction;
  /** bytes of every hash value and seed */
  readonly n: number;
  /** bytes of the domain separator toByte(x, …) in front of every hash input */
  readonly paddingLength: number;
  /** height of the tree: 2^height signatures */
  readonly height: number;
  readonly w: 16;
  readonly logW: 4;
  /** WOTS+ chains for the message digest and for its checksum, and both together */
  readonly len1: number;
  readonly len2: number;
  readonly len: number;
  /** idx (4 bytes) ‖ r ‖ WOTS+ signature ‖ authentication path */
  readonly signatureLength: number;
  /** OID ‖ root ‖ PUB_SEED */
  readonly publicKeyLength: number;
}

function params(name: string, oid: number, hash: XmssHashFunction, height: number): XmssParams {
  const n = 32;
  const len1 = (8 * n) / 4;
  const len2 = Math.floor(Math.log2(len1 * 15) / 4) + 1;
  const len = len1 + len2;
  return {
    name,
    oid,
    hash,
    n,
    paddingLength: 32,
    height,
    w: 16,
    logW: 4,
    len1,
    len2,
    len,
    signatureLength: 4 + n + len * n + height * n,
    publicKeyLength: 4 + 2 * n,
  };
}

export const XMSS_SHA2_10_256 = params('XMSS-SHA2_10_256', 0x00000001, 'sha256', 10);
export const XMSS_SHA2_16_256 = params('XMSS-SHA2_16_256', 0x00000002, 'sha256', 16);
export const XMSS_SHA2_20_256 = params('XMSS-SHA2_20_256', 0x00000003, 'sha256', 20);
export const XMSS_SHAKE256_10_256 = params('XMSS-SHAKE256_10_256', 0x00000010, 'shake256', 10);
export const XMSS_SHAKE256_16_256 = params('XMSS-SHAKE256_16_256', 0x00000011, 'shake256', 16);
export const XMSS_SHAKE256_20_256 = params('XMSS-SHAKE256_20_256', 0x00000012, 'shake256', 20);

export const XMSS_PARAMETER_SETS: readonly XmssParams[] = [
  XMSS_SHA2_10_256,
  XMSS_SHA2_16_256,
  XMSS_SHA2_20_256,
  XMSS_SHAKE256_10_256,
  XMSS_SHAKE256_16_256,
  XMSS_SHAKE256_20_256,
];

export function xmssParamsByOid(oid: number): XmssParams | undefined {
  return XMSS_PARAMETER_SETS.find((set) => set.oid === oid);
}
