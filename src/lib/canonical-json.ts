import { TsbError } from '../errors.js';

/**
 * Canonical JSON: object keys sorted recursively, no whitespace, `undefined` members dropped.
 * Two equal values always give the same text, and two different values of JSON.parse two different texts, so a
 * digest of it identifies the value: a member named `__proto__` is kept like any other, and a number JSON cannot
 * write (JSON.parse reads 1e999 as Infinity, which JSON.stringify would write as null) is refused (400).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'number' && !Number.isFinite(value)) throw nonFinite();
  if (value === null || typeof value !== 'object') return value;
  // no prototype: an own member "__proto__" stays a member instead of setting the copy's prototype
  const sorted: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[name];
    if (member !== undefined) sorted[name] = sortKeys(member);
  }
  return sorted;
}

/**
 * canonicalJson(value) of an object of JSON values (as JSON.parse gives), in pieces: one per member, and one
 * per element of a member that is an array. Their concatenation is canonicalJson(value); neither that whole
 * text nor a sorted copy of the whole value is ever held at once.
 */
export function* canonicalJsonPieces(value: Record<string, unknown>): Generator<string> {
  // the members in the order JSON.stringify lists those of the sorted copy canonicalJson makes (integer-like
  // names come first in any object, whatever the order they were added in)
  const order: Record<string, true> = Object.create(null);
  for (const name of Object.keys(value).sort()) if (value[name] !== undefined) order[name] = true;
  let first = true;
  yield '{';
  for (const name of Object.keys(order)) {
    const member = value[name];
    yield `${first ? '' : ','}${JSON.stringify(name)}:`;
    first = false;
    if (!Array.isArray(member)) {
      yield canonicalJson(member);
      continue;
    }
    yield '[';
    for (const [index, element] of member.entries()) {
      yield `${index === 0 ? '' : ','}${canonicalJson(element) ?? 'null'}`;
    }
    yield ']';
  }
  yield '}';
}

const nonFinite = () =>
  new TsbError('INPUT_VALIDATION_FAILED', 'a number JSON cannot write (such as 1e999) has no canonical form');
