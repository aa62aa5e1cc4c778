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
  const results: CheckResult[] = [];
  const timings: AnalyzerTiming[] = [];
  for (const analyzer of analyzers) {
    const start = performance.now();
    try {
      results.push(...(await analyzer.run(set, options)));
    } catch (e) {
      if ((e as Error).name === 'InputError') throw e;
      results.push({
        check: `${analyzer.area}.internal`,
        requirement: '12.5.2',
        status: 'fail',
        message: `analyzer "${analyzer.title}" crashed: ${(e as Error).message}. This is a harness bug; please report it with the manifest set.`,
      });
    }
    timings.push({ area: analyzer.area, ms: performance.now() - start });
  }
  return { results, timings };
}

export function exitCodeFor(results: CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
