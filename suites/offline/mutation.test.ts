import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { exitCodeFor, runAnalyzers } from '../../harness/check/run.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { cli, SHIPPED } from './cli.ts';
import { MUTANTS, type Mutant } from './mutants.ts';

/** Copy the shipped set and apply one weakening to one file's documents. */
function mutatedCopy(m: Mutant): string {
  const dir = mkdtempSync(join(tmpdir(), `pci-mutant-${m.id}-`));
  cpSync(SHIPPED, dir, { recursive: true });
  const path = join(dir, m.file);
  const docs = parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS())
    .filter((d) => d !== null && d !== undefined);
  const before = JSON.stringify(docs);
  const after = m.mutate(structuredClone(docs));
  // A mutant that changes nothing would "pass" for the wrong reason.
  if (JSON.stringify(after) === before) throw new Error(`mutant ${m.id} did not change ${m.file}: its target is gone`);
  writeFileSync(path, after.map((d) => stringify(d)).join('---\n'));
  return dir;
}

const verdicts: Array<{ id: string; requirement: string; exit: number; named: boolean }> = [];

describe('unmodified shipped set', () => {
  it('`pci-harness check` exits 0', async () => {
    const r = await cli(['check']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
  });
});

describe(`mutation suite: ${MUTANTS.length} weakenings, each must exit 1 naming its requirement`, () => {
  it('has at least 25 distinct mutants over every control area', () => {
    expect(new Set(MUTANTS.map((m) => m.id)).size).toBe(MUTANTS.length);
    expect(MUTANTS.length).toBeGreaterThanOrEqual(25);
    const areas = new Set(MUTANTS.map((m) => m.check.split('.')[0]));
    for (const area of ['network', 'pod-security', 'kyverno', 'rbac', 'audit', 'encryption', 'node-pool']) expect(areas).toContain(area);
  });

  it.each(MUTANTS.map((m) => [`${m.id} → ${m.requirement} (${m.check}): ${m.description}`, m] as const))('%s', async (_name, m) => {
    const dir = mutatedCopy(m);
    try {
      const { results } = await runAnalyzers(loadManifestDir(dir), defaultAnalyzers());
      const failures = results.filter((r) => r.status === 'fail');
      const named = failures.some((r) => r.requirement === m.requirement && r.check === m.check);
      verdicts.push({ id: m.id, requirement: m.requirement, exit: exitCodeFor(results), named });
      expect(exitCodeFor(results)).toBe(1);
      expect(named, `expected a ${m.check} failure naming ${m.requirement}; got: ${failures.map((f) => `${f.check}[${f.requirement}]`).join(', ')}`).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

afterAll(() => {
  if (!verdicts.length) return;
  const lines = verdicts.map((v) => `  ${v.named && v.exit === 1 ? 'KILLED ' : 'SURVIVED'} ${v.id.padEnd(40)} exit ${v.exit}  ${v.requirement}`);
  console.log(`mutants (${verdicts.filter((v) => v.named && v.exit === 1).length}/${verdicts.length} killed):\n${lines.join('\n')}`);
});
