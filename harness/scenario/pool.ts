/**
 * Run `fn` over `items` with at most `n` in flight, results in input order.
 * The live lane's probes are short kubectl calls against an apiserver and
 * Kyverno that share two cores with the rest of the run: a small pool keeps
 * the machine responsive where an unbounded Promise.all would not.
 */
export async function inPool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
