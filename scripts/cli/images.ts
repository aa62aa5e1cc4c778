import { parseArgs } from 'node:util';
import { InputError } from '../../harness/errors.ts';
import { EXIT } from './exit-codes.ts';
import { cniList } from './run-cni.ts';

export const IMAGES_USAGE = `Usage: pci-harness images build [RECIPE...] [--cni calico|cilium|all] [--force] [--k8s-version v1.34.x]

Builds every image a test cluster needs (kind node, Calico, Kyverno, probe,
server, signing) from Go modules and Debian packages only. Cached by inputs:
a warm machine rebuilds nothing. Writes the supply-chain record to
$PCI_HARNESS_CACHE/images/record.{json,md} (default ~/.cache/pci-harness).
  RECIPE          build only these recipes (and what they depend on)
  --cni C         only what the live lane on C needs (every recipe but the other CNI's);
                  default all. A build that finds everything cached never waits for another
                  build's lock, so a Calico run goes on while Cilium builds elsewhere
  --force         rebuild the selected recipes even when cached
  --k8s-version   Kubernetes version of the node image (default: the pinned 1.34 patch)
Exit: 0 built or reused, 2 usage, 3 a recipe failed (its log tail is printed).`;

export async function imagesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`${IMAGES_USAGE}\n`);
    return sub ? EXIT.ok : EXIT.badInput;
  }
  if (sub !== 'build') throw new InputError(`unknown images subcommand "${sub}"`, { hint: 'use `pci-harness images build`' });
  const { values, positionals } = parseArgs({
    args: rest,
    options: { force: { type: 'boolean', default: false }, cni: { type: 'string' }, 'k8s-version': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${IMAGES_USAGE}\n`);
    return EXIT.ok;
  }
  const { buildImages, RecipeFailure } = await import('../images/build.ts');
  const { recipes, recipesForCnis } = await import('../images/recipes.ts');
  const known = new Set(recipes.map((r) => r.name));
  const unknown = positionals.filter((p) => !known.has(p));
  if (unknown.length) throw new InputError(`unknown recipe ${unknown.map((u) => `"${u}"`).join(', ')}`, { hint: `known recipes: ${[...known].join(', ')}` });
  if (values.cni !== undefined && positionals.length) throw new InputError('give recipes or --cni, not both', { hint: '--cni selects the recipes a live lane needs' });
  const selected = values.cni !== undefined ? recipesForCnis(cniList(values.cni)) : positionals;
  const k8s = values['k8s-version'];
  if (k8s !== undefined && !/^v1\.\d+\.\d+$/.test(k8s)) throw new InputError(`--k8s-version "${k8s}" is not a version like v1.34.12`);
  try {
    await buildImages({ recipes: selected, force: values.force, kubernetesVersion: k8s });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof RecipeFailure) {
      const { logTail } = await import('../images/lib/run.ts');
      process.stderr.write(`pci-harness images: recipe "${e.recipe}" failed. Full log: ${e.logFile}\n--- last lines ---\n${logTail(e.logFile, 30)}\n`);
      return EXIT.environment;
    }
    throw e;
  }
}
