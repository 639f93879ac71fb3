import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PARTITION_NAME_PATTERN } from './lib/partition-name.js';
import { PROJECT_ROOT } from './lib/project-root.js';

/** The host names requests without credentials may address in the mode without authentication, by default. */
export const AUTH_NONE_DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** A host name as TSB_AUTH_NONE_HOSTS and a request's Host header are compared: lower case, no IPv6 brackets. */
export const canonicalHostName = (host: string): string =>
  host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');

/**
 * The only reader of process.env. Everything else receives a frozen Config.
 * Every problem is collected, so one start-up names all bad or missing variables at once.
 */
export interface Config {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  /** 32-byte master key given by the operator, or null: the service then uses/creates a development key in dataDir. */
  masterKey: Buffer | null;
  tls: null | { certFile: string; keyFile: string; clientCaFile: string | null };
  /**
   * Development mode without authentication (TSB_AUTH_NONE_PARTITION): requests with no credentials act with
   * every TSB role (not securityOfficer) in this one partition. null = every request needs credentials. Never with TLS client authentication.
   */
  authNonePartition: string | null;
  /**
   * Host names (of the request's Host header, lower case, without port) that requests without credentials must
   * address in that mode; '*' = any. A DNS-rebinding page or another machine on the network names another host.
   */
  authNoneHosts: readonly string[];
  jwt: {
    /** PEM public key (or certificate) used to verify bearer tokens; null = the service's own issuer key in dataDir. */
    publicKeyFile: string | null;
    /** PEM private key `tsb token issue` signs with; null = the service's own issuer key in dataDir. */
    privateKeyFile: string | null;
    issuer: string;
    audience: string;
    clockToleranceSeconds: number;
  };
  keyCacheSize: number;
  bodyLimitBytes: number;
  /** a request must arrive whole within this time (slow clients get 408 and are cut off); idle connections close after it */
  requestTimeoutMs: number;
  runMigrations: boolean;
  /**
   * requests per authenticated caller and window, counted in Redis across processes; max 0 = no limit.
   * unauthenticatedMax: refused authentications per client address and window (0 = no limit).
   */
  rateLimit: { max: number; windowSeconds: number; unauthenticatedMax: number };
  workflow: {
    /** run the SKA workflow worker (BullMQ) in this process; `npm run worker` runs it on its own */
    runWorker: boolean;
    /** prefix of the BullMQ keys in Redis, so several deployments (or test runs) can share one Redis */
    queuePrefix: string;
    /** how often each worker looks in the database for requests whose time has come (a safety net for lost timers) */
    sweepIntervalMs: number;
    /** how far in the past / future an approver's signed timestamp (or pre-signed approval) may be */
    approvalWindow: { pastSeconds: number; futureSeconds: number };
    /** PEM or DER certificate files of timestamp signers, which may list every approver's tasks but never approve */
    timestampSignerCertificateFiles: string[];
    /** how long the approval that completes a quorum (no timelock) waits for the execution to be stored; 0 = no wait */
    executionWaitMs: number;
    /** open (PENDING or APPROVED) requests a partition may have; one more is 429 / 900; 0 = no limit */
    maxOpenRequests: number;
    /** days an ended request (with its tasks) is kept after its last change before the sweep deletes it; 0 = for ever */
    requestRetentionDays: number;
  };
  officers: {
    /** how long a security officer proposal waits for its second officer before it expires */
    proposalLifetimeSeconds: number;
    /** how far in the past / future the `proposedAt` of a proposal statement may be when it is submitted */
    statementWindow: { pastSeconds: number; futureSeconds: number };
  };
  operations: {
    /** bearer token `GET /metrics` requires; null = see metricsOpen */
    metricsToken: string | null;
    /**
     * without a token: true = /metrics is open like /healthz (development, or TSB_METRICS_PUBLIC=true); false =
     * it answers 401 (NODE_ENV=production without TSB_METRICS_TOKEN, as Vault keeps its metrics behind a token)
     */
    metricsOpen: boolean;
    /** `npm run worker` serves /healthz, /readyz and /metrics on this port; null = no HTTP listener */
    workerHttpPort: number | null;
    /** how long SIGTERM waits for running requests and jobs before the process exits anyway */
    shutdownGraceMs: number;
  };
  audit: {
    /** a checkpoint signed by the partition's attestation key after every this many entries of its chain */
    checkpointEvery: number;
    /** largest export POST /v1/audit/verify accepts (bigger logs: `tsb audit verify`) */
    verifyBodyLimitBytes: number;
    /** refused unauthenticated requests are logged as one summary entry per address, reason and window */
    refusalSummary: { windowSeconds: number; maxAddresses: number };
    /** entries are pruned (behind a signed statement) this many days after their checkpoint; 0 = kept for ever */
    retentionDays: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The widest approval freshness window a process may be given (the spent-approval records outlive it). */
export const APPROVAL_WINDOW_LIMITS = { pastSeconds: 86_400, futureSeconds: 3_600 } as const;

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const text = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value === '' ? fallback : value;
  };
  const optional = (name: string): string | null => {
    const value = env[name];
    return value === undefined || value === '' ? null : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const readableFile = (name: string): string | null => {
    const file = optional(name);
    if (file !== null && !existsSync(file))
      problems.push(`${name} points to "${file}", which does not exist`);
    return file;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const value = text(name, fallback);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return value;
  };

  const logLevel = text('LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const masterKey = readMasterKey(env, problems);

  const certFile = readableFile('TLS_CERT_FILE');
  const keyFile = readableFile('TLS_KEY_FILE');
  const clientCaFile = readableFile('TLS_CLIENT_CA_FILE');
  if ((certFile === null) !== (keyFile === null)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be given together');
  }
  if (clientCaFile !== null && certFile === null) {
    problems.push('TLS_CLIENT_CA_FILE (mutual TLS) needs TLS_CERT_FILE and TLS_KEY_FILE');
  }

  const authNonePartition = optional('TSB_AUTH_NONE_PARTITION');
  if (authNonePartition !== null) {
    if (!PARTITION_NAME_PATTERN.test(authNonePartition)) {
      problems.push(
        `TSB_AUTH_NONE_PARTITION must be a partition name (1-64 letters, digits, ".", "_" or "-"; got "${authNonePartition}")`,
      );
    }
    if (clientCaFile !== null) {
      problems.push(
        'TSB_AUTH_NONE_PARTITION (no authentication) cannot be used with TLS client authentication (TLS_CLIENT_CA_FILE)',
      );
    }
  }

  const authNoneHosts = (optional('TSB_AUTH_NONE_HOSTS') ?? AUTH_NONE_DEFAULT_HOSTS.join(','))
    .split(',')
    .map(canonicalHostName)
    .filter((host) => host !== '');
  if (authNoneHosts.length === 0) {
    problems.push('TSB_AUTH_NONE_HOSTS must list at least one host name (or * for any)');
  }

  const metricsToken = readMetricsToken(optional('TSB_METRICS_TOKEN'), problems);
  const metricsPublic = text('TSB_METRICS_PUBLIC', 'false') === 'true';
  if (metricsPublic && metricsToken !== null) {
    problems.push('give either TSB_METRICS_TOKEN or TSB_METRICS_PUBLIC=true, not both');
  }

  const config: Config = {
    host: text('HOST', '0.0.0.0'),
    port: integer('PORT', 8080, 0, 65535),
    logLevel: logLevel as Config['logLevel'],
    databaseUrl: url('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/opentsb', [
      'postgresql:',
      'postgres:',
    ]),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    // relative to the OpenTSB folder, not the current directory: every process and `tsb` finds the same keys
    dataDir: path.resolve(PROJECT_ROOT, text('TSB_DATA_DIR', 'data')),
    masterKey,
    tls: certFile && keyFile ? { certFile, keyFile, clientCaFile } : null,
    authNonePartition,
    authNoneHosts,
    jwt: {
      publicKeyFile: readableFile('JWT_PUBLIC_KEY_FILE'),
      privateKeyFile: readableFile('JWT_PRIVATE_KEY_FILE'),
      issuer: text('JWT_ISSUER', 'opentsb'),
      audience: text('JWT_AUDIENCE', 'opentsb'),
      clockToleranceSeconds: integer('JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 600),
    },
    keyCacheSize: integer('TSB_KEY_CACHE_SIZE', 10_000, 1, 10_000_000),
    bodyLimitBytes: integer('TSB_BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    requestTimeoutMs: integer('TSB_REQUEST_TIMEOUT_MS', 30_000, 500, 600_000),
    runMigrations: text('TSB_RUN_MIGRATIONS', 'true') !== 'false',
    rateLimit: {
      max: integer('TSB_RATE_LIMIT_MAX', 1000, 0, 10_000_000),
      windowSeconds: integer('TSB_RATE_LIMIT_WINDOW_SECONDS', 1, 1, 86_400),
      unauthenticatedMax: integer('TSB_RATE_LIMIT_UNAUTHENTICATED_MAX', 20, 0, 10_000_000),
    },
    workflow: {
      runWorker: text('TSB_WORKFLOW_WORKER', 'true') !== 'false',
      queuePrefix: text('TSB_QUEUE_PREFIX', 'opentsb'),
      sweepIntervalMs: integer('TSB_WORKFLOW_SWEEP_MS', 5_000, 100, 3_600_000),
      approvalWindow: {
        pastSeconds: integer(
          'TSB_APPROVAL_TIMESTAMP_PAST_SECONDS',
          600,
          0,
          APPROVAL_WINDOW_LIMITS.pastSeconds,
        ),
        futureSeconds: integer(
          'TSB_APPROVAL_TIMESTAMP_FUTURE_SECONDS',
          0,
          0,
          APPROVAL_WINDOW_LIMITS.futureSeconds,
        ),
      },
      timestampSignerCertificateFiles: (optional('TSB_TIMESTAMP_SIGNER_CERT_FILES') ?? '')
        .split(',')
        .map((file) => file.trim())
        .filter((file) => file !== '')
        .map((file) => {
          if (!existsSync(file))
            problems.push(`TSB_TIMESTAMP_SIGNER_CERT_FILES names "${file}", which does not exist`);
          return file;
        }),
      executionWaitMs: integer('TSB_APPROVAL_EXECUTION_WAIT_MS', 2_000, 0, 10_000),
      maxOpenRequests: integer('TSB_MAX_OPEN_REQUESTS', 10_000, 0, 100_000_000),
      requestRetentionDays: integer('TSB_REQUEST_RETENTION_DAYS', 90, 0, 36_500),
    },
    officers: {
      proposalLifetimeSeconds: integer('TSB_OFFICER_PROPOSAL_LIFETIME_SECONDS', 3_600, 60, 30 * 86_400),
      statementWindow: {
        pastSeconds: integer('TSB_OFFICER_STATEMENT_PAST_SECONDS', 300, 0, 86_400),
        futureSeconds: integer('TSB_OFFICER_STATEMENT_FUTURE_SECONDS', 60, 0, 3_600),
      },
    },
    operations: {
      metricsToken,
      metricsOpen: metricsToken === null && (metricsPublic || env.NODE_ENV !== 'production'),
      workerHttpPort: integer('TSB_WORKER_HTTP_PORT', 0, 0, 65535) || null,
      shutdownGraceMs: integer('TSB_SHUTDOWN_GRACE_MS', 10_000, 1_000, 600_000),
    },
    audit: {
      checkpointEvery: integer('TSB_AUDIT_CHECKPOINT_EVERY', 256, 1, 1_000_000),
      verifyBodyLimitBytes: integer('TSB_AUDIT_VERIFY_LIMIT_BYTES', 67_108_864, 1024, 1_073_741_824),
      refusalSummary: {
        windowSeconds: integer('TSB_AUDIT_REFUSAL_WINDOW_SECONDS', 10, 1, 3_600),
        maxAddresses: integer('TSB_AUDIT_REFUSAL_MAX_ADDRESSES', 100, 1, 100_000),
      },
      retentionDays: integer('TSB_AUDIT_RETENTION_DAYS', 0, 0, 36_500),
    },
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

function readMetricsToken(token: string | null, problems: string[]): string | null {
  if (token !== null && !/^[\x21-\x7e]{16,}$/.test(token)) {
    problems.push('TSB_METRICS_TOKEN must be at least 16 printable characters without spaces');
  }
  return token;
}

function readMasterKey(env: Env, problems: string[]): Buffer | null {
  const inline = env.TSB_MASTER_KEY;
  const file = env.TSB_MASTER_KEY_FILE;
  if (inline && file) {
    problems.push('give either TSB_MASTER_KEY or TSB_MASTER_KEY_FILE, not both');
    return null;
  }
  let encoded: string | undefined = inline;
  let source = 'TSB_MASTER_KEY';
  if (file) {
    source = 'TSB_MASTER_KEY_FILE';
    if (!existsSync(file)) {
      problems.push(`TSB_MASTER_KEY_FILE points to "${file}", which does not exist`);
      return null;
    }
    encoded = readFileSync(file, 'utf8').trim();
  }
  if (!encoded) return null;
  const key = decodeMasterKey(encoded);
  if (!key) {
    problems.push(`${source} must be 32 bytes in base64 (44 characters), e.g. from: openssl rand -base64 32`);
    return null;
  }
  return key;
}

export function decodeMasterKey(encoded: string): Buffer | null {
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 ? key : null;
}
