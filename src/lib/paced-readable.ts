import { Readable } from 'node:stream';

/** Thrown to a producer whose reader went away (the stream was destroyed). */
export class ReaderGoneError extends Error {
  constructor() {
    super('the reader of the stream went away');
    this.name = 'ReaderGoneError';
  }
}

/** The stream's error when its reader wanted nothing more for too long: it went away without saying so. */
export class ReaderStalledError extends ReaderGoneError {
  constructor(stallMs: number) {
    super();
    this.message = `the reader of the stream read nothing for ${stallMs / 1000} s`;
    this.name = 'ReaderStalledError';
  }
}

export interface PacedReadableOptions {
  /** how long a write may wait for the reader before the stream is destroyed (ReaderStalledError); none: forever */
  stallMs?: number;
}

/**
 * A byte stream its producer writes into at the reader's pace: `write` resolves once the reader wants more,
 * so no more than about one write waits in memory, and it rejects once the stream was destroyed (the client
 * left, stopped reading for `stallMs`, or the producer failed), so a producer stops early.
 */
export class PacedReadable extends Readable {
  private wanted: (() => void) | null = null;

  constructor(private readonly paced: PacedReadableOptions = {}) {
    super();
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.destroyed) throw new ReaderGoneError();
    if (!this.push(chunk)) {
      const { stallMs } = this.paced;
      const stalled =
        stallMs === undefined
          ? null
          : setTimeout(() => this.destroy(new ReaderStalledError(stallMs)), stallMs);
      await new Promise<void>((resolve) => {
        this.wanted = resolve;
      });
      if (stalled) clearTimeout(stalled);
      if (this.destroyed) throw new ReaderGoneError();
    }
  }

  /** The end of the stream: the reader gets everything written, then its end. */
  finish(): void {
    this.push(null);
  }

  override _read(): void {
    this.release();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.release();
    callback(error);
  }

  private release(): void {
    const wanted = this.wanted;
    this.wanted = null;
    wanted?.();
  }
}
