import type { Mutant } from '../mutants.ts';
import { AUDIT, auditRule, find, hasResource, type Doc } from './helpers.ts';

const POLICY = 'pci-audit-policy';
const isCatchAll = (r: Doc) => r?.level === 'Metadata' && Object.keys(r).length === 1;
const isComponentEvents = (r: Doc) => hasResource(r, 'events') && (r.userGroups ?? []).includes('system:nodes');

/**
 * More audit weakenings (see ../mutants.ts for the rules every mutant follows):
 * one per class of "administrators' actions are not logged" (PCI DSS 10.2.1.2).
 */
export const MUTANTS_AUDIT: Mutant[] = [
  {
    id: 'audit-masters-none',
    description: 'a level None rule for userGroups [system:masters] first: every cluster-admin request by a system:masters member is unlogged',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      find(docs, 'Policy', POLICY).rules.unshift({ level: 'None', userGroups: ['system:masters'] });
      return docs;
    },
  },
  {
    id: 'audit-admin-user-none',
    description: 'a level None rule naming the admin users (users [kubernetes-admin, ops-breakglass]) after the noise rules: the named administrators act unlogged',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      const rules = find(docs, 'Policy', POLICY).rules;
      const at = rules.findIndex((r: Doc) => hasResource(r, 'secrets'));
      if (at < 0) throw new Error('mutant target audit rule (secrets) not found');
      rules.splice(at, 0, { level: 'None', users: ['kubernetes-admin', 'ops-breakglass'] });
      return docs;
    },
  },
  {
    id: 'audit-admin-omit-stages',
    description: 'the catch-all omits ResponseComplete (the policy already omits RequestReceived): admins\' ordinary requests produce no event at all',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      auditRule(find(docs, 'Policy', POLICY), isCatchAll, 'catch-all').omitStages = ['ResponseComplete'];
      return docs;
    },
  },
  {
    id: 'audit-events-none-all-authenticated',
    description: 'the component-events None rule widened to userGroups [system:authenticated], every verb: an admin deleting the events of the CDE is unlogged',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      const r = auditRule(find(docs, 'Policy', POLICY), isComponentEvents, 'component events None');
      r.userGroups = ['system:authenticated'];
      delete r.verbs;
      return docs;
    },
  },
  {
    id: 'audit-kube-system-serviceaccounts-none',
    description: 'a level None rule for userGroups [system:serviceaccounts:kube-system]: controllers creating CDE pods or rewriting ClusterRoles are unlogged',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      find(docs, 'Policy', POLICY).rules.unshift({ level: 'None', userGroups: ['system:serviceaccounts:kube-system'] });
      return docs;
    },
  },
];
