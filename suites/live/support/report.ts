import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../../harness/cluster/paths.ts';

/** Measured times of the live lane, kept for the README's numbers ($CACHE/live-timings/<what>.json). */
export function writeBootReport(what: string, data: unknown): void {
  const dir = join(cacheDir(), 'live-timings');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${what}.json`), `${JSON.stringify({ at: new Date().toISOString(), data }, null, 2)}\n`);
}

/**
 * Delete a scenario's own cluster and record what its file cost: boot, each
 * step, teardown — in $CACHE/live-timings/<scenario>.json and one line of output.
 */
export async function destroyOwnCluster(scenario: string, cluster: { name: string; bootMs: number; destroy(): Promise<void> } | undefined, steps: ReadonlyArray<{ step: string; ms: number }>): Promise<void> {
  const t0 = performance.now();
  await cluster?.destroy();
  const teardownMs = Math.round(performance.now() - t0);
  writeBootReport(scenario, { bootMs: cluster && Math.round(cluster.bootMs), steps, teardownMs });
  process.stdout.write(`\n${scenario} (own cluster ${cluster?.name ?? '-'}): boot ${cluster ? (cluster.bootMs / 1000).toFixed(1) : '-'} s, ${steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s`).join(', ')}, teardown ${(teardownMs / 1000).toFixed(1)} s\n`);
}
