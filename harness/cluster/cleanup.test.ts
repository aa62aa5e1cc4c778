import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetRun, markKept, pidAlive, readRunRecords, recordRun, staleRuns } from './cleanup.ts';
import { clusterWorkDir, runsDir } from './paths.ts';
import { assertHarnessName } from './provider.ts';

const cache = mkdtempSync(join(tmpdir(), 'pci-cache-'));
const saved = process.env.PCI_HARNESS_CACHE;
beforeAll(() => {
  process.env.PCI_HARNESS_CACHE = cache;
});
afterAll(() => {
  if (saved === undefined) delete process.env.PCI_HARNESS_CACHE;
  else process.env.PCI_HARNESS_CACHE = saved;
  rmSync(cache, { recursive: true, force: true });
});

describe('run records and crash sweep', () => {
  it('a run recorded by this live process is not stale', () => {
    recordRun('pci-live', 'kind');
    expect(readRunRecords().find((r) => r.name === 'pci-live')).toMatchObject({ pid: process.pid, host: hostname() });
    expect(staleRuns().map((r) => r.name)).not.toContain('pci-live');
  });
  it('a run whose process has exited is stale (the next start sweeps it)', async () => {
    const child = execa('true');
    await child;
    expect(pidAlive(child.pid!)).toBe(false);
    mkdirSync(runsDir(), { recursive: true });
    writeFileSync(join(runsDir(), 'pci-dead.json'), JSON.stringify({ name: 'pci-dead', pid: child.pid, host: hostname(), startedAt: '', provider: 'kind' }));
    expect(staleRuns().map((r) => r.name)).toContain('pci-dead');
  });
  it('a cluster kept on purpose (`pci-harness up`) is not stale once its process exits', async () => {
    const child = execa('true');
    await child;
    writeFileSync(join(runsDir(), 'pci-kept.json'), JSON.stringify({ name: 'pci-kept', pid: child.pid, host: hostname(), startedAt: '', provider: 'kind' }));
    expect(staleRuns().map((r) => r.name)).toContain('pci-kept');
    markKept('pci-kept');
    expect(staleRuns().map((r) => r.name)).not.toContain('pci-kept');
  });
  it('a half-written record counts as stale rather than being ignored', () => {
    writeFileSync(join(runsDir(), 'pci-torn.json'), '{"name": "pci-to');
    expect(staleRuns().map((r) => r.name)).toContain('pci-torn');
  });
  it('records from another host are left to that host', () => {
    writeFileSync(join(runsDir(), 'pci-other.json'), JSON.stringify({ name: 'pci-other', pid: 1, host: 'elsewhere', startedAt: '', provider: 'kind' }));
    expect(staleRuns().map((r) => r.name)).not.toContain('pci-other');
  });
  it('forgetRun removes the record and the work dir holding the encryption key', () => {
    mkdirSync(clusterWorkDir('pci-live'), { recursive: true });
    writeFileSync(join(clusterWorkDir('pci-live'), 'key'), 'secret');
    forgetRun('pci-live');
    expect(existsSync(clusterWorkDir('pci-live'))).toBe(false);
    expect(readRunRecords().map((r) => r.name)).not.toContain('pci-live');
  });
});

describe('cluster names', () => {
  it('must carry the pci- prefix that cleanup matches on', () => {
    expect(() => assertHarnessName('pci-abc-12')).not.toThrow();
    expect(() => assertHarnessName('kind')).toThrow(/pci-/);
    expect(() => assertHarnessName('pci-UPPER')).toThrow();
  });
});
