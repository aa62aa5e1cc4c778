import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const SHIPPED = join(REPO, 'manifests');

/** Run the real CLI as a user would (a child process, Node 24), never throwing on non-zero exit. */
export async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = await execa(process.execPath, [join(REPO, 'scripts', 'pci-harness.mjs'), ...args], {
    cwd: opts.cwd ?? REPO,
    env: opts.env,
    reject: false,
    timeout: 120_000,
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** A Node stack frame in output means a crash leaked to the user. */
export const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)$/m;
