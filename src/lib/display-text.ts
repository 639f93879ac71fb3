/**
 * Text from the service as an approver's tool shows it (docs/approver-tools.md): what is shown is what is
 * there. Characters that are invisible or change how the rest is drawn — controls, format characters such
 * as the bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069) and zero-width ones, separators other
 * than the space, private-use, unassigned and unpaired-surrogate characters — are shown as escapes
 * (`\u202e`), and a backslash as `\\`, so an escape cannot be faked. The approver page has the same rules in
 * approver-checks.js (a test holds the two to the same answers).
 */

const HIDDEN_OR_BACKSLASH = /(?! )[\p{C}\p{Z}]|\\/gu;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function escapeCharacter(char: string): string {
  if (char === '\\') return '\\\\';
  const code = char.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function escapeForDisplay(text: string): string {
  return text.replace(HIDDEN_OR_BACKSLASH, escapeCharacter);
}

/**
 * A key label for an approver: escaped, and when it holds characters beyond ASCII (a Cyrillic "а" looks
 * like a Latin "a") followed by its ASCII-only spelling, e.g. `pаy (as ASCII: p\u0430y)`.
 */
export function displayLabel(label: string): string {
  const shown = escapeForDisplay(label);
  if (PRINTABLE_ASCII.test(shown)) return shown;
  const ascii = [...label]
    .map((char) => (char !== '\\' && PRINTABLE_ASCII.test(char) ? char : escapeCharacter(char)))
    .join('');
  return `${shown} (as ASCII: ${ascii})`;
}
