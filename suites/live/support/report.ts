import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../../harness/cluster/paths.ts';

/** Measured times of the live lane, kept for the README's numbers ($CACHE/live-timings/<what>.json). */
export function writeBootReport(what: string, data: unknown): void {
  const dir = join(cacheDir(), 'live-timings');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${what}.json`), `${JSON.stringify({ at: new Date().toISOString(), data }, null, 2)}\n`);
}
