import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootedCluster } from '../../../harness/cluster/boot.ts';
import { apiServerContainer, flagsOf, restartApiServer, type RestartReport } from '../../../harness/cluster/control-plane-edit.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import type { AuditEvent } from '../../../harness/scenario/audit-log.ts';
import { judgeSeries, readAuditFiles, type SeriesVerdict } from '../../../harness/scenario/audit-rotation.ts';
import { bootControlPlaneCluster } from '../../../harness/scenario/control-plane-cluster.ts';
import { pollUntil } from '../../../harness/scenario/poll.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { destroyOwnCluster, writeBootReport } from '../support/report.ts';
import { explain } from '../support/scenario.ts';

/**
 * Audit-log rotation loses no event (10.2.1: audit logs enabled and active —
 * the local files are the buffer a shipper reads for 10.3.3 / 10.5.1, so an
 * event lost at rotation is lost for good). On a cluster of its own, the
 * apiserver runs the set's audit policy with the set's rotation flags, except
 * `--audit-log-maxsize` scaled from 100 MB down to 1 MB (its smallest unit)
 * so rotation happens within seconds.
 *
 * A privileged-change series: N Roles created in one namespace, each with a
 * run-unique name (the policy audits RBAC writes at RequestResponse, so every
 * event carries the request and response bodies: ~34 KB each, a few rotations
 * per series). Then the live audit.log and every rotated audit-*.log are read
 * whole: every one of the N creates must be there EXACTLY once (by name and
 * auditID), and the series must span ≥ 2 rotated files — else rotation was
 * not exercised and nothing was proven.
 *
 * Live mutant: `--audit-log-maxbackup=1` (a buffer too small for the volume):
 * lumberjack deletes the older backups, events of the series are gone → red,
 * naming 10.2.1. It runs FIRST, so the proof with the set's flags doubles as
 * the restore (one apiserver restart fewer); the proof sets its own flags,
 * so it stands alone too (`-t`).
 */
const SCENARIO = 'audit-rotation';
const nonce = randomBytes(2).toString('hex');
const NS = `audit-rotation-${nonce}`;
const N = 120;
const PADDING = 16 * 1024;
const MAXSIZE_MB = '1';

let cluster: BootedCluster | undefined;
let bootError = '';
/** The set's rotation flags as the booted apiserver runs them (manifests/kind/*.yaml extraArgs). */
let setFlags: Map<string, string> = new Map();
const steps: Array<{ step: string; ms: number; restart?: { newContainerMs: number; readyMs: number } }> = [];
let weakened: { verdict: SeriesVerdict; flags: Record<string, string>; ms: number } | undefined;
const c = () => cluster!;
const k = () => `kubectl --kubeconfig ${c().kubeconfigPath}`;
const auditDir = () => join(c().workDir, 'audit');

async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const r = out as RestartReport | undefined;
  steps.push({ step, ms: Math.round(performance.now() - t0), ...(r && typeof r === 'object' && 'phases' in r ? { restart: { newContainerMs: Math.round(r.phases.newContainerMs), readyMs: Math.round(r.phases.readyMs) } } : {}) });
  return out;
}

/** Restart the apiserver with `flags` unless it already runs with them. */
async function ensureFlags(flags: Record<string, string>, why: string): Promise<void> {
  const now = await apiServerContainer(c());
  const current = flagsOf(now?.command ?? []);
  if (now && Object.entries(flags).every(([f, v]) => current.get(f) === v)) return;
  await timed(`restart apiserver (${Object.entries(flags).map(([f, v]) => `--${f}=${v}`).join(' ')})`, () => restartApiServer(c(), { reason: why, flags }));
}

/** The set's flags with maxsize scaled down; `override` weakens one. */
function rotationFlags(override: Record<string, string> = {}): Record<string, string> {
  const maxbackup = setFlags.get('audit-log-maxbackup');
  if (!maxbackup) throw new Error('the booted apiserver runs without --audit-log-maxbackup: the set does not wire audit-log rotation (audit.wired)');
  return { 'audit-log-maxsize': MAXSIZE_MB, 'audit-log-maxbackup': maxbackup, ...override };
}

/** N Role creates in one `kubectl create` (one request each); returns the names. */
async function createSeries(tag: string): Promise<string[]> {
  const names = Array.from({ length: N }, (_, i) => `rotation-${nonce}-${tag}-${String(i).padStart(4, '0')}`);
  const items = names.map((name) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: NS, annotations: { 'pci-harness.dev/padding': 'x'.repeat(PADDING) } }, rules: [] }));
  await c().kubectl(['create', '-f', '-', '-o', 'name'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 300_000 });
  return names;
}

const markerOf = (names: ReadonlySet<string>) => (e: AuditEvent) =>
  e.stage === 'ResponseComplete' && e.verb === 'create' && e.objectRef?.resource === 'roles' && e.objectRef.namespace === NS && names.has(e.objectRef.name ?? '') ? e.objectRef.name : undefined;

/** Create a series and judge the files once its last event is written (at most 30 s). */
async function seriesVerdict(tag: string): Promise<SeriesVerdict> {
  const names = await timed(`series ${tag}: ${N} Role creates`, () => createSeries(tag));
  const set = new Set(names);
  return timed(`series ${tag}: read and judge`, async () => {
    // The log backend writes in completion order: once the LAST create is on disk, a missing earlier one is lost, not late.
    const r = await pollUntil(async () => judgeSeries(readAuditFiles(auditDir()), names, markerOf(set)), (v) => !v.missing.includes(names.at(-1)!), { timeoutMs: 30_000, intervalMs: 1000 });
    return r.value;
  });
}

beforeAll(async () => {
  try {
    cluster = await bootControlPlaneCluster('audit');
    writeBootReport(`${SCENARIO}-boot`, { bootMs: cluster.bootMs, timings: cluster.timings });
    setFlags = flagsOf((await apiServerContainer(cluster))?.command ?? []);
    await cluster.kubectl(['create', 'namespace', NS]);
  } catch (e) {
    bootError = redactCredentials((e as Error).message);
  }
});

afterAll(async () => {
  await destroyOwnCluster(SCENARIO, cluster, steps);
});

const spread = (v: SeriesVerdict) => v.spread.map((s) => `${s.file}=${s.events}`).join(', ');

describe('audit-log rotation: every audited request survives rotation, exactly once (10.2.1)', () => {
  it('live mutant: --audit-log-maxbackup=1 deletes backups the series is in → events missing (red)', async () => {
    if (bootError) throw new Error(`INCONCLUSIVE: ${SCENARIO}: own cluster did not boot (no observation was made): ${bootError}`);
    const t0 = Date.now();
    const flags = rotationFlags({ 'audit-log-maxbackup': '1' });
    await ensureFlags(flags, 'audit rotation mutant: maxbackup 1');
    const verdict = await seriesVerdict('weakened');
    weakened = { verdict, flags, ms: Date.now() - t0 };
    expect(verdict.ok, `the weakening must lose events; it did not: ${verdict.summary}`).toBe(false);
    expect(verdict.missing.length, verdict.summary).toBeGreaterThan(0);
  });

  it(`with the set's rotation flags (maxsize ${MAXSIZE_MB} MB), all ${N} audited Role creates are in audit.log + rotated files exactly once, across ≥ 2 rotations`, async () => {
    if (bootError) throw new Error(`INCONCLUSIVE: ${SCENARIO}: own cluster did not boot (no observation was made): ${bootError}`);
    const t0 = Date.now();
    const flags = rotationFlags();
    let verdict: SeriesVerdict;
    try {
      await ensureFlags(flags, 'audit rotation: the set flags, maxsize 1');
      verdict = await seriesVerdict('set');
    } catch (e) {
      const msg = redactCredentials((e as Error).message);
      throw new Error(`INCONCLUSIVE: ${SCENARIO}: ${msg}`);
    }
    const flagText = Object.entries(flags).map(([f, v]) => `--${f}=${v}`).join(' ');
    const replay = [
      `# apiserver flags on ${c().name}-control-plane (/etc/kubernetes/manifests/kube-apiserver.yaml): ${flagText}`,
      `for i in $(seq -w 0 ${N - 1}); do ${k()} create role rotation-$i -n ${NS} --verb=get --resource=pods; done`,
      `cat ${auditDir()}/audit*.log | jq -r 'select(.stage=="ResponseComplete" and .verb=="create" and .objectRef.resource=="roles" and .objectRef.namespace=="${NS}") | .objectRef.name' | sort | uniq -c | awk '$1!=1' # prints nothing when each is there once`,
    ].join('\n');
    const result: LiveResult = {
      lane: 'live',
      check: 'live.audit.rotation',
      requirement: '10.2.1',
      scenario: SCENARIO,
      adversary: 'an administrator whose privilege changes must stay on record (a log that rotates under load)',
      action: `create ${N} Roles in ${NS} (RBAC writes: RequestResponse, ~${Math.round((PADDING * 2) / 1024)} KB per event) with ${flagText}; read audit.log and every rotated audit-*.log`,
      predicted: 'logged',
      observed: verdict.missing.length ? 'not-logged' : 'logged',
      layer: { kind: 'audit', names: ['pci-audit-policy', flagText] },
      object: `${auditDir()}/audit*.log`,
      status: verdict.ok ? 'pass' : 'fail',
      message: verdict.ok ? `rotation lost nothing: ${verdict.summary}` : `audit events lost or duplicated at rotation: ${verdict.summary}`,
      evidence: `files (events of the series per file): ${spread(verdict)}; all files now: ${readAuditFiles(auditDir()).map((f) => `${f.file} ${f.bytes} B`).join(', ')}\nsteps: ${steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s`).join('; ')}`,
      replay,
      ...(verdict.ok ? {} : { finding: `audit-log rotation with the set's flags loses or duplicates events (10.2.1): ${verdict.summary}` }),
      ms: Date.now() - t0,
    };
    recordLiveResults([result]);

    if (weakened) {
      const killed = !weakened.verdict.ok && weakened.verdict.missing.length > 0;
      const v = killed && verdict.ok ? 'KILLED' : killed ? 'KILLED, NOT RESTORED' : 'SURVIVED';
      const m: LiveResult = {
        lane: 'live',
        check: 'live.mutant',
        requirement: '10.2.1',
        scenario: 'mutant.audit-maxbackup-1',
        adversary: 'live weakening of the running apiserver',
        action: `--audit-log-maxbackup=1 (set: ${setFlags.get('audit-log-maxbackup')}) with --audit-log-maxsize=${MAXSIZE_MB}, then the same ${N}-event series`,
        predicted: 'logged',
        observed: killed ? 'not-logged' : 'logged',
        layer: { kind: 'audit', names: ['pci-audit-policy', ...Object.entries(weakened.flags).map(([f, x]) => `--${f}=${x}`)] },
        object: result.object,
        status: v === 'KILLED' ? 'pass' : 'fail',
        message: `${v}: audit-maxbackup-1 [10.2.1] — weakened: ${weakened.verdict.ok ? 'still green' : `RED (${weakened.verdict.missing.length} of ${N} events gone)`}; restored to the set's flags: ${verdict.ok ? 'green again' : 'NOT green'}`,
        evidence: `weakened: ${weakened.verdict.summary}; files: ${spread(weakened.verdict)}\nrestored: ${verdict.summary}`,
        replay: replay.replace(`--audit-log-maxbackup=${flags['audit-log-maxbackup']}`, '--audit-log-maxbackup=1'),
        ...(v === 'KILLED' ? {} : { finding: `live mutant audit-maxbackup-1: ${v}` }),
        ms: weakened.ms,
      };
      recordLiveResults([m]);
      process.stdout.write(`${m.message}\n`);
      expect(m.status, explain(m)).toBe('pass');
    }
    expect(result.status, explain(result)).toBe('pass');
  });
});
