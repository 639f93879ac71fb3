/**
 * Secrets never reach a log line. Request bodies are not logged at all (the request serializer keeps
 * method, URL and peer); this is the second line: whatever object a log call or an error carries, a field
 * whose name is a secret of the TSB wire format or of our own rows is replaced by `[redacted]`, at any
 * depth. pino's own redaction (fast-redact) only covers the header paths: its wildcard paths would cost
 * ~100 µs per request line, while this check looks at the top-level keys of each line and walks deeper
 * only into plain objects and errors, which request lines do not carry.
 */
import { stdSerializers, stdTimeFunctions } from 'pino';

export const CENSOR = '[redacted]';

/** Secrets that may travel in headers (for loggers that serialize headers). */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
];

/**
 * Field names (lower case, without `-` and `_`) whose values are secrets: key passwords of every request
 * (password, keyPassword, newPassword, masterKeyPassword, wrapKeyPassword, unwrapKeyPassword,
 * keyToBeWrappedPassword: all end in "password"), key material (privateKey, secretKey, wrappedKey),
 * payloads (plaintext to encrypt, decrypted results, data to sign), credentials, and our sealed columns
 * (…Sealed) and password verifiers (passwordHash).
 */
const SECRET_NAMES = new Set([
  'privatekey',
  'secretkey',
  'wrappedkey',
  'payload',
  'plaintext',
  'masterkey',
  'partitionkey',
  'seed',
  'mnemonic',
  'chaincode',
  'secret',
  'sharedsecret',
  'token',
  'accesstoken',
  'apikey',
  'xapikey',
  'authorization',
  'cookie',
  'setcookie',
  'passwordhash',
]);
const MAX_DEPTH = 8;
/** keys pino serializes itself: req and res (their serializers keep no body), err (censored below) */
const SERIALIZED_KEYS = new Set(['req', 'res', 'err']);

export function isSecretField(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[-_]/g, '');
  return normalized.endsWith('password') || normalized.endsWith('sealed') || SECRET_NAMES.has(normalized);
}

/** A copy of `value` with every secret field censored; `value` itself is never changed. */
export function censorSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  // Buffers, Dates, URLs: JSON renders them through toJSON; a secret among them is caught by its field name
  if (!Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => censorSecrets(item, depth + 1, seen));
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      copy[key] = isSecretField(key) ? CENSOR : censorSecrets(field, depth + 1, seen);
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

/** pino `formatters.log`: the object of one log call, censored; the same object when there is nothing to do. */
export function censorLogObject(object: Record<string, unknown>): Record<string, unknown> {
  let censored: Record<string, unknown> | null = null;
  for (const key of Object.keys(object)) {
    const value = object[key];
    let replacement: unknown = value;
    if (isSecretField(key)) replacement = CENSOR;
    else if (!SERIALIZED_KEYS.has(key) && value !== null && typeof value === 'object') {
      replacement = censorSecrets(value);
    }
    if (replacement !== value) {
      censored ??= { ...object };
      censored[key] = replacement;
    }
  }
  return censored ?? object;
}

/** pino's error serializer (message, stack, causes, own fields), then every secret field censored. */
export function serializeError(error: Error): ReturnType<typeof stdSerializers.err> {
  return censorSecrets(stdSerializers.err(error)) as ReturnType<typeof stdSerializers.err>;
}

/** The redaction part of every pino logger of OpenTSB (API and worker). */
export const LOG_REDACTION = {
  redact: { paths: REDACTED_LOG_PATHS, censor: CENSOR },
  serializers: { err: serializeError },
  formatters: { log: censorLogObject },
};

/** The options of every pino logger of OpenTSB (API, worker): secrets redacted, ISO 8601 time (UTC). */
export const LOG_OPTIONS = { ...LOG_REDACTION, timestamp: stdTimeFunctions.isoTime };
