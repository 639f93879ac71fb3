import type { Logger } from './logger.js';

/** How often a reminder is logged while the outage lasts. */
const REMINDER_INTERVAL_MS = 60_000;

/**
 * The log of a dependency that comes and goes (Redis): its failure is logged once when it starts, then a
 * reminder at most once a minute (with how many failures it saw), and its return once. A reconnecting client
 * reports a failure on every attempt; logging each, with its stack, would bury everything else in the log.
 */
export class OutageLog {
  private downSince: number | null = null;
  private lastLine = 0;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    /** e.g. "Redis (workflow worker)" */
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  failed(error: unknown): void {
    const now = this.now();
    this.failures++;
    const reason = describe(error);
    if (this.downSince === null) {
      this.downSince = now;
      this.lastLine = now;
      this.failures = 0;
      this.log.warn({ reason }, `${this.what} unreachable; retrying (reminders once a minute)`);
    } else if (now - this.lastLine >= REMINDER_INTERVAL_MS) {
      this.lastLine = now;
      this.log.warn(
        { reason, downForSeconds: Math.round((now - this.downSince) / 1000), failedAttempts: this.failures },
        `${this.what} still unreachable`,
      );
      this.failures = 0;
    }
  }

  recovered(): void {
    if (this.downSince === null) return;
    const downForSeconds = Math.round((this.now() - this.downSince) / 1000);
    this.downSince = null;
    this.log.info({ downForSeconds }, `${this.what} reachable again`);
  }

  get down(): boolean {
    return this.downSince !== null;
  }
}

/** The message and code of an error, without its stack (a refused connection's stack says nothing). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
