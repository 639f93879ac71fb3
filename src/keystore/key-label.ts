import { TsbError } from '../errors.js';

export const MAX_LABEL_LENGTH = 150;

/**
 * What a label may not hold, because it hides or disguises what an approver reads: every character of the
 * Unicode categories C (controls; format characters such as the bidi overrides and isolates U+202A–U+202E,
 * U+2066–U+2069, the marks U+200E/U+200F, zero-width characters and the BOM; unpaired surrogates; private
 * use; unassigned) and Z (separators) except the ASCII space.
 */
const REFUSED_CHARACTER = /(?! )[\p{C}\p{Z}]/u;

/** The form labels are stored and compared in: Unicode NFC, so "é" typed composed or decomposed is one key. */
export function normalizeLabel(label: string): string {
  return label.normalize('NFC');
}

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * A new key's label, checked and in NFC (docs/input-limits.md): 1–150 characters, no "/" (which starts a
 * derivation path suffix, e.g. `label/44'/0'/0'`), no leading or trailing space, and no control, format,
 * separator (other than the space), private-use, unassigned or unpaired-surrogate character.
 */
export function canonicalLabel(label: string, field = 'label'): string {
  if (typeof label !== 'string' || label.length === 0) {
    throw new TsbError('INVALID_KEY_NAME', `${field} must not be empty`);
  }
  const refused = REFUSED_CHARACTER.exec(label);
  if (refused) {
    const position = [...label.slice(0, refused.index)].length + 1;
    throw new TsbError(
      'INVALID_KEY_NAME',
      `${field} must not contain ${codePoint(refused[0])} (character ${position}): control, format (bidi, zero-width), ` +
        'separator other than the space, private-use, unassigned and unpaired surrogate characters are refused',
    );
  }
  const normalized = normalizeLabel(label);
  if (normalized.length > MAX_LABEL_LENGTH) {
    throw new TsbError('INVALID_KEY_NAME', `${field} must be at most ${MAX_LABEL_LENGTH} characters`);
  }
  if (normalized.includes('/') || normalized.trim() !== normalized) {
    throw new TsbError('INVALID_KEY_NAME', `${field} must not contain "/", or leading/trailing spaces`);
  }
  return normalized;
}
