import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { COMMANDS } from './main.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * The workflows users copy from ci/: they parse, their jobs and needs hold
 * together, every artifact name is unique once the matrix is expanded, every
 * download finds an upload it waits for, and every pci-harness command they
 * call exists. GitHub would only tell a user after a push.
 */
const CI = join(REPO_ROOT, 'ci');
const files = readdirSync(CI).filter((f) => /\.ya?ml$/.test(f));

interface Step { uses?: string; run?: string; if?: string; with?: Record<string, unknown>; shell?: string }
interface Job { 'runs-on'?: string; needs?: string | string[]; if?: string; strategy?: { matrix?: Record<string, unknown> }; steps?: Step[] }
interface Workflow { name?: string; on?: unknown; jobs?: Record<string, Job> }

function load(file: string): Workflow {
  const doc = parseDocument(readFileSync(join(CI, file), 'utf8'), { uniqueKeys: true });
  expect(doc.errors.map((e) => e.message), file).toEqual([]);
  expect(doc.warnings.map((e) => e.message), file).toEqual([]);
  return doc.toJS() as Workflow;
}

const needsOf = (j: Job) => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);

/** Every combination of the job's matrix (the `include`/`exclude` forms are not used by these workflows: refused). */
function combos(job: Job): Array<Record<string, string>> {
  const m = job.strategy?.matrix;
  if (!m) return [{}];
  expect(Object.keys(m).filter((k) => k === 'include' || k === 'exclude')).toEqual([]);
  return Object.entries(m).reduce<Array<Record<string, string>>>((acc, [k, vs]) => acc.flatMap((c) => (vs as unknown[]).map((v) => ({ ...c, [k]: String(v) }))), [{}]);
}

const expand = (s: string, c: Record<string, string>) => s.replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, (_, k: string) => c[k] ?? `<unknown matrix.${k}>`);
const globRe = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

function dependsOn(jobs: Record<string, Job>, from: string, on: string, seen = new Set<string>()): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  return needsOf(jobs[from] as Job).some((n) => n === on || dependsOn(jobs, n, on, seen));
}

describe.each(files)('ci/%s', (file) => {
  const wf = load(file);
  const jobs = wf.jobs ?? {};

  it('is a workflow: a name, triggers, jobs with runs-on and steps', () => {
    expect(wf.name).toBeTruthy();
    expect(wf.on).toBeTruthy();
    expect(Object.keys(jobs).length).toBeGreaterThan(0);
    for (const [id, j] of Object.entries(jobs)) {
      expect(j['runs-on'], id).toBeTruthy();
      expect(j.steps?.length, id).toBeGreaterThan(0);
      for (const s of j.steps ?? []) expect(Boolean(s.uses) !== Boolean(s.run), `${id}: a step has exactly one of uses/run`).toBe(true);
    }
  });

  it('needs name existing jobs, without a cycle', () => {
    for (const [id, j] of Object.entries(jobs)) {
      for (const n of needsOf(j)) expect(Object.keys(jobs), `${id} needs ${n}`).toContain(n);
      expect(dependsOn(jobs, id, id), `${id} depends on itself`).toBe(false);
    }
  });

  it('artifact names are unique once the matrix is expanded; every download finds an upload of a job it needs; uploads run even when the job failed', () => {
    const uploads: Array<{ job: string; name: string }> = [];
    for (const [id, j] of Object.entries(jobs))
      for (const s of j.steps ?? [])
        if (s.uses?.startsWith('actions/upload-artifact@')) {
          expect(s.if, `${id}: upload ${String(s.with?.name)} must run if: always()`).toMatch(/always\(\)/);
          for (const c of combos(j)) uploads.push({ job: id, name: expand(String(s.with?.name), c) });
        }
    const names = uploads.map((u) => u.name);
    expect(names.filter((n) => /\$\{\{|<unknown/.test(n))).toEqual([]);
    expect(new Set(names).size, `duplicate artifact names: ${names.join(', ')}`).toBe(names.length);
    for (const [id, j] of Object.entries(jobs))
      for (const s of j.steps ?? [])
        if (s.uses?.startsWith('actions/download-artifact@')) {
          const pattern = String(s.with?.pattern ?? s.with?.name);
          const found = uploads.filter((u) => globRe(pattern).test(u.name));
          expect(found.length, `${id}: download ${pattern} matches no upload`).toBeGreaterThan(0);
          for (const u of found) expect(dependsOn(jobs, id, u.job), `${id} downloads ${u.name} but does not need ${u.job}`).toBe(true);
        }
  });

  it('calls only pci-harness commands that exist; a --shard i/n agrees with its matrix; the step summary only through step-summary', () => {
    for (const [id, j] of Object.entries(jobs)) {
      const cs = combos(j);
      for (const s of j.steps ?? []) {
        const run = s.run ?? '';
        for (const m of run.matchAll(/pci-harness\s+([a-z][\w-]*)/g)) expect(Object.keys(COMMANDS), `${id}: pci-harness ${m[1]}`).toContain(m[1]);
        const shard = /--shard\s+(\S+)\/(\d+)/.exec(run);
        if (shard) {
          const values = cs.map((c) => expand(shard[1] as string, c));
          const count = Number(shard[2]);
          expect(values.map(Number).sort((a, b) => a - b), `${id}: shards 1..${count}`).toEqual(Array.from({ length: count }, (_, i) => i + 1));
        }
        expect(run, `${id}: writes $GITHUB_STEP_SUMMARY directly (use pci-harness step-summary: 1 MiB limit)`).not.toMatch(/>>?\s*"?\$\{?GITHUB_STEP_SUMMARY/);
        if (/\|\|\s*code=\$\?|\|/.test(run) && /\n/.test(run)) expect(s.shell, `${id}: a multi-line script that keeps exit codes needs shell: bash (-eo pipefail)`).toBe('bash');
      }
    }
  });
});

describe('the CI lanes together', () => {
  it('the PR lane diffs against the baseline in Markdown into the step summary and uploads the package; the live lane merges its shards', () => {
    const runs = (wf: Workflow) => Object.values(wf.jobs ?? {}).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? '')).join('\n');
    const pr = runs(load('pr-offline.yml'));
    expect(pr).toMatch(/pci-harness baseline diff .*--format markdown > baseline-diff\.md/);
    expect(pr).toContain('pci-harness step-summary baseline-diff.md');
    expect(JSON.stringify(load('pr-offline.yml'))).toContain('actions/upload-artifact@');
    const liveWf = load('live.yml');
    // Both CNIs × 3 shards, and each job boots its own matrix CNI.
    expect(combos(liveWf.jobs!.live!)).toHaveLength(6);
    expect(new Set(combos(liveWf.jobs!.live!).map((c) => c.cni))).toEqual(new Set(['calico', 'cilium']));
    expect(runs({ jobs: { live: liveWf.jobs!.live! } })).toContain('pci-harness run --cni ${{ matrix.cni }} --shard');
    expect(runs({ jobs: { merge: liveWf.jobs!.merge! } })).toMatch(/pci-harness merge shards\/\* --out merged/);
    expect(liveWf.jobs!.merge!.if).toBe('always()'); // a failed shard still gets its merged report
  });
});
