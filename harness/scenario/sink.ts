import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../tools/locate.ts';
import type { LiveResult } from './result.ts';

/**
 * Where live results go while vitest workers run them: one JSON line per
 * result in `$PCI_LIVE_RESULTS/results.jsonl` (`pci-harness run` points it at
 * the evidence package; default `$CACHE/live-results/latest`). The run merges
 * them and renders them with the offline reporters.
 */
export function liveResultsDir(): string {
  return process.env.PCI_LIVE_RESULTS || join(cacheDir(), 'live-results', 'latest');
}

export function recordLiveResults(results: readonly LiveResult[]): void {
  if (results.length === 0) return;
  const dir = liveResultsDir();
  mkdirSync(dir, { recursive: true });
  // The live lane's global setup names the cluster's CNI for every worker: each result carries it.
  const cni = process.env.PCI_LIVE_CNI;
  const stamp = (r: LiveResult): LiveResult => (r.cni || (cni !== 'calico' && cni !== 'cilium') ? r : { ...r, cni });
  appendFileSync(join(dir, 'results.jsonl'), results.map((r) => `${JSON.stringify(stamp(r))}\n`).join(''));
}

/** Every result recorded in `dir` (a torn last line from a killed worker is skipped, not fatal). */
export function readLiveResults(dir = liveResultsDir()): LiveResult[] {
  const file = join(dir, 'results.jsonl');
  if (!existsSync(file)) return [];
  const out: LiveResult[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LiveResult);
    } catch {
      // A worker killed mid-write leaves a partial line; the rest still counts.
    }
  }
  return out;
}
