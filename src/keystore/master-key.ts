import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeMasterKey } from '../config.js';

export interface MasterKeySource {
  key: Buffer;
  /** true when the key was read from or created in the data folder rather than given by the operator */
  development: boolean;
  file: string | null;
}

/**
 * The operator's master key, or a development key kept in `<dataDir>/master.key` (created on first use).
 * A development key is for trying OpenTSB out: whoever reads the data folder can open every key.
 */
export function resolveMasterKey(configured: Buffer | null, dataDir: string): MasterKeySource {
  if (configured) return { key: configured, development: false, file: null };
  const file = path.join(dataDir, 'master.key');
  if (existsSync(file)) {
    const key = decodeMasterKey(readFileSync(file, 'utf8'));
    if (!key) throw new Error(`${file} does not hold a 32-byte base64 master key`);
    return { key, development: true, file };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, development: true, file };
}

export const DEVELOPMENT_KEY_WARNING = (file: string | null): string =>
  `USING A DEVELOPMENT MASTER KEY from ${file}: anyone who can read this file can decrypt every key. ` +
  'Set TSB_MASTER_KEY or TSB_MASTER_KEY_FILE (32 bytes, base64) before storing real keys.';
