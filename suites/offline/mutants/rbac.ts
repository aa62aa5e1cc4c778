import type { Mutant } from '../mutants.ts';
import { find, RBAC, type Doc } from './helpers.ts';

const deployerRole = (docs: Doc[], ns = 'cde-processing') => find(docs, 'Role', 'pci-deployer', ns);

/** More rbac weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_RBAC: Mutant[] = [
  {
    id: 'spec-access-table-draft',
    description: 'the access table goes back to an unreviewed draft (what pci-harness init generated from the RBAC the set has): least privilege is proven against itself',
    requirement: '12.5.2',
    check: 'spec.reviewed',
    file: 'spec/access.yaml',
    mutate: (docs) => {
      find(docs, 'AccessTable', 'cde-access').metadata.annotations['pci-harness.dev/review'] = 'draft';
      return docs;
    },
  },
  {
    id: 'rbac-deployer-rolebindings',
    description: 'the CD pipeline may create RoleBindings: a compromised pipeline binds itself (or anyone) to any Role in the CDE',
    requirement: '7.2.2',
    check: 'rbac.least-privilege',
    file: RBAC,
    mutate: (docs) => {
      deployerRole(docs).rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create'] });
      return docs;
    },
  },
  {
    id: 'rbac-deployer-secrets',
    description: 'the CD pipeline may read Secrets in cde-storage ("it deploys them anyway")',
    requirement: '7.2.2',
    check: 'rbac.no-secrets',
    file: RBAC,
    mutate: (docs) => {
      deployerRole(docs, 'cde-storage').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] });
      return docs;
    },
  },
  {
    id: 'rbac-deployer-ephemeral-containers',
    description: 'the CD pipeline may add ephemeral containers (kubectl debug) to running CDE pods',
    requirement: '7.2.2',
    check: 'rbac.least-privilege',
    file: RBAC,
    mutate: (docs) => {
      deployerRole(docs).rules.push({ apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch', 'update'] });
      return docs;
    },
  },
];
