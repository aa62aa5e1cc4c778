import { parseArgs } from 'node:util';
import { InputError } from '../../harness/errors.ts';
import { EXIT } from './exit-codes.ts';

const UP_USAGE = `Usage: pci-harness up [--layout pci-calico|pci-cilium|kindnet] [--images auto|local|upstream] [--name pci-NAME] [--no-pci-set] [--single-node]

Boots a kind cluster (Calico, or Cilium on pci-cilium, + Kyverno + the PCI set) and leaves
it running for exploration or for writing a scenario. Prints its name and
kubeconfig path. Remove it with \`pci-harness down\`.
  --images   local: the images built by \`pci-harness images build\`; upstream:
             registry images (needs internet); auto (default): local when built`;

const DOWN_USAGE = `Usage: pci-harness down [--check]

Removes every cluster, container, network and volume the harness made (kind
clusters named pci-*, and runs recorded by crashed processes). Other kind
clusters are left alone.
  --check    also exit 1 if anything had to be removed (CI: "nothing was left behind")`;

const LAYOUTS = ['pci-calico', 'pci-cilium', 'kindnet'];
const IMAGE_MODES = ['auto', 'local', 'upstream'];

export async function upCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      layout: { type: 'string', default: 'pci-calico' },
      images: { type: 'string', default: 'auto' },
      name: { type: 'string' },
      'no-pci-set': { type: 'boolean', default: false },
      'single-node': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${UP_USAGE}\n`);
    return EXIT.ok;
  }
  if (!LAYOUTS.includes(values.layout)) throw new InputError(`unknown --layout "${values.layout}"`, { hint: `use one of: ${LAYOUTS.join(', ')}` });
  if (!IMAGE_MODES.includes(values.images)) throw new InputError(`unknown --images "${values.images}"`, { hint: `use one of: ${IMAGE_MODES.join(', ')}` });
  if (values.name !== undefined && !/^pci-[a-z0-9-]{1,40}$/.test(values.name)) {
    throw new InputError(`--name "${values.name}" must start with pci- and use lowercase letters, digits and dashes`, {
      hint: 'the pci- prefix is how `pci-harness down` finds what the harness made',
    });
  }
  const { installSignalHandlers, markKept } = await import('../../harness/cluster/cleanup.ts');
  const { bootCluster } = await import('../../harness/cluster/boot.ts');
  const { StepError } = await import('../../harness/cluster/progress.ts');
  installSignalHandlers();
  try {
    const cluster = await bootCluster({
      layout: values.layout as 'pci-calico' | 'pci-cilium' | 'kindnet',
      images: values.images as 'auto' | 'local' | 'upstream',
      name: values.name,
      pciSet: values['no-pci-set'] ? false : undefined,
      singleNode: values['single-node'],
    });
    markKept(cluster.name);
    process.stdout.write(
      `cluster ${cluster.name} is up in ${(cluster.bootMs / 1000).toFixed(0)} s\n` +
        `  export KUBECONFIG=${cluster.kubeconfigPath}\n` +
        `  live lane against it: PCI_LIVE_KUBECONFIG=${cluster.kubeconfigPath} npx vitest run --project live\n` +
        '  remove it with: pci-harness down\n',
    );
    return EXIT.ok;
  } catch (e) {
    // Bad input (the PCI set, a flag): exit 2 through the CLI's own handler, not "environment".
    if (e instanceof InputError) throw e;
    process.stderr.write(`pci-harness up: ${e instanceof StepError ? e.describe() : (e as Error).message}\n`);
    return EXIT.environment;
  }
}

export async function downCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { check: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, strict: true });
  if (values.help) {
    process.stdout.write(`${DOWN_USAGE}\n`);
    return EXIT.ok;
  }
  const { downAll } = await import('../../harness/cluster/cleanup.ts');
  const report = await downAll((l) => process.stderr.write(`down: ${l}\n`));
  const removed = report.clusters.length + report.networks.length;
  process.stdout.write(
    removed
      ? `removed ${report.clusters.length} cluster(s) [${report.clusters.join(', ')}] and ${report.networks.length} network(s) [${report.networks.join(', ')}]\n`
      : 'nothing to remove: no cluster, container, network or volume made by the harness\n',
  );
  return values.check && removed ? EXIT.controlFailed : EXIT.ok;
}
