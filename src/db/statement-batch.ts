/**
 * Group commit for one statement: the calls made in one turn of the event loop go to PostgreSQL together, as
 * one statement, and calls made while that statement runs go together once it is done. A lone call waits for
 * nothing. `run` gets the inputs in the order of the calls and answers one output per input, in that order;
 * when it fails, every call of its batch fails with its error, and the next batch runs as usual.
 */
export class StatementBatch<I, O> {
  private waiting: { input: I; resolve(output: O): void; reject(error: unknown): void }[] = [];
  private running = false;
  private scheduled = false;

  constructor(private readonly run: (inputs: readonly I[]) => Promise<readonly O[]>) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.running = true;
    try {
      const outputs = await this.run(batch.map((call) => call.input));
      if (outputs.length !== batch.length)
        throw new Error(`a batch of ${batch.length} calls answered ${outputs.length} outputs`);
      for (const [index, call] of batch.entries()) call.resolve(outputs[index]!);
    } catch (error) {
      for (const call of batch) call.reject(error);
    } finally {
      this.running = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }
}
