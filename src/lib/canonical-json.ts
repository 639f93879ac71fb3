/**
 * Canonical JSON: object keys sorted recursively, no whitespace, `undefined` members dropped.
 * Two equal values always give the same text, so a digest of it identifies the value.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
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
  const order: Record<string, true> = {};
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
