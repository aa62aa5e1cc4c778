import { spawnSync } from 'node:child_process';
import { InputError } from '../errors.ts';
import { locateBinary } from '../tools/locate.ts';

/** The binaries that render a user's set, found like every other tool (flag/env, the build cache, PATH). */
const TOOLS = {
  kubectl: { envVar: 'PCI_HARNESS_KUBECTL', build: 'npx pci-harness images build k8s-binaries' },
  helm: { envVar: 'PCI_HARNESS_HELM', build: 'npx pci-harness images build helm' },
} as const;
export type RenderTool = keyof typeof TOOLS;

export function locateRenderTool(name: RenderTool, env: NodeJS.ProcessEnv = process.env): string {
  const r = locateBinary({ name, envVar: TOOLS[name].envVar }, env);
  if ('found' in r) return r.found.path;
  // Not the user's input: the environment lacks a tool (exit 3 via the CLI's generic error path).
  throw new Error(`${name} not found (tried: ${r.missing.join(', ')}); build it with \`${TOOLS[name].build}\`, or set $${TOOLS[name].envVar}`);
}

/**
 * Run a render tool and return its standard output. A render that fails is
 * bad input (exit 2): the tool's own message is shown as it printed it,
 * attributed to `where` (the file the tool's error names, when it names one).
 */
export function runRenderTool(
  name: RenderTool,
  args: string[],
  what: string,
  where: (stderr: string) => { file?: string; line?: number },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const bin = locateRenderTool(name, env);
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, env });
  if (r.error) throw new Error(`${name} could not be run (${bin}): ${r.error.message}`);
  if (r.status !== 0) {
    const printed = (r.stderr || r.stdout || `exit ${r.status}`).trim();
    throw new InputError(`${what} failed; ${name} printed:\n${printed.split('\n').map((l) => `    ${l}`).join('\n')}`, {
      ...where(printed),
      hint: `fix the input so that \`${name} ${args.join(' ')}\` succeeds`,
    });
  }
  return r.stdout;
}
