/**
 * The bytes of an audit log statement as docs/audit-log.md defines them, written apart from src/features/audit so
 * that tests check the service against the documentation: each field a 4-byte big-endian length and its bytes
 * (text as UTF-8).
 */
export function statementFromDocs(...fields: ReadonlyArray<string | Buffer>): Buffer {
  return Buffer.concat(
    fields.flatMap((value) => {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}
