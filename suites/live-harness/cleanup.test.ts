import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { sweepStale } from '../../harness/cluster/cleanup.ts';
import { run } from '../../harness/cluster/exec.ts';
import { containersOf, ensureNetwork, KIND_CLUSTER_LABEL, pciContainers, pciNetworks, volumesOf } from '../../harness/cluster/kind/docker.ts';
import { newClusterName } from '../../harness/cluster/boot.ts';
import { clusterWorkDir, runsDir } from '../../harness/cluster/paths.ts';
import { PROBE_IMAGE } from '../../harness/cluster/images.ts';

/**
 * Crash recovery, with real Docker objects shaped like a kind node (the kind
 * label, an anonymous volume, our labelled network) but no Kubernetes inside:
 * a run record whose pid is dead makes the next start remove all of it.
 * Only this fake cluster is touched (never `downAll`, which would also take the
 * shared cluster of a concurrent live run).
 */
describe('crash sweep removes what a dead run left', () => {
  it('container, anonymous volume, network, record and key dir of a dead pid are removed; a live run is kept', async () => {
    const dead = newClusterName();
    const alive = newClusterName();
    const fakeNode = async (name: string) => {
      await ensureNetwork(name, name);
      await run('docker', ['run', '-d', '--name', `${name}-control-plane`, '--label', `${KIND_CLUSTER_LABEL}=${name}`, '--network', name, '--volume', '/var', '--entrypoint', 'sleep', PROBE_IMAGE, 'infinity']);
    };
    try {
      await Promise.all([fakeNode(dead), fakeNode(alive)]);
      const volumes = await volumesOf(await containersOf(dead));
      expect(volumes).toHaveLength(1);

      const exited = execa('true');
      await exited;
      mkdirSync(runsDir(), { recursive: true });
      mkdirSync(clusterWorkDir(dead), { recursive: true });
      writeFileSync(join(runsDir(), `${dead}.json`), JSON.stringify({ name: dead, pid: exited.pid, host: hostname(), startedAt: 'then', provider: 'kind' }));
      // Another process that is still running owns `alive`.
      const owner = execa('sleep', ['60'], { reject: false });
      writeFileSync(join(runsDir(), `${alive}.json`), JSON.stringify({ name: alive, pid: owner.pid, host: hostname(), startedAt: 'now', provider: 'kind' }));

      const swept = await sweepStale();
      owner.kill();
      expect(swept).toContain(dead);
      expect(swept).not.toContain(alive);

      expect(await containersOf(dead)).toEqual([]);
      expect([...(await pciNetworks()).values()]).not.toContain(dead);
      const left = (await run('docker', ['volume', 'ls', '-q'])).stdout.split('\n');
      for (const v of volumes) expect(left).not.toContain(v);
      expect(existsSync(join(runsDir(), `${dead}.json`))).toBe(false);
      expect(existsSync(clusterWorkDir(dead))).toBe(false);

      expect((await pciContainers()).get(alive)).toHaveLength(1);
    } finally {
      for (const n of [dead, alive]) {
        await run('docker', ['rm', '-f', '-v', `${n}-control-plane`], { reject: false });
        await run('docker', ['network', 'rm', n], { reject: false });
        await run('rm', ['-f', join(runsDir(), `${n}.json`)], { reject: false });
      }
    }
  });
});
