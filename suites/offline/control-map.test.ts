import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import type { CheckResult } from '../../harness/check/types.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { objectId, type ManifestSet } from '../../harness/manifests/types.ts';
import { PCI_REQUIREMENTS } from '../../harness/pci/requirements.ts';
import { LIVE_CHECKS } from '../../harness/scenario/checks.ts';
import { findSpec } from '../../harness/spec/control-map.ts';
import type { ControlMapSpec } from '../../harness/spec/types.ts';
import { SHIPPED } from './cli.ts';

/**
 * The control map is evidence an assessor reads: it must say exactly what the
 * checks prove, in both lanes. Offline: every (requirement, check) pair a
 * check reports is in the map, every mapped offline check reports under its
 * requirement, and every mapped object exists. Live: the map and
 * LIVE_CHECKS (harness/scenario/checks.ts, the requirements each live check
 * may name) are equal, pair for pair.
 */
const isLive = (check: string) => check.startsWith('live.');
let set: ManifestSet;
let results: CheckResult[];
let map: ControlMapSpec;

beforeAll(async () => {
  set = loadManifestDir(SHIPPED);
  results = (await runAnalyzers(set, defaultAnalyzers())).results;
  map = findSpec<ControlMapSpec>(set, 'ControlMap')!.spec;
}, 120_000); // every analyzer, the Kyverno CLI included, on a busy machine

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

  it('every mapped offline check reports under its requirement, and every requirement has a passing proof', () => {
    const reported = new Set(results.map((r) => `${r.requirement} ${r.check}`));
    const missing = map.requirements.flatMap((r) => r.checks.filter((c) => !isLive(c) && !reported.has(`${r.id} ${c}`)).map((c) => `${r.id} ${c}`));
    expect(missing).toEqual([]);
    // A requirement the set says it does not prove (notTested) needs no proof, and must not have one.
    for (const r of map.requirements) expect(results.some((x) => x.requirement === r.id && x.status === 'pass'), r.id).toBe(!r.notTested);
  });

  it('every mapped object exists in the set', () => {
    const ids = new Set(set.objects.map((o) => objectId(o.object)));
    const missing = map.requirements.flatMap((r) => r.objects.filter((o) => !ids.has(o)));
    expect(missing).toEqual([]);
  });
});

describe('control map covers the live lane (harness/scenario/checks.ts)', () => {
  const livePairs = () => Object.entries(LIVE_CHECKS).flatMap(([id, reqs]) => reqs.map((r) => `${r} ${id}`));
  const mappedLive = () => map.requirements.flatMap((r) => r.checks.filter(isLive).map((c) => `${r.id} ${c}`));

  it('every live check id, with every requirement it names, is mapped in controls.yaml', () => {
    const mapped = new Set(mappedLive());
    expect(livePairs().filter((p) => !mapped.has(p))).toEqual([]);
  });

  it('every live.* id in controls.yaml exists in LIVE_CHECKS, under a requirement it names', () => {
    const known = new Set(livePairs());
    expect(mappedLive().filter((p) => !known.has(p))).toEqual([]);
  });

  it('no offline analyzer reports a live id, and every live requirement is a v4.0 number', () => {
    expect(results.filter((r) => isLive(r.check))).toEqual([]);
    for (const reqs of Object.values(LIVE_CHECKS)) for (const r of reqs) expect(Object.keys(PCI_REQUIREMENTS)).toContain(r);
  });
});
