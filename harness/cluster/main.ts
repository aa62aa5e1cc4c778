/**
 * Standalone entry for the cluster harness (the `up`/`down` CLI commands wrap
 * the same functions). Used by the interrupt test, which needs a real child
 * process to send SIGINT to.
 *   node harness/cluster/main.ts up [--layout pci-calico|kindnet] [--images local|upstream|auto] [--name pci-x] [--no-pci-set] [--single-node] [--keep] [--keep-on-failure]
 *   node harness/cluster/main.ts down
 * `up` without --keep boots, prints the kubeconfig path, then deletes the cluster (a boot smoke test).
 */
import { parseArgs } from 'node:util';
import { bootCluster } from './boot.ts';
import { downAll, installSignalHandlers } from './cleanup.ts';
import type { ImageMode } from './images.ts';
import { StepError } from './progress.ts';
import type { ClusterLayout } from './provider.ts';

export async function clusterMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  installSignalHandlers();
  if (cmd === 'down') {
    const r = await downAll((l) => process.stderr.write(`down: ${l}\n`));
    process.stdout.write(`removed ${r.clusters.length} cluster(s)${r.clusters.length ? `: ${r.clusters.join(', ')}` : ''}\n`);
    return 0;
  }
  if (cmd !== 'up') {
    process.stderr.write('usage: main.ts up|down [options]\n');
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      layout: { type: 'string', default: 'pci-calico' },
      images: { type: 'string', default: 'auto' },
      name: { type: 'string' },
      'no-pci-set': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'keep-on-failure': { type: 'boolean', default: false },
      'single-node': { type: 'boolean', default: false },
    },
  });
  try {
    const cluster = await bootCluster({
      layout: values.layout as ClusterLayout,
      images: values.images as ImageMode | 'auto',
      name: values.name,
      pciSet: values['no-pci-set'] ? false : undefined,
      keepOnFailure: values['keep-on-failure'],
      singleNode: values['single-node'],
    });
    process.stdout.write(`${JSON.stringify({ name: cluster.name, kubeconfig: cluster.kubeconfigPath, bootMs: Math.round(cluster.bootMs), timings: cluster.timings })}\n`);
    if (!values.keep) await cluster.destroy();
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof StepError ? e.describe() : (e as Error).message}\n`);
    return 3;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await clusterMain(process.argv.slice(2));
}
