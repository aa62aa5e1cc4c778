import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import { SPEC_API_VERSION, type AccessTableSpec, type ScopeDeclarationSpec } from '../../spec/types.ts';

export function specDocuments(set: ManifestSet, kind: string): LoadedObject[] {
  return set.objects.filter((o) => o.object.apiVersion === SPEC_API_VERSION && o.object.kind === kind);
}

/**
 * CDE namespaces: those the ScopeDeclaration lists, plus any Namespace carrying the scope
 * label (default `pci-scope: in-scope`) — a namespace labelled in scope is in scope even if
 * the declaration forgot it.
 */
export function cdeNamespaces(set: ManifestSet): Set<string> {
  const out = new Set<string>();
  let label: Record<string, string> = { 'pci-scope': 'in-scope' };
  for (const d of specDocuments(set, 'ScopeDeclaration')) {
    const spec = d.object.spec as Partial<ScopeDeclarationSpec> | undefined;
    for (const ns of spec?.namespaces ?? []) out.add(ns);
    if (spec?.scopeLabel && Object.keys(spec.scopeLabel).length > 0) label = spec.scopeLabel;
  }
  for (const o of set.objects) {
    if (o.object.apiVersion !== 'v1' || o.object.kind !== 'Namespace') continue;
    const labels = o.object.metadata.labels ?? {};
    if (Object.entries(label).every(([k, v]) => labels[k] === v)) out.add(o.object.metadata.name);
  }
  return out;
}

export function accessTables(set: ManifestSet): Array<{ doc: LoadedObject; spec: AccessTableSpec }> {
  return specDocuments(set, 'AccessTable').map((doc) => ({ doc, spec: (doc.object.spec ?? { subjects: [] }) as AccessTableSpec }));
}
