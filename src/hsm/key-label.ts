import { TsbError } from '../errors.js';

export const MAX_LABEL_LENGTH = 150;

/**
 * A key label: 1–150 printable characters without "/" (which starts a derivation path suffix,
 * e.g. `label/44'/0'/0'`) and without leading or trailing spaces.
 */
export function assertValidLabel(label: string, field = 'label'): void {
  if (typeof label !== 'string' || label.length === 0) {
    throw new TsbError('INVALID_KEY_NAME', `${field} must not be empty`);
  }
  if (label.length > MAX_LABEL_LENGTH) {
    throw new TsbError('INVALID_KEY_NAME', `${field} must be at most ${MAX_LABEL_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f/]/.test(label) || label.trim() !== label) {
    throw new TsbError(
      'INVALID_KEY_NAME',
      `${field} must not contain "/", control characters, or leading/trailing spaces`,
    );
  }
}
