import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import type { CheckResult } from '../../harness/check/types.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { objectId, type ManifestSet } from '../../harness/manifests/types.ts';
import { PCI_REQUIREMENTS } from '../../harness/pci/requirements.ts';
import { findSpec } from '../../harness/spec/control-map.ts';
import type { ControlMapSpec } from '../../harness/spec/types.ts';
import { SHIPPED } from './cli.ts';

/**
 * The control map is evidence an assessor reads: it must say exactly what the
 * checks prove. Every (requirement, check) pair a check reports is in the
 * map, every mapped check reports under its requirement, and every mapped
 * object exists.
 */
let set: ManifestSet;
let results: CheckResult[];
let map: ControlMapSpec;

beforeAll(async () => {
  set = loadManifestDir(SHIPPED);
  results = (await runAnalyzers(set, defaultAnalyzers())).results;
  map = findSpec<ControlMapSpec>(set, 'ControlMap')!.spec;
});

describe('control map (manifests/spec/controls.yaml) matches what the checks prove', () => {
  it('uses PCI DSS v4.0 numbers only (guide defect 20)', () => {
    for (const r of map.requirements) expect(Object.keys(PCI_REQUIREMENTS), `requirement ${r.id}`).toContain(r.id);
    // The guide's wrong numbers: 3.5.1 is PAN storage, 2.2.7 is non-console admin access, 10.3.2 is not log shipping.
    expect(map.requirements.map((r) => r.id)).not.toContain('3.5.1');
    expect(map.requirements.map((r) => r.id)).not.toContain('2.2.7');
  });

  it('every reported (requirement, check) pair is mapped', () => {
    const mapped = new Set(map.requirements.flatMap((r) => r.checks.map((c) => `${r.id} ${c}`)));
    const reported = [...new Set(results.map((r) => `${r.requirement} ${r.check}`))].sort();
    expect(reported.filter((p) => !mapped.has(p))).toEqual([]);
  });

  it('every mapped check reports under its requirement, and every requirement has a passing proof', () => {
    const reported = new Set(results.map((r) => `${r.requirement} ${r.check}`));
    const missing = map.requirements.flatMap((r) => r.checks.filter((c) => !reported.has(`${r.id} ${c}`)).map((c) => `${r.id} ${c}`));
    expect(missing).toEqual([]);
    for (const r of map.requirements) expect(results.some((x) => x.requirement === r.id && x.status === 'pass'), r.id).toBe(true);
  });

  it('every mapped object exists in the set', () => {
    const ids = new Set(set.objects.map((o) => objectId(o.object)));
    const missing = map.requirements.flatMap((r) => r.objects.filter((o) => !ids.has(o)));
    expect(missing).toEqual([]);
  });
});
