import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootCluster } from './boot.ts';
import { chooseImageSource } from './images.ts';
import { StepError } from './progress.ts';
import type { Cluster, ClusterProvider, ClusterSpec } from './provider.ts';

/** A provider that records what boot asked of it; `failKubectl` makes every kubectl call fail. */
function fakeProvider(opts: { failCreate?: boolean; failKubectl?: string } = {}) {
  const calls: string[] = [];
  const provider: ClusterProvider = {
    name: 'fake',
    async create(spec: ClusterSpec): Promise<Cluster> {
      calls.push(`create ${spec.name}`);
      if (opts.failCreate) throw new Error('nodes never came up');
      return {
        name: spec.name,
        kubeconfigPath: '/dev/null',
        kubeClient: undefined as never,
        images: spec.images,
        workDir: '/nonexistent',
        kubectl: async (args) => {
          calls.push(`kubectl ${args.slice(0, 2).join(' ')}`);
          if (opts.failKubectl) throw new Error(opts.failKubectl);
          return { stdout: '', stderr: '', exitCode: 0 };
        },
      };
    },
    async loadImages(_c, images) {
      calls.push(`loadImages ${images.join(',')}`);
    },
    async collectLogs(name) {
      calls.push(`collectLogs ${name}`);
      return [`/logs/${name}`];
    },
    async delete(name) {
      calls.push(`delete ${name}`);
    },
    list: async () => [],
  };
  return { provider, calls };
}

let cache: string;
let saved: string | undefined;
beforeAll(() => {
  saved = process.env.PCI_HARNESS_CACHE;
  cache = mkdtempSync(join(tmpdir(), 'pci-boot-'));
  process.env.PCI_HARNESS_CACHE = cache;
});
afterAll(() => {
  if (saved === undefined) delete process.env.PCI_HARNESS_CACHE;
  else process.env.PCI_HARNESS_CACHE = saved;
  rmSync(cache, { recursive: true, force: true });
});

const images = chooseImageSource('upstream');
const boot = (provider: ClusterProvider, name: string, keepOnFailure = false) =>
  bootCluster({ layout: 'kindnet', pciSet: false, images, name, provider, keepOnFailure, log: () => {} });

describe('bootCluster: provider creates, steps run from a list, one failure rule', () => {
  it('runs create → load images → CNI in order and records each step', async () => {
    const { provider, calls } = fakeProvider();
    const c = await boot(provider, 'pci-ok');
    expect(calls[0]).toBe('create pci-ok');
    expect(calls[1]).toBe(`loadImages ${images.loadImages.join(',')}`);
    expect(calls).toContain('kubectl wait --for=condition=Ready');
    expect(c.timings.map((t) => t.step)).toEqual(['load images', 'kindnet']);
    const written = JSON.parse(readFileSync(join(cache, 'live-timings', 'boot-pci-ok.json'), 'utf8')) as { ok: boolean; timings: unknown[] };
    expect(written).toMatchObject({ ok: true });
    expect(written.timings).toHaveLength(2);
  });

  it('a failing step: StepError naming it, logs collected, cluster deleted', async () => {
    const { provider, calls } = fakeProvider({ failKubectl: 'nodes not Ready' });
    const err = (await boot(provider, 'pci-bad').catch((e: unknown) => e)) as StepError;
    expect(err).toBeInstanceOf(StepError);
    expect(err.step).toBe('kindnet');
    expect(err.message).toMatch(/nodes not Ready/);
    expect(err.lookAt).toEqual(['/logs/pci-bad']);
    expect(calls.slice(-2)).toEqual(['collectLogs pci-bad', 'delete pci-bad']);
    expect(JSON.parse(readFileSync(join(cache, 'live-timings', 'boot-pci-bad.json'), 'utf8'))).toMatchObject({ ok: false, failedStep: 'kindnet' });
  });

  it('create itself failing follows the same rule; keepOnFailure keeps the cluster', async () => {
    const { provider, calls } = fakeProvider({ failCreate: true });
    const err = (await boot(provider, 'pci-nocreate', true).catch((e: unknown) => e)) as StepError;
    expect(err.step).toBe('fake create');
    expect(calls).toEqual(['create pci-nocreate', 'collectLogs pci-nocreate']);
    expect(err.lookAt.at(-1)).toMatch(/cluster kept: pci-nocreate/);
  });
});
