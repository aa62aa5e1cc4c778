// Benchmark (not a timed test): per-analyzer time and peak memory on the
// shipped set and on a generated large cluster (5,000 pods, 1,000
// NetworkPolicies, 200 RBAC bindings), side by side in one run.
// Usage: node scripts/bench.ts [--skip-kyverno] [--runs N]
import { execa } from 'execa';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { defaultAnalyzers } from '../harness/check/analyzers.ts';
import { REPO_ROOT } from './cli/paths.ts';

const { values } = parseArgs({ options: { 'skip-kyverno': { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
const one = join(REPO_ROOT, 'scripts', 'bench', 'one.ts');

interface Figure { area: string; loadMs: number; medianMs: number; firstMs: number; peakRssMb: number; rssAfterLoadMb: number; objects: number; results: number }
async function measure(set: string, area: string): Promise<Figure> {
  const r = await execa(process.execPath, [one, set, area, values.runs], { cwd: REPO_ROOT });
  return JSON.parse(r.stdout) as Figure;
}

async function startup(args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await execa(process.execPath, args, { cwd: REPO_ROOT, reject: false });
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2]!;
}

const areas = defaultAnalyzers().map((a) => a.area).filter((a) => !(values['skip-kyverno'] && a === 'kyverno'));
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores; median of ${values.runs} runs per cell, one process per cell`);
console.log(`start-up: node -e 0 ${(await startup(['-e', '0'])).toFixed(0)} ms; pci-harness --version ${(await startup([join(REPO_ROOT, 'scripts', 'pci-harness.mjs'), '--version'])).toFixed(0)} ms`);
const rows: string[][] = [['analyzer', 'shipped first ms', 'shipped median ms', 'large ms', 'large peak RSS MB', 'large RSS over load MB', 'large results']];
const shippedLoad = await measure('shipped', 'load');
const largeLoad = await measure('large', 'load');
rows.push(['(load+parse)', shippedLoad.loadMs.toFixed(1), '-', largeLoad.loadMs.toFixed(1), largeLoad.peakRssMb.toFixed(0), '-', `${largeLoad.objects} objects`]);
let totalShipped = 0;
let totalFirst = shippedLoad.loadMs;
for (const area of areas) {
  const s = await measure('shipped', area);
  const l = await measure('large', area);
  totalShipped += s.medianMs;
  if (area !== 'kyverno') totalFirst += s.firstMs;
  rows.push([area, s.firstMs.toFixed(1), s.medianMs.toFixed(1), l.medianMs.toFixed(1), l.peakRssMb.toFixed(0), (l.peakRssMb - l.rssAfterLoadMb).toFixed(0), String(l.results)]);
}
rows.push(['total in-process (load + all but the Kyverno CLI)', totalFirst.toFixed(1), '', '', '', '', '']);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
