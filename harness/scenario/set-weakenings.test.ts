import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { predictReachability } from '../analyzers/network/matrix.ts';
import { REPO_ROOT } from '../cluster/paths.ts';
import { writeLiveDir } from '../manifests/live-dir.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { loadManifests } from '../manifests/sources.ts';
import { writeTwoTierSet } from '../../suites/offline/fixtures/byo/two-tier.ts';
import { isShippedOnly, notTestedOnSet, SHIPPED_SET_ONLY } from './set-coverage.ts';
import { LIVE_SET_FILE, setWeakenings } from './set-weakenings.ts';
import { LIVE_CHECKS } from './checks.ts';

const SHIPPED = join(REPO_ROOT, 'manifests');

function twoTier(): { src: string; live: string } {
  const root = mkdtempSync(join(tmpdir(), 'pci-live-dir-'));
  const src = join(root, 'set');
  writeTwoTierSet(src, SHIPPED);
  return { src, live: join(root, 'live') };
}

describe('a user set laid out for the live lane (writeLiveDir)', () => {
  it('keeps every API object, takes the platform files the set has, and loads back to the same objects', () => {
    const { src, live } = twoTier();
    const set = loadManifests(src).set;
    const out = writeLiveDir(set, live, SHIPPED);
    expect(readdirSync(live).sort()).toEqual(['cluster', 'control-plane', 'kind', 'spec']);
    // The two-tier set carries its own audit policy, encryption config and kind configs: nothing from the shipped set.
    expect(out.fromShipped).toEqual([]);
    const back = loadManifestDir(live);
    const ids = (objs: typeof set.objects) => objs.map((o) => `${o.object.apiVersion} ${o.object.kind} ${o.object.metadata?.namespace ?? ''}/${o.object.metadata?.name ?? ''}`).sort();
    expect(ids(back.objects.filter((o) => o.source.file.startsWith('cluster/')))).toEqual(ids(set.objects.filter((o) => !o.source.file.startsWith('platform/control-plane') && !o.source.file.startsWith('platform/kind'))));
    // The audit policy is the set's own (its CDE namespaces), not the shipped one.
    expect(readFileSync(join(live, 'control-plane', 'audit-policy.yaml'), 'utf8')).toContain('storefront');
    // The encryption config stays a template: no key is ever written by the layout.
    expect(readFileSync(join(live, 'control-plane', 'encryption-config.yaml'), 'utf8')).toContain('${ENCRYPTION_KEY}');
    // Same model on both sides: the live lane predicts what the offline lane proved.
    expect(predictReachability(back).endpoints.map((e) => e.id)).toEqual(predictReachability(set).endpoints.map((e) => e.id));
  });

  it('says which platform files came from the shipped set when the user has none', () => {
    const { src, live } = twoTier();
    const set = loadManifests(join(src, 'app')).set;
    expect(writeLiveDir(set, live, SHIPPED).fromShipped).toEqual(expect.arrayContaining(['control-plane/audit-policy.yaml', 'control-plane/encryption-config.yaml', 'kind/pci-calico.yaml']));
  });
});

describe('derived weakenings of a set without hand-written mutants', () => {
  it("one per CDE NetworkPolicy shape, each changing its own target in the live dir's set file", () => {
    const { src, live } = twoTier();
    writeLiveDir(loadManifests(src).set, live, SHIPPED);
    const set = loadManifestDir(live);
    const ws = setWeakenings(set);
    expect(ws.map((w) => `${w.id} ${w.requirement}`).sort()).toEqual(
      [
        'set-delete-ledger-default-deny-all 1.3.1',
        'set-delete-storefront-default-deny-all 1.3.1',
        'set-open-egress-ledger-db-egress 1.3.2',
        'set-open-egress-storefront-web-egress 1.3.2',
        'set-open-ingress-ledger-db-ingress 1.3.1',
      ].sort(),
    );
    const docs = parseAllDocuments(readFileSync(join(live, LIVE_SET_FILE), 'utf8')).map((d) => d.toJS());
    for (const w of ws) {
      const after = w.mutate(structuredClone(docs));
      expect(JSON.stringify(after), w.id).not.toBe(JSON.stringify(docs));
    }
    const opened = ws.find((w) => w.id === 'set-open-ingress-ledger-db-ingress')!.mutate(structuredClone(docs));
    const np = opened.find((d: { kind: string; metadata: { name: string } }) => d.kind === 'NetworkPolicy' && d.metadata.name === 'db-ingress');
    expect(np.spec.ingress.every((r: { from?: unknown }) => r.from === undefined)).toBe(true);
  });
});

describe('live files that run on a user set', () => {
  it('each shipped-only file exists and names checks the control map knows', async () => {
    const { existsSync } = await import('node:fs');
    for (const f of SHIPPED_SET_ONLY) {
      expect(existsSync(join(REPO_ROOT, f.file)), f.file).toBe(true);
      for (const c of f.checks) expect(Object.keys(LIVE_CHECKS), `${f.file}: ${c}`).toContain(c);
    }
    expect(isShippedOnly('suites/live/scenarios/lateral-matrix.test.ts')).toBe(false);
  });

  it('what does not run is NOT TESTED under every requirement of its checks, never a pass', () => {
    const r = notTestedOnSet('my-set');
    expect(r.length).toBeGreaterThan(0);
    expect(new Set(r.map((x) => x.status))).toEqual(new Set(['skip']));
    expect(r.find((x) => x.check === 'live.supply-chain.signature')?.message).toMatch(/NOT TESTED on my-set: .*signed-images/);
  });
});
