import type { ManifestSet } from '../manifests/types.ts';
import { SPEC_API_VERSION, type ControlMapSpec } from './types.ts';

/** Find the single spec document of a kind in the set, if any. */
export function findSpec<S>(set: ManifestSet, kind: string): { spec: S; source: ManifestSet['objects'][number] } | undefined {
  const o = set.objects.find((x) => x.object.apiVersion === SPEC_API_VERSION && x.object.kind === kind);
  return o ? { spec: (o.object as unknown as { spec: S }).spec, source: o } : undefined;
}

/** Requirement titles as the set's ControlMap words them (reports prefer the set's own wording). */
export function controlMapTitles(set: ManifestSet): Record<string, string> {
  const map = findSpec<ControlMapSpec>(set, 'ControlMap');
  const out: Record<string, string> = {};
  for (const r of map?.spec.requirements ?? []) if (r?.id && r.title) out[r.id] = r.title;
  return out;
}
