import { performance } from 'node:perf_hooks';
import type { ManifestSet } from '../manifests/types.ts';
import type { Analyzer, CheckOptions, CheckResult } from './types.ts';

export interface AnalyzerTiming {
  area: string;
  ms: number;
}

export interface CheckRun {
  results: CheckResult[];
  timings: AnalyzerTiming[];
}

/**
 * Run every analyzer over the set. An analyzer that throws on valid input is
 * a harness bug, reported as a failed result of its area rather than a crash,
 * so one broken analyzer cannot hide the others' findings.
 */
export async function runAnalyzers(set: ManifestSet, analyzers: Analyzer[], options: CheckOptions = {}): Promise<CheckRun> {
  const runOne = async (analyzer: Analyzer): Promise<{ results: CheckResult[]; ms: number }> => {
    const start = performance.now();
    try {
      return { results: await analyzer.run(set, options), ms: performance.now() - start };
    } catch (e) {
      if ((e as Error).name === 'InputError') throw e;
      return {
        ms: performance.now() - start,
        results: [
          {
            check: `${analyzer.area}.internal`,
            requirement: '12.5.2',
            status: 'fail',
            message: `analyzer "${analyzer.title}" crashed: ${(e as Error).message}. This is a harness bug; please report it with the manifest set.`,
          },
        ],
      };
    }
  };
  // Analyzers that wait on a child process start first; the in-process ones run while it works.
  const external = new Map(analyzers.filter((a) => a.external).map((a) => [a, runOne(a)] as const));
  const outcomes = new Map<Analyzer, { results: CheckResult[]; ms: number }>();
  for (const a of analyzers) if (!a.external) outcomes.set(a, await runOne(a));
  for (const [a, p] of external) outcomes.set(a, await p);
  // Report order is the registry's order, whatever order they finished in.
  return {
    results: analyzers.flatMap((a) => outcomes.get(a)!.results),
    timings: analyzers.map((a) => ({ area: a.area, ms: outcomes.get(a)!.ms })),
  };
}

export function exitCodeFor(results: CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
