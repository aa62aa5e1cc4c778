import pRetry from 'p-retry';

/**
 * Poll `probe` until `done` holds or `timeoutMs` passes (CNI programming lag,
 * webhook start-up). Returns the last value either way: the caller decides
 * what a value that never settled means. p-retry runs the loop.
 */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<{ value: T; attempts: number; settled: boolean }> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 1_000;
  let last: { value: T } | undefined;
  let attempts = 0;
  try {
    await pRetry(
      async () => {
        attempts++;
        last = { value: await probe() };
        if (!done(last.value)) throw new Error('not settled');
      },
      { retries: Math.max(1, Math.ceil(timeoutMs / intervalMs)), factor: 1, minTimeout: intervalMs, maxTimeout: intervalMs, randomize: false, maxRetryTime: timeoutMs },
    );
  } catch {
    // Not settled in time: `settled: false` says so.
  }
  if (!last) throw new Error('pollUntil: the probe never ran');
  return { value: last.value, attempts, settled: done(last.value) };
}
