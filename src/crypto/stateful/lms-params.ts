/**
 * The HSS/LMS parameters of RFC 8554 (§4.1, §5.1) with SHA-256 and n = m = 32 (the sets SP 800-208
 * approves with SHA-256/256), and the parameter sets OpenTSB offers at key creation.
 */

export const N = 32;

export interface LmotsType {
  readonly id: number;
  readonly w: 1 | 2 | 4 | 8;
  /** number of n-byte hash chains */
  readonly p: number;
  /** left shift of the checksum */
  readonly ls: number;
}

export interface LmsType {
  readonly id: number;
  readonly h: number;
}

export const LMOTS_TYPES: readonly LmotsType[] = [
  { id: 1, w: 1, p: 265, ls: 7 },
  { id: 2, w: 2, p: 133, ls: 6 },
  { id: 3, w: 4, p: 67, ls: 4 },
  { id: 4, w: 8, p: 34, ls: 0 },
];

export const LMS_TYPES: readonly LmsType[] = [
  { id: 5, h: 5 },
  { id: 6, h: 10 },
  { id: 7, h: 15 },
  { id: 8, h: 20 },
  { id: 9, h: 25 },
];

export const lmotsTypeById = (id: number) => LMOTS_TYPES.find((type) => type.id === id);
export const lmsTypeById = (id: number) => LMS_TYPES.find((type) => type.id === id);

/** One tree of an HSS key: its LMS and LM-OTS types. */
export interface LevelParams {
  readonly lms: LmsType;
  readonly ots: LmotsType;
}

export function levelParams(h: number, w: number): LevelParams {
  const lms = LMS_TYPES.find((type) => type.h === h);
  const ots = LMOTS_TYPES.find((type) => type.w === w);
  if (!lms || !ots) throw new Error(`no LMS parameters for H${h} W${w}`);
  return { lms, ots };
}

/** bytes of an LM-OTS signature (§4.5) */
export const otsSignatureLength = (ots: LmotsType) => 4 + N + ots.p * N;
/** bytes of an LMS signature (§5.4) */
export const lmsSignatureLength = ({ lms, ots }: LevelParams) => 4 + otsSignatureLength(ots) + 4 + lms.h * N;
/** bytes of an LMS public key (§5.3) */
export const LMS_PUBLIC_KEY_LENGTH = 4 + 4 + 16 + N;

/** bytes of an HSS signature (§6.2): Nspk, then per level but the last a signature and a public key */
export function hssSignatureLength(levels: readonly LevelParams[]): number {
  let length = 4;
  for (const [i, level] of levels.entries()) {
    length += lmsSignatureLength(level);
    if (i < levels.length - 1) length += LMS_PUBLIC_KEY_LENGTH;
  }
  return length;
}

/** A parameter set offered at key creation: its key type name and the trees from the top. */
export interface HssParameterSet {
  readonly name: string;
  readonly levels: readonly LevelParams[];
}

const set = (name: string, ...levels: Array<[number, number]>): HssParameterSet => ({
  name,
  levels: levels.map(([h, w]) => levelParams(h, w)),
});

/**
 * `LMS` is the TSB default: HSS with one level, LMS_SHA256_M32_H5 / LMOTS_SHA256_N32_W1 (32 signatures of
 * 8,688 bytes, the size the TSB documents). The others name their trees from the top:
 * `LMS-SHA256_M32_H<h>_W<w>[-H<h>_W<w>]`.
 */
export const HSS_PARAMETER_SETS: readonly HssParameterSet[] = [
  set('LMS', [5, 1]),
  set('LMS-SHA256_M32_H5_W8', [5, 8]),
  set('LMS-SHA256_M32_H10_W4', [10, 4]),
  set('LMS-SHA256_M32_H10_W8', [10, 8]),
  set('LMS-SHA256_M32_H15_W4', [15, 4]),
  set('LMS-SHA256_M32_H15_W8', [15, 8]),
  set('LMS-SHA256_M32_H20_W4', [20, 4]),
  set('LMS-SHA256_M32_H20_W8', [20, 8]),
  set('LMS-SHA256_M32_H5_W8-H5_W8', [5, 8], [5, 8]),
  set('LMS-SHA256_M32_H10_W4-H10_W4', [10, 4], [10, 4]),
  set('LMS-SHA256_M32_H10_W8-H10_W8', [10, 8], [10, 8]),
  set('LMS-SHA256_M32_H15_W4-H10_W4', [15, 4], [10, 4]),
  set('LMS-SHA256_M32_H20_W4-H10_W4', [20, 4], [10, 4]),
];
