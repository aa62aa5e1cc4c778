// Child process of scripts/bench.ts: load one set, run one analyzer, print JSON.
// One process per measurement so peak memory (maxRSS) belongs to that analyzer alone.
import { performance } from 'node:perf_hooks';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { setDir } from './sets.ts';

const [setName, area, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const dir = setDir(setName ?? 'shipped'); // generated before the clock starts when the parent has not already
// CPU time next to wall time: on a shared machine the wall clock also measures the neighbours.
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const loadStart = performance.now();
const loadCpu = process.cpuUsage();
const set = loadManifestDir(dir);
const loadMs = performance.now() - loadStart;
const loadCpuMs = cpuMs(process.cpuUsage(loadCpu));
const rssAfterLoad = process.memoryUsage().rss;
const analyzer = defaultAnalyzers().find((a) => a.area === area);
const times: number[] = [];
const cpuTimes: number[] = [];
let results = 0;
if (analyzer) {
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    results = (await analyzer.run(set, {})).length;
    times.push(performance.now() - t);
    cpuTimes.push(cpuMs(process.cpuUsage(c)));
  }
}
const firstMs = times[0] ?? 0; // what a one-shot `pci-harness check` pays (cold JIT, lazy schema compile)
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : 0);
process.stdout.write(
  JSON.stringify({
    set: setName,
    area: area ?? 'load',
    objects: set.objects.length,
    loadMs,
    loadCpuMs,
    medianMs: median(times),
    medianCpuMs: median(cpuTimes),
    firstMs,
    results,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssAfterLoadMb: rssAfterLoad / 1024 / 1024,
  }),
);
