/**
 * BIP32 / SLIP-10 derivation paths as the TSB takes them: appended to a key name,
 * `label/44'/0'/0'/0` (reference §1.2). A component is a decimal index below 2^31, hardened when
 * it ends in `'`, `h` or `H`. An optional `m` may open the path (`label/m/44'`); `label/m` alone is
 * the key itself (an empty path). Errors are INPUT_VALIDATION_FAILED (600) naming the problem.
 */
import { TsbError } from '../../errors.js';

/** The offset of hardened indexes (2^31). */
export const HARDENED_OFFSET = 0x80000000;
/** BIP32 serialises the depth in one byte. */
export const MAX_DERIVATION_DEPTH = 255;
/**
 * The most levels a key name's path may have: each is computed on the event loop (~0.8 ms in JavaScript), anew
 * for every request that names it, so 255 levels held every tenant's requests for ~0.2 s. Wallet paths have
 * 3–6 (BIP44: 5). A key's depth from its master key is checked against MAX_DERIVATION_DEPTH apart.
 */
export const MAX_PATH_LEVELS = 32;

export interface DerivationStep {
  /** 0 ≤ index < 2^31, without the hardened offset */
  index: number;
  hardened: boolean;
}

const COMPONENT = /^(0|[1-9][0-9]*)(['hH]?)$/;

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);

/** The child number of a step as BIP32 serialises it (hardened: index + 2^31). */
export const childNumber = (step: DerivationStep): number =>
  step.hardened ? step.index + HARDENED_OFFSET : step.index;

/** A step from a BIP32 child number (≥ 2^31 is hardened). */
export function stepOf(childNumberValue: number): DerivationStep {
  if (!Number.isInteger(childNumberValue) || childNumberValue < 0 || childNumberValue > 0xffffffff) {
    throw invalid(`derivation index ${childNumberValue} is out of range`);
  }
  return childNumberValue >= HARDENED_OFFSET
    ? { index: childNumberValue - HARDENED_OFFSET, hardened: true }
    : { index: childNumberValue, hardened: false };
}

/** One path component (`44'`, `0h`, `7`). */
function parseComponent(component: string, position: number): DerivationStep {
  if (component === '') {
    throw invalid(
      `derivation path component ${position} is empty (the path must not contain "//" or end in "/")`,
    );
  }
  const match = COMPONENT.exec(component);
  if (!match) {
    const shown = component.length > 20 ? `${component.slice(0, 20)}…` : component;
    throw invalid(
      `derivation path component ${position} "${shown}" is not an index (a decimal number, hardened with ' or h)`,
    );
  }
  const digits = match[1]!;
  const index = digits.length > 10 ? Number.POSITIVE_INFINITY : Number(digits);
  if (index >= HARDENED_OFFSET) {
    throw invalid(
      `derivation path component ${position} "${component}" is too large: indexes are below 2^31 (2147483648); mark hardened indexes with '`,
    );
  }
  return { index, hardened: match[2] !== '' };
}

/**
 * Parses a path given without the key label: `44'/0'/0'/0`, `m/44'/0'`, `m` (empty path).
 * Paths of more than `MAX_PATH_LEVELS` levels are refused.
 */
export function parseDerivationPath(text: string): DerivationStep[] {
  if (typeof text !== 'string' || text === '') throw invalid('the derivation path is empty');
  const components = text.split('/');
  if (components[0] === 'm' || components[0] === 'M') components.shift();
  if (components.length > MAX_PATH_LEVELS) {
    throw invalid(
      `the derivation path has ${components.length} levels; at most ${MAX_PATH_LEVELS} are allowed`,
    );
  }
  return components.map((component, i) => parseComponent(component, i + 1));
}

/**
 * Splits a key name into its label and derivation path: `label/44'/0'/0'/0` gives
 * `{ label: 'label', path: [44', 0', 0', 0] }`; a name without `/` gives `path: null`.
 * The label part is not validated beyond being non-empty (the key lookup does that).
 */
export function splitKeyName(name: string): { label: string; path: DerivationStep[] | null } {
  if (typeof name !== 'string') throw invalid('the key name must be a string');
  const slash = name.indexOf('/');
  if (slash < 0) return { label: name, path: null };
  const label = name.slice(0, slash);
  if (label === '') throw invalid('the key name has a derivation path but no label before the first "/"');
  const rest = name.slice(slash + 1);
  if (rest === '') throw invalid(`the key name "${label}/" ends in "/" without a derivation path`);
  return { label, path: parseDerivationPath(rest) };
}

/** The canonical text of a path: `44'/0'/0'/0` (`'` for hardened; empty string for the empty path). */
export function formatDerivationPath(path: readonly DerivationStep[]): string {
  return path.map((step) => `${step.index}${step.hardened ? "'" : ''}`).join('/');
}
