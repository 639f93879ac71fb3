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
