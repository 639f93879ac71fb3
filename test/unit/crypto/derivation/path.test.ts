import { describe, expect, it } from 'vitest';
import {
  childNumber,
  formatDerivationPath,
  HARDENED_OFFSET,
  parseDerivationPath,
  splitKeyName,
  stepOf,
} from '../../../../src/crypto/derivation/path.js';
import { TsbError } from '../../../../src/errors.js';

const h = (index: number) => ({ index, hardened: true });
const n = (index: number) => ({ index, hardened: false });

describe('splitKeyName', () => {
  it.each([
    ['plain', { label: 'plain', path: null }],
    ["ec_slip_10/44'/0'/0'/0'", { label: 'ec_slip_10', path: [h(44), h(0), h(0), h(0)] }],
    ["PerformanceTestDerive/44'/60'/0'", { label: 'PerformanceTestDerive', path: [h(44), h(60), h(0)] }],
    ['k/44h/0H/0/7', { label: 'k', path: [h(44), h(0), n(0), n(7)] }],
    ["k/m/44'/1", { label: 'k', path: [h(44), n(1)] }],
    ['k/m', { label: 'k', path: [] }],
    ["k/2147483647'", { label: 'k', path: [h(2147483647)] }],
    ['k/2147483647', { label: 'k', path: [n(2147483647)] }],
    ['label with spaces/0', { label: 'label with spaces', path: [n(0)] }],
  ])('%s', (name, expected) => {
    expect(splitKeyName(name)).toEqual(expected);
  });

  it.each([
    ["/44'/0'", /no label/],
    ['k/', /ends in "\/"/],
    ["k/44'//0", /component 2 is empty/],
    ["k/44'/0'/", /component 3 is empty/],
    ['k/abc', /"abc" is not an index/],
    ['k/-1', /"-1" is not an index/],
    ['k/01', /"01" is not an index/],
    ["k/1''", /is not an index/],
    ['k/1 ', /is not an index/],
    ['k/0x10', /is not an index/],
    ['k/2147483648', /too large/],
    ["k/2147483648'", /too large/],
    ['k/99999999999999999999', /too large/],
    ['k/m/m', /is not an index/],
    [`k/${Array(33).fill('0').join('/')}`, /33 levels; at most 32/],
    [`k/${Array(256).fill('0').join('/')}`, /256 levels; at most 32/],
  ])('refuses %s', (name, message) => {
    let error: unknown;
    try {
      splitKeyName(name);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TsbError);
    expect((error as TsbError).errorCode).toBe(600);
    expect((error as TsbError).statusCode).toBe(400);
    expect((error as TsbError).message).toMatch(message);
  });

  it('accepts a path of the most levels a name may have, 32', () => {
    expect(splitKeyName(`k/${Array(32).fill("1'").join('/')}`).path).toHaveLength(32);
  });
});

describe('path helpers', () => {
  it('formats canonically and round-trips', () => {
    expect(formatDerivationPath(parseDerivationPath("m/44h/0H/0'/3"))).toBe("44'/0'/0'/3");
    expect(formatDerivationPath([])).toBe('');
  });

  it('converts between steps and BIP32 child numbers', () => {
    expect(childNumber(h(0))).toBe(HARDENED_OFFSET);
    expect(childNumber(h(2147483647))).toBe(0xffffffff);
    expect(childNumber(n(5))).toBe(5);
    expect(stepOf(0x80000005)).toEqual(h(5));
    expect(stepOf(5)).toEqual(n(5));
    expect(() => stepOf(2 ** 32)).toThrow(TsbError);
  });
});
