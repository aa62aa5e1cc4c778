import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { predictReachability, type Reachability } from '../analyzers/network/matrix.ts';
import type { Cluster } from '../cluster/provider.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { liveCniSemantics, type ScenarioContext } from './context.ts';
import { observeCells, type ObservedCell, type PlannedCell } from './matrix.ts';
import { predictHostFlow, predictPodFlow, type Prediction } from './predict.ts';
import type { LiveResult } from './result.ts';

/**
 * Live mutants: weaken the RUNNING cluster the way an offline mutant weakens
 * the files (the same mutant definitions), and prove the matrix turns red.
 * Which cells must flip is not written by hand: the mutated file is loaded
 * into a copy of the set and the offline model predicts again; every matrix
 * cell whose prediction changes is probed under the weakening. Judged
 * against the UNMUTATED prediction, those cells must fail (KILLED), naming
 * the mutant's requirement; after the live objects are restored the same
 * cells must pass again. No cluster boot per mutant.
 */
// Parsed YAML documents: shapes vary per kind.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

export interface Weakening {
  id: string;
  description: string;
  requirement: string;
  /** File under manifests/ whose documents `mutate` rewrites. */
  file: string;
  mutate: (docs: Doc[]) => Doc[];
}

interface ObjectChange {
  before?: Doc;
  after?: Doc;
  id: string;
}

const keyOf = (d: Doc) => `${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`;

function readDocs(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS())
    .filter((d) => d !== null && d !== undefined);
}

/** The objects a weakening adds, removes or changes (by kind/namespace/name). */
export function objectChanges(before: Doc[], after: Doc[]): ObjectChange[] {
  const b = new Map(before.map((d) => [keyOf(d), d]));
  const a = new Map(after.map((d) => [keyOf(d), d]));
  const out: ObjectChange[] = [];
  for (const [id, d] of b) {
    const x = a.get(id);
    if (!x) out.push({ id, before: d });
    else if (JSON.stringify(x) !== JSON.stringify(d)) out.push({ id, before: d, after: x });
  }
  for (const [id, d] of a) if (!b.has(id)) out.push({ id, after: d });
  return out;
}

/** Apply `to` over `from` on the cluster: create, replace (whole object: no field-manager leftovers) or delete. */
async function transition(cluster: Cluster, changes: ObjectChange[], direction: 'weaken' | 'restore'): Promise<void> {
  for (const c of changes) {
    const from = direction === 'weaken' ? c.before : c.after;
    const to = direction === 'weaken' ? c.after : c.before;
    if (to && !from) {
      // Re-creating what the weakening deleted: a controller (Kyverno generate) may have re-created it already.
      const r = await cluster.kubectl(['create', '-f', '-'], { input: stringify(to), reject: false });
      if (r.exitCode !== 0) {
        if (!/AlreadyExists/.test(r.stderr)) throw new Error(`could not re-create ${c.id}: ${r.stderr.trim()}`);
        await cluster.kubectl(['replace', '-f', '-'], { input: stringify(to) });
      }
    }
    else if (to && from) await cluster.kubectl(['replace', '-f', '-'], { input: stringify(to) });
    else if (from) await cluster.kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input: stringify(from) });
  }
}

/**
 * Did the cluster undo the weakening by itself? Kyverno's generate rule with
 * `synchronize: true` re-creates (and reverts) the default-deny it owns: a
 * weakening that does not stick is a defence, reported as HEALED.
 */
async function healed(cluster: Cluster, changes: ObjectChange[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of changes) {
    const ref = c.before ?? c.after;
    const r = await cluster.kubectl(['get', ref.kind, ref.metadata.name, ...(ref.metadata.namespace ? ['-n', ref.metadata.namespace] : []), '-o', 'json', '--ignore-not-found'], { reject: false });
    const live = r.stdout.trim() ? (JSON.parse(r.stdout) as Doc) : undefined;
    if (c.before && !c.after && live) out.push(`${c.id} was re-created`);
    else if (c.before && c.after && live && JSON.stringify(live.spec) === JSON.stringify(normalizeSpec(c.before.spec, live.spec))) out.push(`${c.id} was reverted`);
  }
  return out;
}

/** The original spec as the apiserver would show it (defaults the file leaves out, e.g. policyTypes order kept). */
function normalizeSpec(want: Doc, live: Doc): Doc {
  // Compare only the fields the file sets: a reverted object carries them all again.
  if (!want || !live) return want;
  const out: Doc = {};
  for (const k of Object.keys(live)) out[k] = k in want ? want[k] : live[k];
  return out;
}

function predictUnder(reach: Reachability, cell: PlannedCell): Prediction {
  const from = reach.model.memberIndex.get(cell.source.position.memberId);
  if (from === undefined) throw new Error(`mutated model lost ${cell.source.position.memberId}`);
  if (cell.target.endpointId === undefined) return predictHostFlow(reach, from, cell.target.hostIp as string, cell.target.port);
  const to = reach.model.memberIndex.get(cell.target.dest);
  if (to === undefined) throw new Error(`mutated model lost ${cell.target.dest}`);
  return predictPodFlow(reach, from, to, cell.target.port);
}

export interface LiveMutantRun {
  weakening: Weakening;
  /** Matrix cells whose prediction the weakening flips. */
  flipped: PlannedCell[];
  underMutation: ObservedCell[];
  restored: ObservedCell[];
  /** Some flipped cell went red, naming the weakening's requirement. */
  killed: boolean;
  greenAgain: boolean;
  verdict: string;
  result: LiveResult;
  ms: number;
}

/** Probe `cells` until every one shows `want(cell)` or the window closes (Calico programs policy in seconds). */
async function observeUntil(cells: PlannedCell[], want: (c: PlannedCell) => string, stop: () => Promise<boolean> = async () => false, timeoutMs = 25_000): Promise<ObservedCell[]> {
  const t0 = Date.now();
  let last: ObservedCell[] = [];
  while (true) {
    last = await observeCells(cells, { timeoutMs: 2000 });
    if (last.every((o) => o.observed === want(o.cell)) || Date.now() - t0 > timeoutMs || (await stop())) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function runLiveMutant(ctx: ScenarioContext, baseline: readonly PlannedCell[], w: Weakening): Promise<LiveMutantRun> {
  const t0 = Date.now();
  const original = readDocs(join(ctx.manifestsDir, w.file));
  const mutated = w.mutate(structuredClone(original));
  const changes = objectChanges(original, mutated);
  if (changes.length === 0) throw new Error(`weakening ${w.id} changes nothing in ${w.file}: its target is gone`);
  const dir = mkdtempSync(join(tmpdir(), `pci-live-mutant-${w.id}-`));
  let reach: Reachability;
  try {
    cpSync(ctx.manifestsDir, dir, { recursive: true });
    writeFileSync(join(dir, w.file), mutated.map((d) => stringify(d)).join('---\n'));
    reach = predictReachability(loadManifestDir(dir), liveCniSemantics());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const flipped = baseline.filter((c) => !c.skip && predictUnder(reach, c).predicted !== c.prediction.predicted);
  let underMutation: ObservedCell[] = [];
  let restored: ObservedCell[] = [];
  let heal: string[] = [];
  try {
    await transition(ctx.cluster, changes, 'weaken');
    if (flipped.length) {
      underMutation = await observeUntil(
        flipped,
        (c) => (c.prediction.predicted === 'allowed' ? 'blocked' : 'allowed'),
        async () => (heal = await healed(ctx.cluster, changes)).length > 0,
      );
    }
    if (!heal.length) heal = await healed(ctx.cluster, changes);
  } finally {
    // Always restore, whatever happened: later scenarios run on this cluster.
    await transition(ctx.cluster, changes, 'restore');
  }
  if (flipped.length) restored = await observeUntil(flipped, (c) => c.prediction.predicted);
  const red = underMutation.filter((o) => o.observed !== 'check-failed' && o.observed !== o.cell.prediction.predicted);
  const killed = red.some((o) => o.cell.requirement === w.requirement);
  const greenAgain = restored.length > 0 && restored.every((o) => o.observed === o.cell.prediction.predicted);
  const sample = red.slice(0, 3).map((o) => `${o.cell.source.position.adversary} → ${o.cell.target.label}: predicted ${o.cell.prediction.predicted}, observed ${o.observed} [${o.cell.requirement}]`);
  const verdict = heal.length ? 'HEALED' : killed && greenAgain ? 'KILLED' : !flipped.length ? 'NOT OBSERVABLE' : killed ? 'KILLED, NOT RESTORED' : 'SURVIVED';
  const ok = verdict === 'KILLED' || (verdict === 'HEALED' && greenAgain);
  const result: LiveResult = {
    lane: 'live',
    check: 'live.mutant',
    requirement: w.requirement,
    status: ok ? 'pass' : underMutation.some((o) => o.observed === 'check-failed') ? 'inconclusive' : 'fail',
    scenario: `mutant.${w.id}`,
    adversary: 'live weakening of the running cluster',
    action: `${w.description} (${changes.map((c) => `${c.after && c.before ? 'replace' : c.after ? 'create' : 'delete'} ${c.id}`).join('; ')})`,
    predicted: 'blocked',
    // The weakening was stopped: turned red (KILLED) or undone by the cluster (HEALED, however many
    // probes saw it open first: that window is timing, and the message counts it).
    observed: killed || heal.length ? 'blocked' : 'allowed',
    layer: { kind: 'networkpolicy', names: changes.map((c) => c.id) },
    object: changes[0]?.id,
    message: `${verdict}: ${w.id} — ${flipped.length} matrix cells flip in the model; ${red.length} went red on the cluster${killed ? ` naming ${w.requirement}` : ''}${heal.length ? `; the cluster undid it (${heal.join(', ')}: Kyverno generate, synchronize)` : ''}; restored: ${greenAgain ? 'green again' : 'NOT green'}`,
    evidence: sample.join('\n') || 'no cell flipped',
    replay: `kubectl --kubeconfig ${ctx.cluster.kubeconfigPath} replace -f <${w.file} with ${w.id} applied> (see suites/offline/mutants.ts)`,
    ...(!ok ? { finding: `live mutant ${w.id}: ${verdict}` } : {}),
    ms: Date.now() - t0,
  };
  return { weakening: w, flipped, underMutation, restored, killed, greenAgain, verdict, result, ms: Date.now() - t0 };
}
