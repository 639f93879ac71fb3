/**
 * How approver tools show text from the service (issue 12, finding 8): the CLI's rules (src/lib/display-text.ts)
 * and the approver page's copy (approver-checks.js, plain browser JavaScript) give the same answers.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript served to the browser, without type declarations
import * as page from '../../../src/features/approver-page/static/approver-checks.js';
import { displayLabel, escapeForDisplay } from '../../../src/lib/display-text.js';

const CASES: Array<[string, string, string]> = [
  // label, escaped, as a label
  ['payments', 'payments', 'payments'],
  ['with space', 'with space', 'with space'],
  ['pay\u202Etnuocca', 'pay\\u202etnuocca', 'pay\\u202etnuocca'],
  ['\u2066a\u2069', '\\u2066a\\u2069', '\\u2066a\\u2069'],
  ['a\u200Eb\u200Fc', 'a\\u200eb\\u200fc', 'a\\u200eb\\u200fc'],
  ['tab\there\nnew', 'tab\\u0009here\\u000anew', 'tab\\u0009here\\u000anew'],
  ['zero\u200Bwidth', 'zero\\u200bwidth', 'zero\\u200bwidth'],
  ['nb\u00A0sp', 'nb\\u00a0sp', 'nb\\u00a0sp'],
  ['tag\u{E0041}', 'tag\\u{e0041}', 'tag\\u{e0041}'],
  ['lone\uD800', 'lone\\ud800', 'lone\\ud800'],
  ['back\\u202e', 'back\\\\u202e', 'back\\\\u202e'],
  ['p\u0430yments', 'p\u0430yments', 'p\u0430yments (as ASCII: p\\u0430yments)'],
  ['Z\u00fcrich', 'Z\u00fcrich', 'Z\u00fcrich (as ASCII: Z\\u00fcrich)'],
  ['key \u{1F511}', 'key \u{1F511}', 'key \u{1F511} (as ASCII: key \\u{1f511})'],
  ['\u00e9\u202E', '\u00e9\\u202e', '\u00e9\\u202e (as ASCII: \\u00e9\\u202e)'],
];

describe('escapeForDisplay and displayLabel', () => {
  it.each(CASES)('%j', (label, escaped, shown) => {
    expect(escapeForDisplay(label)).toBe(escaped);
    expect(displayLabel(label)).toBe(shown);
    expect(page.escapeForDisplay(label)).toBe(escaped);
    expect(page.displayLabel(label)).toBe(shown);
  });

  it('never lets a bidi, format or control character through', () => {
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (!/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(char)) continue;
      expect(displayLabel(`a${char}b`)).not.toContain(char);
      expect(page.displayLabel(`a${char}b`)).not.toContain(char);
    }
  });
});
