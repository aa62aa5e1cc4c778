import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { locateCluster } from '../../harness/cluster/attach.ts';
import { bootCluster, type BootedCluster } from '../../harness/cluster/boot.ts';
import { run } from '../../harness/cluster/exec.ts';
import { chooseImageSource } from '../../harness/cluster/images.ts';
import { REPO_ROOT } from '../../harness/cluster/paths.ts';
import { GuardRefusal, guardKubeConfig, guardKubectl, NAMESPACE_PREFIX, scopeFor, type GuardLog } from '../../harness/existing/guard.ts';
import { targetCluster, resolveTarget, type ExistingTarget } from '../../harness/existing/target.ts';
import type { LiveResult } from '../../harness/scenario/result.ts';
import { readLiveResults } from '../../harness/scenario/sink.ts';
import { writeBootReport } from '../live/support/report.ts';

/**
 * `pci-harness run --kubeconfig` against a cluster it treats as foreign: a
 * kind cluster booted here (or, with PCI_EXISTING_KUBECONFIG, one started
 * separately with `pci-harness up`, never deleted by this file). The CLI runs
 * as a child process, as a user runs it. Proven: the coverage table names
 * what is NOT TESTED and why; the non-destructive checks gave verdicts;
 * nothing is left behind (the names of every object in every namespace, and
 * every cluster-scoped one, are the same before and after); the guard refuses
 * a write outside the run's namespace on the real API server (kubectl and
 * client-node) while letting a dry run through; and a run interrupted with
 * SIGINT mid-run still deletes its namespace (exit 130).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLI = join(REPO_ROOT, 'scripts', 'pci-harness.mjs');

let booted: BootedCluster | undefined;
let kubeconfig = '';
let context = '';
let auditDir = '';
let target: ExistingTarget;
const images = chooseImageSource('auto');
const kubectl = (args: string[]) => run(images.kubectlBinary, ['--kubeconfig', kubeconfig, '--context', context, ...args], { reject: false, timeoutMs: 120_000 });

/** Every object's kind/namespace/name, in every namespace and cluster-wide (events excluded: the cluster writes them itself). */
async function snapshot(): Promise<string[]> {
  const res = await kubectl(['api-resources', '--verbs=list', '-o', 'name']);
  const kinds = res.stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== 'events' && s !== 'events.events.k8s.io');
  const r = await kubectl(['get', kinds.join(','), '-A', '--no-headers', '-o', 'custom-columns=K:.kind,NS:.metadata.namespace,N:.metadata.name']);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean).sort();
}

async function harnessNamespaces(): Promise<string[]> {
  const r = await kubectl(['get', 'namespaces', '-o', 'name']);
  return r.stdout.split('\n').filter((l) => l.includes(NAMESPACE_PREFIX));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

let before: string[] = [];
let after: string[] = [];
let runOut = '';
let runResult: { exitCode?: number; stdout: string; stderr: string; ms: number };
let results: LiveResult[] = [];

beforeAll(async () => {
  const reuse = process.env.PCI_EXISTING_KUBECONFIG;
  if (reuse) {
    kubeconfig = reuse;
    auditDir = join((await locateCluster(reuse, { name: process.env.PCI_EXISTING_CLUSTER })).workDir, 'audit');
  } else {
    // PCI_EXISTING_BOOT_NAME: a name of your own for the cluster this file boots (default pci-<time>-<hex>).
    booted = await bootCluster({ layout: 'pci-calico', ...(process.env.PCI_EXISTING_BOOT_NAME ? { name: process.env.PCI_EXISTING_BOOT_NAME } : {}) });
    writeBootReport('existing-cluster', { bootMs: booted.bootMs, timings: booted.timings });
    kubeconfig = booted.kubeconfigPath;
    auditDir = join(booted.workDir, 'audit');
  }
  target = resolveTarget(kubeconfig);
  context = target.context;
  before = await snapshot();
  runOut = join(mkdtempSync(join(tmpdir(), 'pci-existing-')), 'package');
  const t0 = Date.now();
  const r = await execa(process.execPath, [CLI, 'run', '--kubeconfig', kubeconfig, '--context', context, '--out', runOut], {
    reject: false,
    env: { PCI_HARNESS_AUDIT_LOG_DIR: auditDir },
    timeout: 900_000,
  });
  runResult = { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), ms: Date.now() - t0 };
  writeBootReport('existing-cluster-run', { ms: runResult.ms, exitCode: r.exitCode });
  results = readLiveResults(join(runOut, 'live-results'));
  after = await snapshot();
}, 1_800_000);

afterAll(async () => {
  await booted?.destroy();
  if (runOut) rmSync(join(runOut, '..'), { recursive: true, force: true });
});

describe('pci-harness run --kubeconfig: a cluster the harness did not create', () => {
  it('runs to exit 0 and prints the coverage table', () => {
    expect(runResult.exitCode, runResult.stderr.slice(-3000)).toBe(0);
    expect(runResult.stdout).toMatch(/Coverage on the existing cluster/);
    process.stdout.write(`\nexisting-cluster run: ${(runResult.ms / 1000).toFixed(1)} s\n`);
  });

  it('the coverage table lists what is NOT TESTED, each with a reason', () => {
    const table = readFileSync(join(runOut, 'coverage.txt'), 'utf8');
    const rows = table.split('\n').filter((l) => l.startsWith('NOT TESTED'));
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows) expect(row.split('|')[3]?.trim().length ?? 0, row).toBeGreaterThan(20);
    for (const area of [/etcd on disk/, /encryption at rest/, /control-plane flags/, /CDE node pool: taints/, /live mutants/]) expect(table).toMatch(area);
    // Shown as NOT TESTED in the evidence, never as a pass.
    const notTested = results.filter((r) => r.check === 'live.existing.not-tested');
    expect(notTested.length).toBeGreaterThanOrEqual(rows.length);
    for (const r of notTested) {
      expect(r.status).toBe('skip');
      expect(r.message).toMatch(/^NOT TESTED — /);
    }
    expect(readFileSync(join(runOut, 'summary.md'), 'utf8')).toMatch(/## Coverage on the existing cluster[\s\S]*NOT TESTED/);
    expect(readFileSync(join(runOut, 'report.html'), 'utf8')).toMatch(/NOT TESTED — Secrets in etcd on disk/);
  });

  it('the non-destructive checks gave verdicts: canary, reachability, dry-run admission, access reviews, audit', () => {
    const of = (scenario: string) => results.filter((r) => r.scenario.startsWith(scenario));
    expect(of('existing.canary').map((r) => r.status)).toEqual(['pass']);
    const net = of('existing.reachability').filter((r) => r.status !== 'skip');
    expect(net.some((r) => r.predicted === 'allowed') && net.some((r) => r.predicted === 'blocked'), 'both verdicts').toBe(true);
    const adm = of('existing.admission-dry-run');
    expect(adm.length).toBeGreaterThanOrEqual(28);
    expect(adm.some((r) => r.observed === 'admitted') && adm.some((r) => r.observed === 'rejected'), 'controls admitted, unsafe rejected').toBe(true);
    expect(of('existing.rbac').length).toBeGreaterThan(0);
    expect(of('existing.audit').length).toBe(2);
    const ran = results.filter((r) => r.check !== 'live.existing.not-tested' && r.status !== 'skip');
    expect(ran.filter((r) => r.status !== 'pass').map((r) => `${r.status} ${r.message}`)).toEqual([]);
  });

  it('the package says the mode, context and server — and no credential of the kubeconfig', () => {
    const meta = JSON.parse(readFileSync(join(runOut, 'existing-cluster.json'), 'utf8')) as { mode: string; context: string; server: string };
    expect(meta).toMatchObject({ mode: 'existing cluster', context, server: target.server });
    expect(readFileSync(join(runOut, 'summary.md'), 'utf8')).toContain(`- mode: existing cluster: context ${context}, server ${target.server}`);
    const secrets = readFileSync(kubeconfig, 'utf8')
      .split('\n')
      .map((l) => /^\s*(client-key-data|client-certificate-data|token|password):\s*(\S+)/.exec(l)?.[2])
      .filter((s): s is string => !!s && s.length > 16);
    expect(secrets.length).toBeGreaterThan(0);
    for (const f of filesUnder(runOut)) {
      const text = readFileSync(f, 'latin1');
      for (const s of secrets) expect(text.includes(s.slice(0, 40)), `${f} holds a kubeconfig credential`).toBe(false);
    }
  });

  it('leaves nothing behind: no harness namespace, and the same objects in every namespace as before', async () => {
    expect(await harnessNamespaces()).toEqual([]);
    const added = after.filter((x) => !before.includes(x));
    const removed = before.filter((x) => !after.includes(x));
    expect({ added, removed }).toEqual({ added: [], removed: [] });
    expect(before.length).toBeGreaterThan(100);
  });

  it('the guard refused the run\'s own attempt to write outside its namespace', () => {
    const meta = JSON.parse(readFileSync(join(runOut, 'existing-cluster.json'), 'utf8')) as { guard: { selfTest: string; refused: Array<{ why: string }> } };
    expect(meta.guard.selfTest).toBe('refused');
    expect(meta.guard.refused.map((r) => r.why).join('\n')).toMatch(/ConfigMap\/cde-[a-z]+\/pci-harness-guard-.*: outside the run's namespace/);
  });

  it('on the real API server the guard refuses writes outside its namespace (kubectl and client-node) and lets a dry run through', async () => {
    const scope = scopeFor(`guardtest-${Date.now().toString(36)}`);
    const raw = targetCluster(target, images, 'guard-test');
    const log: GuardLog = { refused: [], allowedWrites: 0 };
    const guarded = guardKubectl(scope, raw.kubectl, log);
    const name = `pci-harness-guard-${scope.runId}`;
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'cde-processing' }, data: { a: 'b' } };
    await expect(guarded(['create', '-f', '-'], { input: stringify(cm) })).rejects.toThrow(GuardRefusal);
    await expect(guarded(['label', 'namespace', 'cde-processing', 'pci-scope-'])).rejects.toThrow(GuardRefusal);
    const api = guardKubeConfig(scope, raw.kubeClient, log).makeApiClient(CoreV1Api);
    await expect(api.createNamespacedConfigMap({ namespace: 'cde-processing', body: cm })).rejects.toThrow(GuardRefusal);
    // Reads and dry runs still reach the cluster: the refusals are the guard's, not a broken client.
    expect((await api.readNamespace({ name: 'cde-processing' })).metadata?.name).toBe('cde-processing');
    const dry = await guarded(['create', '--dry-run=server', '-f', '-'], { input: stringify(cm), reject: false });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(log.refused).toHaveLength(3);
    expect((await kubectl(['get', 'configmap', name, '-n', 'cde-processing', '--ignore-not-found', '-o', 'name'])).stdout.trim()).toBe('');
    expect((await kubectl(['get', 'namespace', 'cde-processing', '-o', 'jsonpath={.metadata.labels.pci-scope}'])).stdout).toBe('in-scope');
  });

  it('SIGINT mid-run: exit 130, and its namespace is deleted', async () => {
    const child: ResultPromise = execa(process.execPath, [CLI, 'run', '--kubeconfig', kubeconfig, '--context', context, '--out', `${runOut}-interrupted`], {
      reject: false,
      all: true,
      forceKillAfterDelay: false,
    });
    let text = '';
    child.all?.on('data', (d: Buffer) => (text += d.toString()));
    let exited = false;
    void child.then(() => (exited = true));
    // Mid-run: the namespace exists and the canary's pods are being made.
    for (let i = 0; i < 600 && !/enforcement canary \(own namespace\) \.\.\./.test(text) && !exited; i++) await sleep(500);
    const ns = /namespace (pci-harness-probe-[a-z0-9-]+): created/.exec(text)?.[1];
    expect(ns, text.slice(-2000)).toBeDefined();
    await sleep(3000);
    expect((await harnessNamespaces()).join(' ')).toContain(ns);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.all).slice(-2000)).toBe(130);
    expect(String(r.all)).toMatch(new RegExp(`SIGINT received — deleting namespace/${ns}`));
    expect(await harnessNamespaces()).toEqual([]);
    const final = await snapshot();
    expect({ added: final.filter((x) => !before.includes(x)), removed: before.filter((x) => !final.includes(x)) }).toEqual({ added: [], removed: [] });
  });

  it('it can fail: a grant the cluster owner added outside the set (datastore may read Secrets) turns the run red, exit 1 naming 7.2.2', async () => {
    // The owner's drift, made with the owner's own kubectl (not the harness): removed in finally.
    const drift = [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pci-existing-drift', namespace: 'cde-storage' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'pci-existing-drift', namespace: 'cde-storage' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pci-existing-drift' }, subjects: [{ kind: 'ServiceAccount', name: 'datastore', namespace: 'cde-storage' }] },
    ];
    const out = `${runOut}-drift`;
    try {
      const c = await run(images.kubectlBinary, ['--kubeconfig', kubeconfig, '--context', context, 'create', '-f', '-'], { input: drift.map((d) => stringify(d)).join('---\n'), reject: false });
      expect(c.exitCode, c.stderr).toBe(0);
      const r = await execa(process.execPath, [CLI, 'run', '--kubeconfig', kubeconfig, '--context', context, '--out', out], { reject: false, timeout: 900_000 });
      expect(r.exitCode, String(r.stderr).slice(-2000)).toBe(1);
      const failed = readLiveResults(join(out, 'live-results')).filter((x) => x.status === 'fail');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((x) => x.check === 'live.rbac.prediction' && x.requirement === '7.2.2'), failed.map((x) => x.message).join('\n')).toBe(true);
      expect(failed.map((x) => x.message).join('\n')).toMatch(/datastore[\s\S]*secrets/);
      expect(await harnessNamespaces()).toEqual([]);
    } finally {
      await run(images.kubectlBinary, ['--kubeconfig', kubeconfig, '--context', context, 'delete', 'rolebinding,role', 'pci-existing-drift', '-n', 'cde-storage', '--ignore-not-found'], { reject: false });
      rmSync(out, { recursive: true, force: true });
    }
  });
});
