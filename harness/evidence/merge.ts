import type { KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import type { RunContext, RunReport } from '../report/run-report.ts';
import type { VitestOutcome } from '../report/vitest-outcome.ts';
import { ATTESTATION_FILE, keyId, verifyPackage, type Envelope, type PackageVerification } from './attest.ts';

/**
 * `pci-harness merge`: several shard packages (`run --shard i/n`, one per CI
 * job and CNI) become one package and one report. Each shard is verified
 * before it is used and copied whole under `shards/<name>/`, its own
 * signed attestation with it, so the merged package proves both what the
 * merger signed and what every shard job signed (`verifyMerged`).
 */
export const SHARDS_DIR = 'shards';

export interface ShardInput {
  dir: string;
  /** Directory name under shards/ (scripts/cli/shard.ts shardName). */
  name: string;
  report: RunReport;
  signedBy: string[];
}

/** The key among `keys` that signed the envelope (by key id), else the first: a wrong key is then reported as such. */
export function keyFor(dir: string, keys: readonly KeyObject[]): KeyObject {
  const path = join(dir, ATTESTATION_FILE);
  if (!existsSync(path) || !keys.length) return keys[0] as KeyObject;
  try {
    const ids = (JSON.parse(readFileSync(path, 'utf8')) as Envelope).signatures.map((s) => s.keyid);
    return keys.find((k) => ids.includes(keyId(k))) ?? (keys[0] as KeyObject);
  } catch {
    return keys[0] as KeyObject;
  }
}

export function signersOf(dir: string): string[] {
  try {
    return (JSON.parse(readFileSync(join(dir, ATTESTATION_FILE), 'utf8')) as Envelope).signatures.map((s) => s.keyid).filter(Boolean);
  } catch {
    return [];
  }
}

const rank = (code: number) => (code === 1 ? 2 : code === 0 ? 0 : 1);

/** The shard packages as one run: results concatenated in shard order; the verdict the worst of theirs (1 over 3 over 0), a missing shard at least 3. */
export function mergeReports(shards: readonly ShardInput[], meta: { runId: string; finishedAt: string; seconds: number }): RunReport {
  if (!shards.length) throw new InputError('merge needs at least one shard package');
  const first = shards[0] as ShardInput;
  const names = new Set<string>();
  for (const s of shards) {
    const c = s.report.context;
    if (names.has(s.name)) throw new InputError(`${s.dir}: shard ${s.name} given twice`, { hint: 'pass each shard package once' });
    names.add(s.name);
    for (const field of ['commit', 'manifestDigest', 'version'] as const)
      if (c[field] !== first.report.context[field]) throw new InputError(`${s.dir}: ${field} ${c[field]} differs from ${first.dir} (${first.report.context[field]})`, { hint: 'merge only the shards of one run: the same commit, manifests and harness version' });
  }
  const reasons: string[] = [];
  // Completeness per CNI: every slice 1..n present, with one n.
  const byCni = new Map<string, ShardInput[]>();
  for (const s of shards) byCni.set(s.report.context.versions.cni ?? '', [...(byCni.get(s.report.context.versions.cni ?? '') ?? []), s]);
  for (const [cni, group] of byCni) {
    const counts = new Set(group.map((s) => s.report.context.shard?.count ?? 1));
    if (counts.size > 1) throw new InputError(`shards${cni ? ` of ${cni}` : ''} split the live files differently (${[...counts].map((n) => `/${n}`).join(', ')})`, { hint: 'merge shards of one --shard i/n split' });
    const count = [...counts][0] as number;
    const have = new Set(group.map((s) => s.report.context.shard?.index ?? 1));
    for (let i = 1; i <= count; i++) if (!have.has(i)) reasons.push(`environment: shard ${i}/${count}${cni ? ` (${cni})` : ''} is missing: its live files did not run`);
  }
  const code = Math.max(...shards.map((s) => rank(s.report.context.verdict.code)), reasons.length ? 1 : 0);
  for (const s of shards) for (const r of s.report.context.verdict.reasons) reasons.unshift(`[${s.name}] ${r}`);
  reasons.sort((a, b) => rankOf(a) - rankOf(b));
  const context: RunContext = {
    ...first.report.context,
    runId: meta.runId,
    startedAt: shards.map((s) => s.report.context.startedAt).sort()[0] as string,
    finishedAt: meta.finishedAt,
    imageSource: [...new Set(shards.map((s) => s.report.context.imageSource))].join(', '),
    versions: { ...first.report.context.versions, images: uniqueImages(shards) },
    timings: [...shards.flatMap((s) => s.report.context.timings.map((t) => ({ step: `[${s.name}] ${t.step}`, seconds: t.seconds }))), { step: 'merge', seconds: meta.seconds }],
    verdict: { code: code === 2 ? 1 : code === 1 ? 3 : 0, reasons },
    merged: shards.map((s) => ({ name: s.name, runId: s.report.context.runId, ...(s.report.context.shard ? { shard: { index: s.report.context.shard.index, count: s.report.context.shard.count } } : {}), signedBy: s.signedBy, exitCode: s.report.context.verdict.code })),
  };
  delete context.shard;
  const live = shards.some((s) => s.report.live) ? shards.flatMap((s) => s.report.live ?? []) : undefined;
  const vitests = shards.map((s) => s.report.vitest).filter((v): v is VitestOutcome => Boolean(v));
  return {
    context,
    offline: first.report.offline,
    ...(live ? { live } : { liveNotRun: first.report.liveNotRun ?? 'not run in any shard' }),
    titles: Object.assign({}, ...shards.map((s) => s.report.titles)) as Record<string, string>,
    ...(vitests.length ? { vitest: { reason: vitests.map((v) => v.reason).join(', '), tests: vitests.flatMap((v) => v.tests), suiteErrors: vitests.flatMap((v) => v.suiteErrors), unhandledErrors: vitests.flatMap((v) => v.unhandledErrors) } } : {}),
  };
}

/** Reasons in the order run gives them: failures, inconclusive, environment. */
function rankOf(reason: string): number {
  const r = reason.replace(/^\[[^\]]*\] /, '');
  return /^environment:/.test(r) ? 2 : /inconclusive/.test(r) ? 1 : 0;
}

function uniqueImages(shards: readonly ShardInput[]): RunContext['versions']['images'] {
  const seen = new Map<string, RunContext['versions']['images'][number]>();
  for (const s of shards) for (const i of s.report.context.versions.images) seen.set(`${i.role} ${i.digest}`, i);
  return [...seen.values()];
}

export interface MergedVerification {
  top: PackageVerification;
  shards: Array<{ name: string; verification: PackageVerification }>;
}

/** The merged package's own attestation, then each shard's envelope under shards/<name>/ against that shard's files. */
export function verifyMerged(dir: string, keys: readonly KeyObject[]): MergedVerification {
  const top = verifyPackage(dir, keyFor(dir, keys));
  const root = join(dir, SHARDS_DIR);
  const names = existsSync(root) ? readdirSync(root).filter((n) => statSync(join(root, n)).isDirectory()).sort() : [];
  return { top, shards: names.map((name) => ({ name, verification: verifyPackage(join(root, name), keyFor(join(root, name), keys)) })) };
}
