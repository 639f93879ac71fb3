/**
 * A value read from elsewhere (Redis, the database) at most once per `ttlMs`, by one read at a time,
 * for metrics scrapes: however often and however many scrapers ask, the source sees one query per period.
 * A read that fails or takes longer than `timeoutMs` gives null, and null is kept for the period too.
 */
export class CachedSnapshot<T> {
  private value: T | null = null;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<T | null> | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly options: { ttlMs: number; timeoutMs: number },
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T | null> {
    if (this.now() - this.readAt < this.options.ttlMs) return Promise.resolve(this.value);
    this.reading ??= this.readWithinTime().then((value) => {
      this.value = value;
      this.readAt = this.now();
      this.reading = null;
      return value;
    });
    return this.reading;
  }

  private async readWithinTime(): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.options.timeoutMs);
    });
    try {
      return await Promise.race([this.read().catch(() => null), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
