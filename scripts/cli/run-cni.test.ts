import { describe, expect, it } from 'vitest';
import type { LiveResult } from '../../harness/scenario/result.ts';
import { InputError } from '../../harness/errors.ts';
import { cniDisagreements, cniKnownDifferences, cniList, mergeOutcomes, renderDisagreements } from './run-cni.ts';
import { vitestArgs, vitestEnv } from './run.ts';

const cell = (cni: 'calico' | 'cilium', observed: LiveResult['observed'], status: LiveResult['status'], action = 'tcp → ledger/ledger-db 6379/TCP via pod-ip'): LiveResult => ({
  lane: 'live', check: 'live.network.matrix', requirement: '1.3.1', status, scenario: 'lateral.matrix', adversary: 'outsider default', action,
  predicted: 'blocked', observed, layer: { kind: 'networkpolicy-ingress' }, message: '', evidence: '', replay: '', cni,
});

describe('run --cni', () => {
  it('calico (default), cilium, or all = both; anything else is a usage error', () => {
    expect(cniList(undefined)).toEqual(['calico']);
    expect(cniList('cilium')).toEqual(['cilium']);
    expect(cniList('all')).toEqual(['calico', 'cilium']);
    expect(() => cniList('flannel')).toThrow(InputError);
  });

  it('with several CNIs each run keeps its own raw files; one CNI keeps the single-run names', () => {
    expect(vitestEnv('/o', 'auto')).toMatchObject({ PCI_LIVE_RESULTS: '/o/live-results', PCI_VITEST_OUTCOME: '/o/live.vitest.json' });
    expect(vitestEnv('/o', 'auto', 'cilium')).toMatchObject({ PCI_LIVE_RESULTS: '/o/live-results/cilium', PCI_VITEST_OUTCOME: '/o/live.vitest.cilium.json' });
    expect(vitestArgs('/o', [], 'cilium')).toContain('--outputFile.junit=/o/live.vitest.cilium.junit.xml');
  });

  it('merges outcomes naming the CNI, and a CNI that left no outcome is an error, not a silent half', () => {
    const o = { reason: 'passed', tests: [{ file: 'f', name: 't', state: 'passed' as const, ms: 1, errors: [] }], suiteErrors: [], unhandledErrors: [] };
    const m = mergeOutcomes([{ cni: 'calico', outcome: o }, { cni: 'cilium', outcome: undefined }])!;
    expect(m.tests.map((t) => t.name)).toEqual(['[calico] t']);
    expect(m.unhandledErrors).toEqual(['[cilium] vitest left no outcome (it did not start, or crashed)']);
    expect(mergeOutcomes([{ cni: 'calico', outcome: o }])).toBe(o);
  });

  it('lists the attempts the two CNIs judged differently, and only those', () => {
    const d = cniDisagreements([cell('calico', 'blocked', 'pass'), cell('cilium', 'allowed', 'fail'), cell('calico', 'blocked', 'pass', 'other'), cell('cilium', 'blocked', 'pass', 'other')]);
    expect(d).toHaveLength(1);
    expect(renderDisagreements(d)).toMatch(/calico blocked \(pass\), cilium allowed \(fail\)/);
    expect(renderDisagreements([])).toMatch(/agree/);
  });

  it('says which differences the harness accounts for: judged on one CNI, not observable on the other, with the reason', () => {
    const notObservable = { ...cell('cilium', 'not-applicable' as LiveResult['observed'], 'skip', 'mutant net-ipblock-pod-network'), message: 'NOT OBSERVABLE on cilium: an ipBlock over pod addresses does not select pods' };
    const results = [cell('calico', 'blocked', 'pass', 'mutant net-ipblock-pod-network'), notObservable, cell('calico', 'blocked', 'pass'), cell('cilium', 'blocked', 'pass')];
    expect(cniDisagreements(results)).toEqual([]); // a skip is not a verdict: not a disagreement
    const known = cniKnownDifferences(results);
    expect(known).toHaveLength(1);
    expect(known[0]).toMatchObject({ judgedOn: 'calico', skippedOn: 'cilium', verdict: { status: 'pass' } });
    const text = renderDisagreements([], known);
    expect(text).toMatch(/agree on every attempt both ran[\s\S]*1 known CNI difference[\s\S]*cilium: NOT OBSERVABLE on cilium: an ipBlock/);
  });
});
