import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { loadHelmChart } from './helm.ts';
import { kustomizationFile, loadKustomize } from './kustomize.ts';
import { assembleSet, parseManifestText, readYamlDir } from './load.ts';
import type { LoadedObject, ManifestSet } from './types.ts';

export type SourceKind = 'yaml' | 'kustomize' | 'helm' | 'stdin';

export interface SourceOptions {
  /** Default namespace for namespaced objects without one (`kubectl apply -n`). */
  namespace?: string;
  /** Helm values files (`--values`, repeatable); only for a chart. */
  values?: string[];
  /** Helm release name. */
  release?: string;
  /** A directory of declarations (spec/) kept beside a rendered set: loaded with it (`pci-harness init --out`). */
  spec?: string;
  /** Reads standard input for `-` (injectable for tests). */
  readStdin?: () => string;
  env?: NodeJS.ProcessEnv;
}

export const STDIN_FILE = '<stdin>';

/** What `--manifests X` names: `-`, a Helm chart (Chart.yaml), a Kustomize dir (kustomization.yaml), or a directory of YAML. */
export function detectSource(arg: string): SourceKind {
  if (arg === '-') return 'stdin';
  const dir = resolve(arg);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    return 'yaml'; // the directory loader reports "not found"
  }
  if (!isDir) return 'yaml';
  if (existsSync(join(dir, 'Chart.yaml'))) return 'helm';
  if (kustomizationFile(dir)) return 'kustomize';
  return 'yaml';
}

/** Load any input `--manifests` accepts into a validated set. Bad input of every kind is an InputError (exit 2). */
export function loadManifests(arg: string, opts: SourceOptions = {}): { set: ManifestSet; kind: SourceKind } {
  const kind = detectSource(arg);
  const env = opts.env ?? process.env;
  if (opts.values?.length && kind !== 'helm') {
    throw new InputError(`--values applies to a Helm chart, but ${arg} is ${kind === 'stdin' ? 'standard input' : kind === 'kustomize' ? 'a Kustomize directory' : 'a directory of YAML'}`, {
      hint: 'drop --values, or point --manifests at a chart directory (one with Chart.yaml)',
    });
  }
  const ns = opts.namespace !== undefined ? { namespace: opts.namespace } : {};
  const { dir, objects } = readSource(arg, kind, opts, env);
  // Declarations beside the set: never namespaced, so --namespace does not touch them; reported relative to the set.
  const spec = opts.spec !== undefined ? readSpecDir(opts.spec, dir) : [];
  return { set: assembleSet(dir, [...objects, ...spec], ns), kind };
}

function readSource(arg: string, kind: SourceKind, opts: SourceOptions, env: NodeJS.ProcessEnv): { dir: string; objects: LoadedObject[] } {
  const ns = opts.namespace !== undefined ? { namespace: opts.namespace } : {};
  switch (kind) {
    case 'yaml':
      return readYamlDir(arg);
    case 'kustomize':
      return { dir: resolve(arg), objects: nonEmpty(loadKustomize(arg, env), arg) };
    case 'helm':
      for (const v of opts.values ?? []) if (!existsSync(v)) throw new InputError(`values file not found: ${v}`, { hint: 'pass --values FILE with an existing file' });
      return {
        dir: resolve(arg),
        objects: nonEmpty(loadHelmChart(arg, { ...ns, ...(opts.values ? { values: opts.values } : {}), ...(opts.release ? { release: opts.release } : {}) }, env), arg),
      };
    case 'stdin': {
      const text = (opts.readStdin ?? (() => readFileSync(0, 'utf8')))();
      const objects = parseManifestText(text, STDIN_FILE);
      if (objects.length === 0) throw new InputError('no YAML documents on standard input', { hint: 'pipe a manifest stream in, e.g. `kubectl kustomize DIR | pci-harness check --manifests -`' });
      return { dir: process.cwd(), objects };
    }
  }
}

function readSpecDir(specDir: string, setDir: string): LoadedObject[] {
  try {
    return readYamlDir(specDir, setDir).objects;
  } catch (e) {
    if (e instanceof InputError && !e.file) throw new InputError(`--spec: ${e.message}`, { hint: 'pass --spec DIR with the declarations, e.g. what `pci-harness init --out DIR` wrote' });
    throw e;
  }
}

function nonEmpty(objects: LoadedObject[], arg: string): LoadedObject[] {
  if (objects.length === 0) throw new InputError(`${arg} renders no objects`, { hint: 'check the kustomization resources or the chart templates and values' });
  return objects;
}
