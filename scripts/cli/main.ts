import { InputError } from '../../harness/errors.ts';
import { EXIT } from './exit-codes.ts';
import { VERSION } from './paths.ts';

const USAGE = `pci-harness ${VERSION} — PCI DSS v4.0 policy-as-code test harness for Kubernetes

Usage: pci-harness <command> [options]

Commands:
  check          prove every control of a manifest set offline (the PR gate)
  init           draft the declarations (spec/) for your own manifest set, for a person to review
  run            main job: build/reuse images, boot a kind cluster, run the live suites, write the evidence report
                 (--shard i/n: only the i-th of n slices of the live files)
  verify DIR     check an evidence package: its signature and every file (names what changed)
  merge DIR...   one package and one report from the packages of \`run --shard i/n\` (each shard kept signed)
  keygen         make the key pair that signs evidence packages (kept outside the repo and the package)
  baseline       sign a run as the release baseline (countersign it), or diff a run against one
  step-summary   append Markdown to $GITHUB_STEP_SUMMARY, cut to stay under GitHub's 1 MiB (CI)
  images build   build every image a test cluster needs, from Go modules and Debian packages (cached)
  up             boot a cluster with the PCI set applied and leave it running (prints its kubeconfig)
  down           remove every cluster, container, network and volume the harness made
  help           this text; \`pci-harness <command> --help\` for a command's options

Exit codes: 0 ok, 1 a control failed, 2 bad input or usage, 3 environment failure
(Docker, image build, cluster boot), 130/143 interrupted (after cleanup).`;

type Command = (argv: string[]) => Promise<number>;

// Commands load lazily: `check` must not pay for the Kubernetes client's start-up.
export const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./check.ts')).checkCommand,
  init: async () => (await import('./init.ts')).initCommand,
  run: async () => (await import('./run.ts')).runCommand,
  images: async () => (await import('./images.ts')).imagesCommand,
  verify: async () => (await import('./keys.ts')).verifyCommand,
  merge: async () => (await import('./merge.ts')).mergeCommand,
  'step-summary': async () => (await import('./step-summary.ts')).stepSummaryCommand,
  keygen: async () => (await import('./keys.ts')).keygenCommand,
  baseline: async () => (await import('./baseline.ts')).baselineCommand,
  up: async () => (await import('./cluster.ts')).upCommand,
  down: async () => (await import('./cluster.ts')).downCommand,
};

function isParseArgsError(e: unknown): e is Error & { code: string } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name ? EXIT.ok : EXIT.badInput;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`pci-harness: unknown command "${name}"\n  hint: run \`pci-harness help\` for the list\n`);
    return EXIT.badInput;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`pci-harness ${name}: ${e.describe()}\n`);
      return EXIT.badInput;
    }
    if (isParseArgsError(e)) {
      process.stderr.write(`pci-harness ${name}: ${e.message}\n  hint: run \`pci-harness ${name} --help\`\n`);
      return EXIT.badInput;
    }
    const err = e as Error;
    process.stderr.write(`pci-harness ${name}: ${err.message}\n`);
    if (process.env.PCI_HARNESS_DEBUG) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('  (set PCI_HARNESS_DEBUG=1 for a stack trace)\n');
    return EXIT.environment;
  }
}
