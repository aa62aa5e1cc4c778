import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateCluster } from './attach.ts';

const dir = mkdtempSync(join(tmpdir(), 'pci-attach-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const kubeconfig = (context: string) => {
  const p = join(dir, `${context}.kubeconfig`);
  writeFileSync(
    p,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: ${context}, context: {cluster: c, user: u}}]\ncurrent-context: ${context}\n`,
  );
  return p;
};

describe('locateCluster (reusing a running cluster: PCI_LIVE_KUBECONFIG)', () => {
  it("takes the name from kind's kind-<name> context and an explicit work dir holding audit/", async () => {
    const work = join(dir, 'work');
    mkdirSync(join(work, 'audit'), { recursive: true });
    await expect(locateCluster(kubeconfig('kind-pci-abc-1234'), { workDir: work })).resolves.toEqual({ name: 'pci-abc-1234', workDir: work });
  });
  it('says what to set when the work dir cannot be found (never resolves it relative to "")', async () => {
    await expect(locateCluster(kubeconfig('kind-pci-nowhere-0000'))).rejects.toThrow(/set PCI_LIVE_WORKDIR/);
    await expect(locateCluster(kubeconfig('kind-pci-x'), { workDir: join(dir, 'empty') })).rejects.toThrow(/has no audit\/ directory/);
    await expect(locateCluster(kubeconfig('admin@prod'))).rejects.toThrow(/set PCI_LIVE_CLUSTER/);
  });
});
