import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildRecord } from '../images/record.ts';
import { InputError } from '../errors.ts';
import { cdeImageRefs, chooseImageSource, PROBE_IMAGE, referencedImages, requireAddonManifests, SERVER_IMAGE } from './images.ts';
import { normalizeRef } from './kind/load.ts';
import { REPO_ROOT } from './paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'pci-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const calico = join(dir, 'calico.yaml');
const kyverno = join(dir, 'kyverno.yaml');
writeFileSync(calico, 'spec:\n  containers:\n    - name: calico-node\n      image: quay.io/calico/node:v3.30.3\n    - image: "quay.io/calico/cni:v3.30.3"\n');
writeFileSync(kyverno, 'containers:\n  - image: reg.kyverno.io/kyverno/kyverno:v1.16.3 # admission\n  - image: reg.kyverno.io/kyverno/not-built:v1\n');

const img = (role: string, ref: string) => ({ role, ref, digest: 'sha256:x', recipe: role, key: 'k' });
const record = (files: Record<string, string>): BuildRecord => ({
  schema: 'pci-harness.dev/image-record/v1',
  generatedAt: '',
  kubernetesVersion: 'v1.34.0',
  images: [
    img('node', 'pci-harness/node:v1.34.0'),
    img('debian-base', 'pci-harness/debian:bookworm'),
    img('calico-node', 'quay.io/calico/node:v3.30.3'),
    img('calico-cni', 'quay.io/calico/cni:v3.30.3'),
    img('kyverno', 'reg.kyverno.io/kyverno/kyverno:v1.16.3'),
    img('probe', PROBE_IMAGE),
    img('server', SERVER_IMAGE),
    // The audit shipper (cluster/50-audit-shipping.yaml).
    img('otelcol', 'localhost/pci-harness/otelcol:v0.156.0'),
  ],
  files: Object.fromEntries(Object.entries(files).map(([k, path]) => [k, { path, recipe: k }])),
  recipes: [],
});
const full = record({ kind: '/bin/kind', 'calico-manifest': calico, 'kyverno-manifest': kyverno });

describe('chooseImageSource: the one place local vs upstream is decided', () => {
  it('auto → local when the record exists: node image from the record, zero pulls expected', () => {
    const s = chooseImageSource('auto', { record: full, pciSetDir: join(REPO_ROOT, 'manifests', 'cluster') });
    expect(s).toMatchObject({ mode: 'local', nodeImage: 'pci-harness/node:v1.34.0', kindBinary: '/bin/kind', expectNoPulls: true, calicoManifest: calico });
  });
  it('loads exactly the built images the manifests reference (never the node or build-only images)', () => {
    const s = chooseImageSource('local', { record: full, pciSetDir: join(REPO_ROOT, 'manifests', 'cluster') });
    expect(s.loadImages).toEqual([PROBE_IMAGE, SERVER_IMAGE, 'localhost/pci-harness/otelcol:v0.156.0', 'quay.io/calico/cni:v3.30.3', 'quay.io/calico/node:v3.30.3', 'reg.kyverno.io/kyverno/kyverno:v1.16.3'].sort());
    expect(s.notBuilt).toEqual(['reg.kyverno.io/kyverno/not-built:v1']);
  });
  it('the shipped set verifies the signing registry: pods get its signed copies, which are pushed at boot, never loaded or reported as pulls', () => {
    const s = chooseImageSource('local', { record: full, pciSetDir: join(REPO_ROOT, 'manifests', 'cluster') });
    expect(s).toMatchObject({ probeImage: PROBE_IMAGE, serverImage: SERVER_IMAGE, cdeProbeImage: 'registry.pci.internal:5000/pci/probe:v1', cdeServerImage: 'registry.pci.internal:5000/pci/server:v1' });
    expect([...s.loadImages, ...s.notBuilt].filter((r) => r.startsWith('registry.pci.internal:5000/'))).toEqual([]);
  });
  it('a set that verifies no registry image (or a boot without the registry) runs the built images', () => {
    const plain = mkdtempSync(join(dir, 'set-'));
    writeFileSync(join(plain, 'w.yaml'), `kind: Pod\nspec:\n  containers:\n    - image: ${SERVER_IMAGE}\n`);
    expect(chooseImageSource('local', { record: full, pciSetDir: plain })).toMatchObject({ cdeProbeImage: PROBE_IMAGE, cdeServerImage: SERVER_IMAGE });
    expect(cdeImageRefs({ serverImage: SERVER_IMAGE, probeImage: PROBE_IMAGE }, false)).toEqual({ cdeServerImage: SERVER_IMAGE, cdeProbeImage: PROBE_IMAGE });
  });
  it('auto → upstream without a record; upstream expects pulls', () => {
    expect(chooseImageSource('auto', { record: null })).toMatchObject({ mode: 'upstream', expectNoPulls: false, nodeImage: expect.stringMatching(/^kindest\/node:v1\.34/) });
  });
  it('--images local without a record, or a record missing a file, is a usage error with a hint', () => {
    expect(() => chooseImageSource('local', { record: null })).toThrow(InputError);
    const partial = chooseImageSource('local', { record: record({ kind: '/bin/kind', 'calico-manifest': calico }) });
    expect(() => requireAddonManifests(partial)).toThrow(/kyverno-manifest.*pci-calico/);
    expect(() => requireAddonManifests(chooseImageSource('local', { record: full }))).not.toThrow();
  });
});

describe('referencedImages / normalizeRef', () => {
  it('reads image: fields, quoted or not, ignoring comments and placeholders', () => {
    expect(referencedImages(['image: a:1\n  - image: "b:2"  # c\nimage: ${X}\nimage: "reg/*"\nnotimage: z'])).toEqual(['a:1', 'b:2']);
  });
  it('normalizes like containerd does', () => {
    expect(normalizeRef('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeRef('calico/node:v3')).toBe('docker.io/calico/node:v3');
    expect(normalizeRef('localhost/pci-harness/probe:v1')).toBe('localhost/pci-harness/probe:v1');
    expect(normalizeRef('quay.io/calico/node:v3.30.3')).toBe('quay.io/calico/node:v3.30.3');
  });
});
