import { at, type CheckResult } from '../../check/types.ts';
import type { ManifestSet } from '../../manifests/types.ts';
import { atomLabel, atoms, declaredCovers, missingDeclared, sameSubject, type DeclaredAllow } from './access-table.ts';
import { accessTables } from './scope.ts';
import { bindingLabel, roleLabel, subjectLabel, type EffectivePermissions, type Grant, type SubjectPermissions } from './types.ts';

const CHECK = 'rbac.least-privilege';
const REQ = '7.2.2';

interface TableEntry {
  subject: { kind: string; name: string; namespace?: string };
  allow: DeclaredAllow[];
  index: number;
}

function grantResult(g: Grant, r: Omit<CheckResult, 'object' | 'file' | 'line'>): CheckResult {
  return g.role.object ? at(g.role.object, r, ['rules', g.role.ruleIndex]) : at(g.binding, r, ['roleRef']);
}

/** Where a subject is best pointed at: its ServiceAccount object, else the first binding naming it. */
function subjectResult(set: ManifestSet, sp: SubjectPermissions, r: Omit<CheckResult, 'object' | 'file' | 'line'>): CheckResult {
  const sa = set.objects.find(
    (o) => o.object.kind === 'ServiceAccount' && sp.subject.kind === 'ServiceAccount' && o.object.metadata.name === sp.subject.name && o.object.metadata.namespace === sp.subject.namespace,
  );
  if (sa) return at(sa, r);
  const direct = sp.grants.find((g) => sameSubject(sp.subject, g.bindingSubject));
  if (direct) return at(direct.binding, r, ['subjects']);
  const binding = set.objects.find((o) =>
    (Array.isArray(o.object.subjects) ? (o.object.subjects as Array<{ kind?: string; name?: string; namespace?: string }>) : []).some(
      (s) => s.kind === sp.subject.kind && s.name === sp.subject.name,
    ),
  );
  return binding ? at(binding, r, ['subjects']) : { ...r, object: subjectLabel(sp.subject) };
}

/**
 * Effective permissions must EQUAL the AccessTable: an extra permission fails, and so does a
 * declared permission nothing grants (positive control, guide defect 18: `can-i` says "no"
 * trivially for a ServiceAccount that does not exist).
 */
export function leastPrivilege(set: ManifestSet, eff: EffectivePermissions): CheckResult[] {
  const out: CheckResult[] = [];
  const tables = accessTables(set);
  for (const p of eff.problems) {
    out.push(at(p.binding, { check: CHECK, requirement: REQ, status: 'fail', message: `${bindingLabel(p.binding)}: ${p.message}` }, p.path));
  }
  if (tables.length === 0) {
    out.push({ check: CHECK, requirement: REQ, status: 'fail', message: 'no AccessTable in the set: least privilege cannot be proven; add manifests/spec/access-table.yaml (kind AccessTable) declaring every subject\'s permissions' });
    return out;
  }
  const entries: Array<TableEntry & { doc: (typeof tables)[number]['doc'] }> = tables.flatMap(({ doc, spec }) =>
    (spec.subjects ?? []).map((s, index) => ({ subject: s.subject, allow: s.allow ?? [], index, doc })),
  );

  for (const sp of eff.subjects) {
    const who = subjectLabel(sp.subject);
    const entry = entries.find((e) => sameSubject(sp.subject, e.subject));
    if (!entry) {
      out.push(subjectResult(set, sp, { check: CHECK, requirement: REQ, status: 'fail', message: `${who} is in the set but not in the AccessTable; declare its permissions (an empty allow list if it needs none) or remove it` }));
      continue;
    }
    let failed = false;
    // Extra permissions, grouped per granting rule so each finding names binding, role and rule line.
    for (const g of sp.grants) {
      const extra = atoms(g.rule).filter((a) => !declaredCovers(entry.allow, g.scope, a));
      if (extra.length === 0) continue;
      failed = true;
      const where = g.scope === null ? 'cluster-wide' : `in namespace ${g.scope}`;
      const shown = extra.slice(0, 6).map(atomLabel).join(', ') + (extra.length > 6 ? `, … (${extra.length} in all)` : '');
      out.push(
        grantResult(g, {
          check: CHECK,
          requirement: REQ,
          status: 'fail',
          message: `${who} gets permissions the AccessTable does not declare, ${where}, via ${bindingLabel(g.binding)} (${g.binding.source.file}:${g.binding.source.line}) → ${roleLabel(g.role)}: ${shown}. Remove them from the role or the binding, or declare them in the AccessTable with a reason`,
        }),
      );
    }
    const missing = missingDeclared(entry.allow, sp.grants);
    if (missing.length > 0) {
      failed = true;
      out.push(
        at(entry.doc, {
          check: CHECK,
          requirement: REQ,
          status: 'fail',
          message: `${who} is declared to have permissions nothing in the set grants: ${missing.slice(0, 6).join('; ')}${missing.length > 6 ? ` … (${missing.length} in all)` : ''}. Add the Role/RoleBinding or fix the AccessTable`,
        }, ['spec', 'subjects', entry.index]),
      );
    }
    if (!failed) {
      out.push(subjectResult(set, sp, { check: CHECK, requirement: REQ, status: 'pass', message: `${who} has exactly the permissions the AccessTable declares (${entry.allow.length} declared entries, ${sp.grants.length} granted rules)` }));
    }
  }

  // Declared subjects the set never creates or binds: a "can-i" against them proves nothing.
  for (const e of entries) {
    if (eff.subjects.some((sp) => sameSubject(sp.subject, e.subject))) continue;
    const who = subjectLabel({ kind: e.subject.kind as 'User', name: e.subject.name, namespace: e.subject.namespace });
    if (e.subject.kind === 'ServiceAccount' || e.allow.length > 0) {
      out.push(at(e.doc, { check: CHECK, requirement: REQ, status: 'fail', message: `AccessTable declares ${who}, which the set neither defines nor binds: checks against it pass trivially. Add it to the set or remove the entry` }, ['spec', 'subjects', e.index]));
    }
  }
  return out;
}
