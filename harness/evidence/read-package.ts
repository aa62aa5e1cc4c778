import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from '../check/types.ts';
import type { BuildRecord } from '../images/record.ts';
import { versionsFromRecord, type RunContext, type RunReport } from '../report/run-report.ts';
import type { VitestOutcome } from '../report/vitest-outcome.ts';
import type { LiveResult } from '../scenario/result.ts';

/**
 * A RunReport read back from an evidence package's files (check.json,
 * live.json, live.vitest.json, images.json, run.json), so a package can be
 * re-rendered without the run. Packages written before run.json existed get
 * what summary.md says of the run (commit, stamp, time).
 */
export const RUN_CONTEXT_FILE = 'run.json';

interface JsonResults {
  requirements: Array<{ requirement: string; title: string }>;
  results: Array<Record<string, unknown>>;
}

/** JSON's nulls back to absent fields (the reporters write `null` for "none"). */
function result(r: Record<string, unknown>): CheckResult {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (v !== null && !(k === 'lane' && v === 'offline')) out[k] = v;
  return out as unknown as CheckResult;
}

const readJson = <T>(p: string): T | undefined => (existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : undefined);

function contextFromSummary(dir: string): RunContext {
  const md = existsSync(join(dir, 'summary.md')) ? readFileSync(join(dir, 'summary.md'), 'utf8') : '';
  const field = (name: string) => new RegExp(`^- ${name}: (.*)$`, 'm').exec(md)?.[1];
  const run = /^(\S+) \((\d+) s\)$/.exec(field('run') ?? '');
  const stamp = run?.[1] ?? 'unknown';
  const iso = stamp.replace(/^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/, '$1:$2:$3.$4Z');
  const seconds = Number(run?.[2] ?? 0);
  const finished = Number.isNaN(Date.parse(iso)) ? iso : new Date(Date.parse(iso) + seconds * 1000).toISOString();
  const exit = Number(/exit (\d+)/.exec(field('verdict') ?? '')?.[1] ?? 3);
  return {
    version: /pci-harness (\S+)/.exec(md)?.[1] ?? 'unknown',
    runId: stamp,
    startedAt: iso,
    finishedAt: finished,
    commit: field('commit') ?? 'unknown',
    manifests: field('manifests') ?? 'manifests',
    manifestDigest: 'not recorded (package written before run.json)',
    imageSource: (field('image source') ?? 'unknown').replace(/ \(.*$/, ''),
    versions: { images: [] },
    timings: seconds ? [{ step: 'whole run', seconds }] : [],
    verdict: { code: exit, reasons: [] },
  };
}

export function readPackage(dir: string): RunReport {
  const check = readJson<JsonResults>(join(dir, 'check.json'));
  if (!check) throw new Error(`${dir}: no check.json — not an evidence package of pci-harness run`);
  const live = readJson<JsonResults>(join(dir, 'live.json'));
  const record = readJson<BuildRecord>(join(dir, 'images.json'));
  const context = readJson<RunContext>(join(dir, RUN_CONTEXT_FILE)) ?? { ...contextFromSummary(dir), versions: versionsFromRecord(record) };
  const titles = Object.fromEntries([...check.requirements, ...(live?.requirements ?? [])].map((r) => [r.requirement, r.title]));
  return {
    context,
    offline: check.results.map(result),
    ...(live ? { live: live.results.map(result) as LiveResult[] } : { liveNotRun: 'not run (no live.json in the package)' }),
    titles,
    ...(existsSync(join(dir, 'live.vitest.json')) ? { vitest: readJson<VitestOutcome>(join(dir, 'live.vitest.json')) as VitestOutcome } : {}),
  };
}
