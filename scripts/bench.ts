// Benchmark (not a timed test): per-analyzer time and peak memory on the shipped set, on a generated
// large cluster (5,000 pods, 1,000 NetworkPolicies, 200 RBAC bindings) and on ten times that (50,000
// pods, 10,000 NetworkPolicies, 2,000 bindings), side by side in one run. Wall and CPU time both: on a
// shared machine the wall clock also measures the neighbours (the load average is printed).
// Usage: node scripts/bench.ts [--skip-kyverno] [--runs N] [--x10 network|all|none]
//   --x10 network (default): the 50,000-pod set for load+parse and the network analyzer; all: every analyzer.
import { execa } from 'execa';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { defaultAnalyzers } from '../harness/check/analyzers.ts';
import { REPO_ROOT } from './cli/paths.ts';
import { setDir } from './bench/sets.ts';

const { values } = parseArgs({
  options: { 'skip-kyverno': { type: 'boolean', default: false }, runs: { type: 'string', default: '3' }, x10: { type: 'string', default: 'network' } },
});
if (!['network', 'all', 'none'].includes(values.x10)) {
  console.error(`--x10 ${values.x10}: use network, all or none`);
  process.exit(2);
}
const one = join(REPO_ROOT, 'scripts', 'bench', 'one.ts');

interface Figure { area: string; loadMs: number; loadCpuMs: number; medianMs: number; medianCpuMs: number; firstMs: number; peakRssMb: number; rssAfterLoadMb: number; objects: number; results: number }
async function measure(set: string, area: string, runs = values.runs, env: Record<string, string> = {}): Promise<Figure> {
  const r = await execa(process.execPath, [one, set, area, runs], { cwd: REPO_ROOT, env });
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

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const areas = defaultAnalyzers().map((a) => a.area).filter((a) => !(values['skip-kyverno'] && a === 'kyverno'));
const x10Areas = values.x10 === 'all' ? areas : values.x10 === 'network' ? ['network'] : [];
const loadAtStart = load();
for (const name of ['large', ...(x10Areas.length ? ['x10'] : [])]) setDir(name); // generate (cached) before any clock starts
console.log(`${new Date().toISOString()} node ${process.version}, ${cpus().length} cores, load average ${loadAtStart}; median of ${values.runs} runs per cell (50k: 1 run), one process per cell`);
console.log(`start-up: node -e 0 ${(await startup(['-e', '0'])).toFixed(0)} ms; pci-harness --version ${(await startup([join(REPO_ROOT, 'scripts', 'pci-harness.mjs'), '--version'])).toFixed(0)} ms`);
const ms = (wall: number, cpu: number) => `${wall.toFixed(0)} (${cpu.toFixed(0)})`;
const rows: string[][] = [['analyzer', 'shipped first ms', 'shipped median ms', '5k ms (cpu)', '5k peak RSS MB', '5k results', '50k ms (cpu)', '50k peak RSS MB', '50k results']];
const shippedLoad = await measure('shipped', 'load');
const largeLoad = await measure('large', 'load');
const x10Load = x10Areas.length ? await measure('x10', 'load', '1') : undefined;
const x10Cells = (f: Figure | undefined, wall: number, cpu: number, results: string) => (f ? [ms(wall, cpu), f.peakRssMb.toFixed(0), results] : ['-', '-', '-']);
rows.push([
  '(load+parse)',
  shippedLoad.loadMs.toFixed(1),
  '-',
  ms(largeLoad.loadMs, largeLoad.loadCpuMs),
  largeLoad.peakRssMb.toFixed(0),
  `${largeLoad.objects} objects`,
  ...x10Cells(x10Load, x10Load?.loadMs ?? 0, x10Load?.loadCpuMs ?? 0, `${x10Load?.objects} objects`),
]);
// The same 50k parse on one thread, side by side (sets of 8 MB or more parse on every core: harness/manifests/parse-parallel.ts).
const x10LoadSequential = x10Areas.length ? await measure('x10', 'load', '1', { PCI_HARNESS_YAML_THREADS: '1' }) : undefined;
if (x10LoadSequential) rows.push(['(load+parse, one thread)', '', '', '', '', '', ...x10Cells(x10LoadSequential, x10LoadSequential.loadMs, x10LoadSequential.loadCpuMs, `${x10LoadSequential.objects} objects`)]);
let totalFirst = shippedLoad.loadMs;
for (const area of areas) {
  const s = await measure('shipped', area);
  const l = await measure('large', area);
  const x = x10Areas.includes(area) ? await measure('x10', area, '1') : undefined;
  if (area !== 'kyverno') totalFirst += s.firstMs;
  rows.push([area, s.firstMs.toFixed(1), s.medianMs.toFixed(1), ms(l.medianMs, l.medianCpuMs), l.peakRssMb.toFixed(0), String(l.results), ...x10Cells(x, x?.medianMs ?? 0, x?.medianCpuMs ?? 0, String(x?.results))]);
  if (x && area === 'network' && x10Load)
    rows.push(['  50k load+network, one process', '', '', '', '', '', ms(x.loadMs + x.medianMs, x.loadCpuMs + x.medianCpuMs), x.peakRssMb.toFixed(0), '']);
}
rows.push(['total in-process (load + all but the Kyverno CLI)', totalFirst.toFixed(1), '', '', '', '', '', '', '']);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
console.log(`load average at the end ${load()}`);
