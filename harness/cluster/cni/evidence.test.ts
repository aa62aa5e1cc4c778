import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildRecord } from '../../images/record.ts';
import { versionsFromRecord } from '../../report/run-report.ts';
import type { LiveResult } from '../../scenario/result.ts';
import { readLiveResults, recordLiveResults } from '../../scenario/sink.ts';
import { liveCniFromEnv } from './index.ts';

// The evidence names the CNI a result was observed on: each live result, and the run's versions.
const result = (over: Partial<LiveResult> = {}): LiveResult => ({
  check: 'live.network.canary', requirement: '1.2.1', status: 'pass', message: 'ok', lane: 'live', scenario: 'canary',
  adversary: 'harness', action: 'deny-all', predicted: 'blocked', observed: 'blocked', layer: { kind: 'networkpolicy-ingress' },
  evidence: '', replay: '', ...over,
} as LiveResult);

const saved = { cni: process.env.PCI_LIVE_CNI, results: process.env.PCI_LIVE_RESULTS };
let dir: string | undefined;
afterEach(() => {
  for (const [k, v] of [['PCI_LIVE_CNI', saved.cni], ['PCI_LIVE_RESULTS', saved.results]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('recordLiveResults names the CNI', () => {
  it('stamps PCI_LIVE_CNI on every result, keeps one a scenario set itself, and stamps nothing without it', () => {
    dir = mkdtempSync(join(tmpdir(), 'pci-cni-'));
    process.env.PCI_LIVE_RESULTS = dir;
    process.env.PCI_LIVE_CNI = 'cilium';
    recordLiveResults([result(), result({ cni: 'calico' })]);
    delete process.env.PCI_LIVE_CNI;
    recordLiveResults([result()]);
    expect(readLiveResults(dir).map((r) => r.cni)).toEqual(['cilium', 'calico', undefined]);
  });
});

describe('liveCniFromEnv', () => {
  it('reads calico or cilium and refuses anything else', () => {
    expect(liveCniFromEnv({})).toBeUndefined();
    expect(liveCniFromEnv({ PCI_LIVE_CNI: 'cilium' })).toBe('cilium');
    expect(() => liveCniFromEnv({ PCI_LIVE_CNI: 'Cilium' })).toThrow(/use calico or cilium/);
  });
});

describe('versionsFromRecord', () => {
  const record = {
    kubernetesVersion: 'v1.34.12',
    images: [
      { role: 'calico-node', ref: 'docker.io/calico/node:v3.30.1', digest: 'sha256:a' },
      { role: 'cilium-agent', ref: 'quay.io/cilium/cilium:v1.19.7', digest: 'sha256:b' },
    ],
  } as unknown as BuildRecord;
  it('names the CNI the run used, Calico by default', () => {
    expect(versionsFromRecord(record).cni).toBe('Calico v3.30.1');
    expect(versionsFromRecord(record, 'cilium').cni).toBe('Cilium v1.19.7');
  });
});
