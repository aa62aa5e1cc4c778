/**
 * Progress lines with elapsed time, on stderr, so a person watching a 3-minute
 * boot knows which step is slow. Lines never carry secrets: callers pass step
 * names, not command lines.
 */
export type ProgressSink = (line: string) => void;

export const stderrSink: ProgressSink = (line) => process.stderr.write(`${line}\n`);

export class Progress {
  readonly #sink: ProgressSink;
  readonly #prefix: string;
  readonly #start = performance.now();
  /** Step name → duration in ms, in completion order: the README's measurements come from here. */
  readonly timings: Array<{ step: string; ms: number }> = [];

  constructor(prefix: string, sink: ProgressSink = stderrSink) {
    this.#prefix = prefix;
    this.#sink = sink;
  }

  elapsed(): number {
    return performance.now() - this.#start;
  }

  log(message: string): void {
    this.#sink(`[${this.#prefix} +${(this.elapsed() / 1000).toFixed(1)}s] ${message}`);
  }

  /** Run one named step: logs start and end with its own duration; rethrows with the step name attached. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    this.log(`${name} ...`);
    try {
      const value = await fn();
      const ms = performance.now() - t0;
      this.timings.push({ step: name, ms });
      this.log(`${name} done in ${(ms / 1000).toFixed(1)}s`);
      return value;
    } catch (e) {
      const ms = performance.now() - t0;
      this.log(`${name} FAILED after ${(ms / 1000).toFixed(1)}s`);
      throw e instanceof StepError ? e : new StepError(name, e);
    }
  }
}

/** A boot step failed: says which step, the cause, and where to look. */
export class StepError extends Error {
  readonly step: string;
  /** Extra pointers for the person reading the error (log dirs, commands to run). */
  readonly lookAt: string[] = [];

  constructor(step: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cluster boot step "${step}" failed: ${reason}`, { cause });
    this.name = 'StepError';
    this.step = step;
  }

  describe(): string {
    return [this.message, ...this.lookAt.map((l) => `  look at: ${l}`)].join('\n');
  }
}
