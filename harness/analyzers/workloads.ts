import type { K8sObject, LoadedObject, ManifestSet } from '../manifests/types.ts';
import { SPEC_API_VERSION, type ScopeDeclarationSpec, type SpecKind } from '../spec/types.ts';

/**
 * Shared helpers for analyzers that look at pods: every pod template in the
 * set (with the path to its pod spec, so findings carry exact lines) and the
 * PCI scope (which namespaces are in scope).
 */

// Loosely typed pod spec pieces: YAML from files is neither defaulted nor validated.
export type Json = Record<string, unknown>;

export interface PodTemplate {
  /** The object that carries the template (Pod, Deployment, CronJob, ...). */
  owner: LoadedObject;
  kind: string;
  namespace: string;
  /** Workload name (metadata.name of the owner). */
  name: string;
  /** Pod labels (the template's, not the owner's). */
  labels: Record<string, string>;
  /** Pod annotations (AppArmor/seccomp annotations live here). */
  annotations: Record<string, string>;
  /** Path from the document root to the pod spec, e.g. ['spec','template','spec']. */
  specPath: string[];
  /** Path from the document root to the pod metadata. */
  metaPath: string[];
  spec: Json;
}

/** Where the pod template sits, per workload kind (apps/v1, batch/v1, core/v1). */
const TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export function isWorkload(o: K8sObject): boolean {
  return o.kind in TEMPLATE_PATHS && (o.apiVersion === 'v1' || o.apiVersion === 'apps/v1' || o.apiVersion === 'batch/v1');
}

export function getIn(root: unknown, path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}

export function podTemplates(set: ManifestSet): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const lo of set.objects) {
    const o = lo.object;
    if (!isWorkload(o)) continue;
    const base = TEMPLATE_PATHS[o.kind] as string[];
    const metaPath = [...base, 'metadata'];
    const specPath = [...base, 'spec'];
    const spec = getIn(o, specPath);
    const meta = getIn(o, metaPath);
    out.push({
      owner: lo,
      kind: o.kind,
      namespace: o.metadata.namespace ?? 'default',
      name: o.metadata.name,
      labels: stringMap(getIn(meta, ['labels'])),
      annotations: stringMap(getIn(meta, ['annotations'])),
      specPath,
      metaPath,
      spec: spec && typeof spec === 'object' ? (spec as Json) : {},
    });
  }
  return out;
}

export type ContainerKind = 'containers' | 'initContainers' | 'ephemeralContainers';
export const CONTAINER_KINDS: ContainerKind[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface ContainerRef {
  kind: ContainerKind;
  index: number;
  name: string;
  c: Json;
  /** Path from the document root to this container. */
  path: (string | number)[];
}

/** Every container of every kind, in pod-spec order (PSA visits all three lists). */
export function containersOf(t: PodTemplate): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const kind of CONTAINER_KINDS) {
    const list = t.spec[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((c, index) => {
      if (!c || typeof c !== 'object') return;
      const cj = c as Json;
      out.push({ kind, index, name: String(cj.name ?? `#${index}`), c: cj, path: [...t.specPath, kind, index] });
    });
  }
  return out;
}

// ---- PCI scope -------------------------------------------------------------

export function findSpec(set: ManifestSet, kind: SpecKind): LoadedObject | undefined {
  return set.objects.find((o) => o.object.apiVersion === SPEC_API_VERSION && o.object.kind === kind);
}

export function scopeDeclaration(set: ManifestSet): { obj: LoadedObject; spec: ScopeDeclarationSpec } | undefined {
  const obj = findSpec(set, 'ScopeDeclaration');
  if (!obj) return undefined;
  return { obj, spec: (obj.object.spec ?? {}) as ScopeDeclarationSpec };
}

export function namespaceObjects(set: ManifestSet): Map<string, LoadedObject> {
  const m = new Map<string, LoadedObject>();
  for (const o of set.objects) if (o.object.kind === 'Namespace' && o.object.apiVersion === 'v1') m.set(o.object.metadata.name, o);
  return m;
}

/**
 * In-scope namespaces: ScopeDeclaration spec.namespaces plus every Namespace
 * carrying all of its scopeLabel pairs. Sorted, unique.
 */
export function inScopeNamespaces(set: ManifestSet): string[] {
  const scope = scopeDeclaration(set);
  if (!scope) return [];
  const names = new Set<string>(Array.isArray(scope.spec.namespaces) ? scope.spec.namespaces.map(String) : []);
  const label = scope.spec.scopeLabel ?? {};
  const pairs = Object.entries(label);
  if (pairs.length > 0) {
    for (const [name, ns] of namespaceObjects(set)) {
      const labels = ns.object.metadata.labels ?? {};
      if (pairs.every(([k, v]) => labels[k] === v)) names.add(name);
    }
  }
  return [...names].sort();
}
