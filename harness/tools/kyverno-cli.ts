import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { locateBinary, type LocateResult } from './locate.ts';

const run = promisify(execFile);

/** The Kyverno line the harness targets (ClusterPolicy is still served; deprecated from 1.17). */
export const KYVERNO_CLI_SERIES = '1.16';
export const KYVERNO_ENV = 'PCI_HARNESS_KYVERNO';
export const KYVERNO_MISSING_HINT =
  'Kyverno CLI not found; build it with `npx pci-harness images build kyverno-cli` or pass --skip-kyverno to opt out';

/** `--kyverno-cli`, then `$PCI_HARNESS_KYVERNO`, then `<cache>/bin/kyverno`, then `kyverno` on PATH. */
export function locateKyvernoCli(explicit?: string, env: NodeJS.ProcessEnv = process.env): LocateResult {
  return locateBinary({ name: 'kyverno', explicit, envVar: KYVERNO_ENV }, env);
}

/** `kyverno version` prints `Version: 1.16.3` among other lines. */
export async function kyvernoVersion(cli: string): Promise<string> {
  const { stdout } = await run(cli, ['version'], { timeout: 30_000 });
  const m = /Version:\s*v?(\S+)/.exec(stdout);
  return m?.[1] ?? stdout.trim().split('\n')[0] ?? 'unknown';
}
