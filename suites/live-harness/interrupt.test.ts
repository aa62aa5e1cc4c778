import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { run } from '../../harness/cluster/exec.ts';
import { containersOf, KIND_CLUSTER_LABEL, pciNetworks, volumesOf } from '../../harness/cluster/kind/docker.ts';
import { clusterWorkDir, REPO_ROOT, runsDir } from '../../harness/cluster/paths.ts';
import { newClusterName } from '../../harness/cluster/boot.ts';

/**
 * (e) An interrupted boot leaves nothing behind. The boot runs in a real child
 * process; the signal arrives while `kind create cluster` is creating nodes
 * (the worst moment: kind's own children are mid-`docker run`). SIGINT is a
 * person's Ctrl-C, SIGTERM a CI runner cancelling the job.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('interrupting a boot', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-boot: exit %i, and no container, network, volume, run record or key dir of that cluster remains', async (signal, exitCode) => {
    const name = newClusterName();
    // The user-facing CLI, so its own signal handling is what is proven.
    const child = execa(process.execPath, [join(REPO_ROOT, 'scripts/pci-harness.mjs'), 'up', '--layout', 'kindnet', '--no-pci-set', '--name', name], {
      reject: false,
      all: true,
      // execa escalates SIGTERM to SIGKILL after 5 s by default; cleanup must be observed, not cut short.
      forceKillAfterDelay: false,
    });
    let exited = false;
    void child.then(() => {
      exited = true;
    });
    // Wait until kind has created at least one node container.
    let ids: string[] = [];
    for (let i = 0; i < 240 && ids.length === 0; i++) {
      await sleep(500);
      ids = await containersOf(name);
      if (exited) break;
    }
    expect(ids.length, 'kind never created a node container').toBeGreaterThan(0);
    await sleep(2000);
    const volumes = await volumesOf(await containersOf(name));
    const networks = [...(await pciNetworks()).entries()].filter(([, owner]) => owner === name).map(([net]) => net);
    expect(networks).toEqual([name]);

    child.kill(signal);
    const result = await child;
    expect(result.exitCode, String(result.all).slice(-2000)).toBe(exitCode);
    expect(String(result.all)).toMatch(new RegExp(`${signal} received — deleting`));

    expect(await containersOf(name)).toEqual([]);
    const leftover = (await run('docker', ['ps', '-a', '-q', '--filter', `label=${KIND_CLUSTER_LABEL}=${name}`])).stdout.trim();
    expect(leftover).toBe('');
    expect([...(await pciNetworks()).values()]).not.toContain(name);
    const allVolumes = (await run('docker', ['volume', 'ls', '-q'])).stdout.split('\n');
    for (const v of volumes) expect(allVolumes).not.toContain(v);
    expect(existsSync(join(runsDir(), `${name}.json`))).toBe(false);
    expect(existsSync(clusterWorkDir(name))).toBe(false);
  });
});
