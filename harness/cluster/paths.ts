import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../tools/locate.ts';

/** Repository root (harness/cluster/ is two levels down). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Persistent cache root shared with the image build (one rule, harness/tools/locate.ts). */
export { cacheDir };

/** One JSON record per cluster this harness started (name, pid): how a crash is swept on the next start. */
export function runsDir(): string {
  return join(cacheDir(), 'runs');
}

/** Per-cluster scratch: rendered kind config, control-plane files (encryption key), kubeconfig, audit log. */
export function clusterWorkDir(name: string): string {
  return join(runsDir(), name);
}
