import { effectivePermissions } from '../../analyzers/rbac/effective.ts';
import { atoms } from '../../analyzers/rbac/access-table.ts';
import { subjectLabel } from '../../analyzers/rbac/types.ts';
import type { ManifestSet } from '../../manifests/types.ts';
import type { AccessTableSpec } from '../types.ts';

type Entry = AccessTableSpec['subjects'][number];
type Allow = Entry['allow'][number];

export interface DraftAccess {
  subjects: Entry[];
  /** What the table cannot say (non-resource URLs) or the set does not resolve: told in the file, so a person sees it. */
  notes: string[];
}

/**
 * The AccessTable that equals the set's effective RBAC today (the
 * rbac.least-privilege comparison, harness/analyzers/rbac): every subject
 * the set defines or binds, each with exactly what its grants expand to.
 * Verbs on one resource (and name) are merged; names sharing verbs become
 * one resourceNames list.
 */
export function draftAccess(set: ManifestSet): DraftAccess {
  const eff = effectivePermissions(set);
  const notes = eff.problems.map((p) => `${p.binding.object.kind} ${p.binding.object.metadata.name} (${p.binding.source.file}:${p.binding.source.line}): ${p.message}`);
  const subjects: Entry[] = [];
  for (const sp of eff.subjects) {
    // (scope, group, resource, name) → verbs
    const byTarget = new Map<string, { scope: string | null; apiGroup: string; resource: string; name?: string; verbs: Set<string> }>();
    for (const g of sp.grants) {
      for (const a of atoms(g.rule)) {
        if (a.nonResourceURL !== undefined) {
          notes.push(`${subjectLabel(sp.subject)} is granted ${a.verb} on ${a.nonResourceURL}: the AccessTable cannot declare non-resource URLs, so rbac.least-privilege will report it`);
          continue;
        }
        const k = JSON.stringify([g.scope, a.apiGroup, a.resource, a.name ?? null]);
        const t = byTarget.get(k) ?? { scope: g.scope, apiGroup: a.apiGroup, resource: a.resource, ...(a.name !== undefined ? { name: a.name } : {}), verbs: new Set<string>() };
        t.verbs.add(a.verb);
        byTarget.set(k, t);
      }
    }
    // (scope, group, resource, verbs, named?) → names
    const merged = new Map<string, Allow>();
    for (const t of byTarget.values()) {
      const verbs = [...t.verbs].sort();
      const k = JSON.stringify([t.scope, t.apiGroup, t.resource, verbs, t.name !== undefined]);
      const prev = merged.get(k);
      if (prev && t.name !== undefined) {
        prev.resourceNames = [...(prev.resourceNames ?? []), t.name].sort();
        continue;
      }
      merged.set(k, {
        ...(t.scope !== null ? { namespace: t.scope } : {}),
        apiGroup: t.apiGroup,
        resource: t.resource,
        ...(t.name !== undefined ? { resourceNames: [t.name] } : {}),
        verbs,
      });
    }
    const subject = { kind: sp.subject.kind, name: sp.subject.name, ...(sp.subject.namespace !== undefined ? { namespace: sp.subject.namespace } : {}) };
    subjects.push({ subject, allow: [...merged.values()] });
  }
  subjects.sort((a, b) => subjectLabel(a.subject).localeCompare(subjectLabel(b.subject)));
  return { subjects, notes: [...new Set(notes)] };
}
