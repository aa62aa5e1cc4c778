// The benchmark's sets: the shipped manifests and the generated clusters, written once to a cache
// directory (keyed by the generator's source and size) so each measurement loads them the way
// `pci-harness check --manifests DIR` does, and generating 50,000 pods is not part of what is timed.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../cli/paths.ts';
import { generateLargeSet, type GenerateOptions } from './generate.ts';

/** large: the 5,000 pods / 1,000 NetworkPolicies / 200 bindings; x10: ten times each. */
export const GENERATED: Record<string, GenerateOptions> = {
  large: { pods: 5000, policies: 1000, bindings: 200 },
  x10: { pods: 50000, policies: 10000, bindings: 2000 },
};

export const SET_NAMES = ['shipped', ...Object.keys(GENERATED)];

/** Directory holding the set's YAML files (generated on first use). */
export function setDir(name: string): string {
  if (name === 'shipped') return join(REPO_ROOT, 'manifests');
  const o = GENERATED[name];
  if (!o) throw new Error(`unknown set ${name}: one of ${SET_NAMES.join(', ')}`);
  const hash = createHash('sha256').update(readFileSync(join(REPO_ROOT, 'scripts', 'bench', 'generate.ts'))).update(JSON.stringify(o)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'pci-harness-bench', `${name}-${hash}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [file, text] of Object.entries(generateLargeSet(o))) writeFileSync(join(tmp, file), text);
  renameSync(tmp, dir); // atomic: a half-written set is never used
  return dir;
}
