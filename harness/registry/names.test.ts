import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cluster/paths.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { registryConfig } from './container.ts';
import { clusterImageRef, hostsToml, hostsTomlPath, PUBLIC_KEY_PLACEHOLDER, REGISTRY_HOST, setVerifiesRegistry, signedImagePlan, verifiedImageReferences, withPublicKey } from './names.ts';

const PUB = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEabc+/def=\n-----END PUBLIC KEY-----\n';
const set = loadManifestDir(join(REPO_ROOT, 'manifests', 'cluster')).objects.map((o) => o.object);

describe('the live lane registry name and the set agree', () => {
  it('the shipped verifyImages policy verifies exactly the registry the harness starts', () => {
    expect(verifiedImageReferences(set)).toEqual([`${REGISTRY_HOST}/pci/*`]);
    expect(setVerifiesRegistry(set)).toBe(true);
    expect(setVerifiesRegistry(set, 'elsewhere:5000')).toBe(false);
  });

  it('names images as the cluster pulls them, by tag or digest', () => {
    expect(clusterImageRef('server', 'v1')).toBe('registry.pci.internal:5000/pci/server:v1');
    expect(clusterImageRef('server', 'sha256:ab')).toBe('registry.pci.internal:5000/pci/server@sha256:ab');
  });

  it('containerd hosts.toml: plain HTTP to the registry itself, pull and resolve only', () => {
    expect(hostsTomlPath()).toBe('/etc/containerd/certs.d/registry.pci.internal:5000/hosts.toml');
    expect(hostsToml()).toContain('server = "http://registry.pci.internal:5000"');
    expect(hostsToml()).toContain('[host."http://registry.pci.internal:5000"]\n  capabilities = ["pull", "resolve"]');
    expect(hostsToml()).not.toContain('push');
  });

  it('the registry config has no auth section (Debian turns htpasswd on) and serves on 5000', () => {
    const cfg = registryConfig('s3cr3t');
    expect(cfg).not.toMatch(/auth:|htpasswd/);
    expect(cfg).toContain('addr: :5000');
  });
});

describe('withPublicKey: the per-run public key in place of the placeholder, never a private key', () => {
  it('substitutes the shipped policy once, leaves the loaded set untouched', () => {
    const before = JSON.stringify(set);
    const { objects, substituted } = withPublicKey(set, PUB);
    expect(substituted).toBe(1);
    expect(JSON.stringify(objects)).not.toContain(PUBLIC_KEY_PLACEHOLDER);
    expect(JSON.stringify(objects)).toContain(JSON.stringify(PUB).slice(1, -1));
    expect(JSON.stringify(set)).toBe(before);
  });

  it('refuses a private key or anything that is not a PEM public key', () => {
    expect(() => withPublicKey(set, '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n')).toThrow(/not a PEM public key/);
    expect(() => withPublicKey(set, 'hello')).toThrow(/not a PEM public key/);
  });

  it('a set without the placeholder is unchanged', () => {
    const other = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } }];
    expect(withPublicKey(other, PUB)).toEqual({ objects: other, substituted: 0 });
  });

  it('every image the shipped set runs from the registry is one the boot pushes and signs, and the verified references cover them', () => {
    const plan = signedImagePlan({ serverImage: 'localhost/pci-harness/server:v1', probeImage: 'localhost/pci-harness/probe:v1' });
    expect(plan.map((p) => [p.role, p.local, p.ref])).toEqual([
      ['server', 'localhost/pci-harness/server:v1', `${REGISTRY_HOST}/pci/server:v1`],
      ['probe', 'localhost/pci-harness/probe:v1', `${REGISTRY_HOST}/pci/probe:v1`],
    ]);
    const run = [...JSON.stringify(set).matchAll(/"image":"([^"*|]+)"/g)].map((m) => m[1]!).filter((r) => r.startsWith(`${REGISTRY_HOST}/`));
    expect(run.length).toBeGreaterThan(0);
    for (const r of run) expect(plan.map((p) => p.ref)).toContain(r);
  });
});
