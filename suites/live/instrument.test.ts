import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../harness/cluster/exec.ts';
import { nodeNamesOf } from '../../harness/cluster/kind/docker.ts';
import type { Cluster } from '../../harness/cluster/provider.ts';
import { adversary } from '../../harness/scenario/adversaries.ts';
import { scenarioContext } from '../../harness/scenario/context.ts';
import { liveExitCode } from '../../harness/scenario/result.ts';
import { runScenario, scenario, target } from '../../harness/scenario/scenario.ts';
import { sharedCluster } from './support/shared.ts';

/**
 * The instrument's own proof (not evidence: nothing here is recorded): a
 * broken probe or a broken DNS makes results INCONCLUSIVE — exit 3 — never
 * "blocked", never a pass. This is how a suite would otherwise pass on a
 * cluster where nothing works.
 *
 * The instrument stands outside the CDE, at the ingress controller, probing
 * into it. Inside, neither case could be set up, and rightly: the broken
 * probe is a local unsigned build, which the allowed-registry and
 * verifyImages rules refuse (6.3.2); with DNS down Kyverno cannot reach the
 * registry to verify a signature, so no new CDE pod is admitted (fail closed).
 */
const probeSteps = scenario({
  id: 'instrument.self-test',
  narrative: 'the ingress → payment-api path, probed with a broken instrument',
  from: adversary.compromised('ingress/ingress-controller'),
  steps: (s) => [
    s.connect(target.service('cde-frontend/payment-api', 8443)).expect('allowed'),
    s.connect(target.service('cde-storage/datastore', 5432)).expect('blocked'),
    s.connect(target.dns('UDP')).expect('allowed'),
  ],
});

const BROKEN = 'localhost/pci-harness/probe:broken';

/** A probe image whose agent serves (the pod runs) but crashes when asked to probe. */
async function buildBrokenProbe(cluster: Cluster): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pci-broken-probe-'));
  try {
    writeFileSync(join(dir, 'pci-probe'), '#!/bin/sh\n[ "$1" = serve ] && exec sleep infinity\necho "pci-probe: segmentation fault" >&2\nexit 139\n', { mode: 0o755 });
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${cluster.images.probeImage}\nCOPY pci-probe /usr/local/bin/pci-probe\n`);
    await run('docker', ['build', '-q', '-t', BROKEN, dir]);
    const tar = join(dir, 'broken.tar');
    await run('docker', ['save', '-o', tar, BROKEN]);
    // The ingress controller's position runs outside the CDE nodes: load it there.
    const cde = (await cluster.kubectl(['get', 'nodes', '-l', 'pci-scope=in-scope', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.trim().split(/\s+/);
    for (const node of (await nodeNamesOf(cluster.name)).filter((n) => !cde.includes(n))) {
      await run('docker', ['exec', '-i', node, 'ctr', '--namespace=k8s.io', 'images', 'import', '--snapshotter=overlayfs', '-'], { inputFile: tar });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The main job (`pci-harness run`, which sets PCI_EVIDENCE_DIR) runs the attacks; this proof of the harness runs in `npm run test:live`.
describe.skipIf(Boolean(process.env.PCI_EVIDENCE_DIR))('a broken instrument is inconclusive (exit 3), never blocked', () => {
  afterAll(async () => {
    // Whatever happened: DNS back, the broken image gone.
    const cluster = sharedCluster();
    await cluster.kubectl(['scale', 'deployment/coredns', '-n', 'kube-system', '--replicas=2'], { reject: false });
    await cluster.kubectl(['rollout', 'status', 'deployment/coredns', '-n', 'kube-system', '--timeout=120s'], { reject: false });
    await run('docker', ['rmi', '-f', BROKEN], { reject: false });
  });

  it('a probe image whose agent crashes: every step inconclusive, none blocked, run exit 3', async () => {
    const cluster = sharedCluster();
    await buildBrokenProbe(cluster);
    const broken: Cluster = { ...cluster, images: { ...cluster.images, probeImage: BROKEN, cdeProbeImage: BROKEN } };
    const r = await runScenario(await scenarioContext(broken), probeSteps);
    try {
      expect(r.results.map((x) => [x.status, x.observed])).toEqual(r.results.map(() => ['inconclusive', 'check-failed']));
      expect(r.results[0]?.message).toMatch(/agent|exec|no result/i);
      expect(liveExitCode(r.results)).toBe(3);
    } finally {
      await r.position.dispose();
    }
  });

  it('DNS down (coredns scaled to 0): name lookups and DNS queries are inconclusive, not blocked; run exit 3', async () => {
    const cluster = sharedCluster();
    await cluster.kubectl(['scale', 'deployment/coredns', '-n', 'kube-system', '--replicas=0']);
    await cluster.kubectl(['wait', '--for=delete', 'pod', '-l', 'k8s-app=kube-dns', '-n', 'kube-system', '--timeout=60s'], { reject: false });
    const r = await runScenario(await scenarioContext(cluster), probeSteps);
    try {
      for (const x of r.results) expect(x.observed, x.message).toBe('check-failed');
      expect(r.results.every((x) => x.status === 'inconclusive')).toBe(true);
      expect(liveExitCode(r.results)).toBe(3);
    } finally {
      await r.position.dispose();
    }
  });
});
