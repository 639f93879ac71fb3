/**
 * The partition backup format (docs/security-officers.md), shared by the export (partition-backup-export.ts)
 * and the restore (partition-backup.ts): its constants, the columns of each table and how a row is written,
 * the MAC key, and the opening of the partition key under the master key.
 */
import { hkdfSync } from 'node:crypto';
import { keyColumnBinding, partitionKeyBinding, seal, UnsealError, unseal } from '../crypto/seal.js';
import { TsbError } from '../errors.js';

export const BACKUP_FORMAT = 'opentsb-partition-backup';
/**
 * 2: each key's password verifier sealed under the partition key (`passwordHashSealed`). 1 (written up to and
 * including commit 71cd384): the verifier in clear (`passwordHash`); still restored.
 */
export const BACKUP_VERSION = 2;
export const READABLE_VERSIONS: readonly number[] = [1, BACKUP_VERSION];
/** The key column a version-2 backup carries sealed, and the member that holds it sealed. */
export const PASSWORD_HASH = 'passwordHash';
export const PASSWORD_HASH_SEALED = 'passwordHashSealed';
/** HKDF info of the backup MAC key: a fixed string, so no other use of the master key yields the same key. */
const MAC_KEY_INFO = 'opentsb:partition-backup-mac:v1';

/** Which columns of each table are bytes (base64 in the file), times (ISO-8601) or big integers (decimal text). */
export const COLUMNS = {
  partition: {
    bytes: [
      'partitionKeySealed',
      'attestationKeySealed',
      'attestationPublicKey',
      'timestampKeySealed',
      'timestampPublicKey',
      'attestationCertificate',
      'timestampCertificate',
    ],
    dates: ['createdAt'],
    bigints: [],
  },
  key: {
    bytes: ['publicKey', 'certificate', 'materialSealed', 'chainCode', PASSWORD_HASH_SEALED],
    dates: ['invalidatedAt', 'createdAt', 'updatedAt'],
    bigints: ['useCount', 'statefulNext', 'statefulLimit'],
  },
  officer: { bytes: ['publicKey'], dates: ['createdAt', 'revokedAt'], bigints: [] },
} as const satisfies Record<string, Columns>;

export type Row = Record<string, unknown>;

export interface Columns {
  bytes: readonly string[];
  dates: readonly string[];
  bigints: readonly string[];
}

export interface PartitionBackupDocument {
  format: typeof BACKUP_FORMAT;
  /** BACKUP_VERSION when written; a restore reads every READABLE_VERSIONS */
  version: number;
  createdAt: string;
  partition: Row;
  keys: Row[];
  officers: Row[];
  /** base64 HMAC-SHA256 over the canonical JSON of every other member */
  mac: string;
}

/** The key of the backup MAC (HMAC-SHA256), derived from the master key. */
export function backupMacKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), MAC_KEY_INFO, 32));
}

/** The clear partition key (the caller wipes it), refused when it does not open under this master key. */
export function openPartitionKey(masterKey: Buffer, id: string, sealed: Uint8Array): Buffer {
  try {
    return unseal(masterKey, sealed, partitionKeyBinding(id));
  } catch (error) {
    if (error instanceof UnsealError) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition key of the backup does not open under this master key',
      );
    }
    throw error;
  }
}

export function encodeRow(row: object, columns: Columns): Row {
  const encoded: Row = {};
  for (const [name, value] of Object.entries(row)) {
    if (value === null || value === undefined) encoded[name] = null;
    else if (columns.bytes.includes(name))
      encoded[name] = Buffer.from(value as Uint8Array).toString('base64');
    else if (columns.dates.includes(name)) encoded[name] = (value as Date).toISOString();
    else if (columns.bigints.includes(name)) encoded[name] = String(value);
    else encoded[name] = value;
  }
  return encoded;
}

/**
 * A key row as a backup carries it: the password verifier (scrypt; it lets whoever holds it test passwords
 * offline) sealed under the partition key, bound to the partition, the key id and the column name, instead of
 * in clear. A key without a password has `passwordHashSealed: null`.
 */
export function sealPasswordHash(
  key: { id: string; partitionId: string; passwordHash: string | null },
  partitionKey: Buffer,
): Row {
  const { passwordHash, ...row } = key;
  return {
    ...row,
    [PASSWORD_HASH_SEALED]:
      passwordHash === null
        ? null
        : seal(
            partitionKey,
            Buffer.from(passwordHash, 'utf8'),
            keyColumnBinding(key.partitionId, key.id, PASSWORD_HASH),
          ),
  };
}
