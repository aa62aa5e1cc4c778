import type { Mutant } from '../mutants.ts';
import { find, KYV, KYV_NODES, KYV_POLICY, KYV_VERIFY, rule, type Doc } from './helpers.ts';

const VERIFY_POLICY = 'verify-cde-image-signatures';
const VERIFY_RULE = 'verify-cosign-signature';
const REGISTRY_RULE = 'require-cde-image-registry';
const verifyEntry = (docs: Doc[]) => {
  const v = rule(find(docs, 'ClusterPolicy', VERIFY_POLICY), VERIFY_RULE).verifyImages?.[0];
  if (!v?.imageReferences?.length) throw new Error('mutant target verifyImages[0].imageReferences not found');
  return v;
};
const registryPattern = (docs: Doc[]) => {
  const spec = rule(find(docs, 'ClusterPolicy', KYV_POLICY), REGISTRY_RULE).validate?.pattern?.spec;
  if (!spec?.containers?.[0]?.image) throw new Error('mutant target registry pattern not found');
  return spec;
};

/**
 * Image-verification coverage weakenings (kyverno.verify-coverage, 6.3.2), one per class;
 * part of MUTANTS_KYVERNO (spread at its end).
 */
export const MUTANTS_KYVERNO_VERIFY_COVERAGE: Mutant[] = [
  {
    id: 'kyv-verify-pattern-misses-workloads',
    description: 'verifyImages imageReferences narrowed to a repository the CDE workloads do not use: their images run unverified',
    requirement: '6.3.2',
    check: 'kyverno.verify-coverage',
    file: KYV_VERIFY,
    mutate: (docs) => {
      verifyEntry(docs).imageReferences = ['registry.pci.internal:5000/pci/payments/*'];
      return docs;
    },
  },
  {
    id: 'kyv-registry-admits-unverified',
    description: 'require-cde-image-registry also admits ghcr.io/*, which no verifyImages rule checks: unsigned images from there run in the CDE',
    requirement: '6.3.2',
    check: 'kyverno.verify-coverage',
    file: KYV,
    mutate: (docs) => {
      const spec = registryPattern(docs);
      for (const list of Object.values(spec) as Doc[][]) for (const c of list) c.image = `${c.image} | ghcr.io/*`;
      return docs;
    },
  },
  {
    id: 'kyv-registry-ephemeral-open',
    description: 'require-cde-image-registry stops constraining ephemeralContainers: kubectl debug --image=anything runs unverified',
    requirement: '6.3.2',
    check: 'kyverno.verify-coverage',
    file: KYV,
    mutate: (docs) => {
      const spec = registryPattern(docs);
      if (!spec['=(ephemeralContainers)']) throw new Error('mutant target =(ephemeralContainers) not found');
      delete spec['=(ephemeralContainers)'];
      return docs;
    },
  },
  {
    id: 'kyv-verify-wrong-scope-label',
    description: 'the verifyImages rule selects namespaces labelled pci-scope=true, which no CDE namespace carries: nothing is verified',
    requirement: '6.3.2',
    check: 'kyverno.verify-coverage',
    file: KYV_VERIFY,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', VERIFY_POLICY), VERIFY_RULE).match.any[0].resources.namespaceSelector.matchLabels['pci-scope'] = 'true';
      return docs;
    },
  },
  {
    id: 'kyv-verify-skips-workloads',
    description: 'skipImageReferences exempts every tag of the CDE server image from verification',
    requirement: '6.3.2',
    check: 'kyverno.verify-coverage',
    file: KYV_VERIFY,
    mutate: (docs) => {
      verifyEntry(docs).skipImageReferences = ['*/server:*'];
      return docs;
    },
  },
];

/** More kyverno weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_KYVERNO: Mutant[] = [
  {
    id: 'kyv-capabilities-add-allowed',
    description: 'restrict-capabilities also lets containers add SYS_ADMIN: where PSA labels are missing, a CDE pod gets root-equivalent powers',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'restrict-capabilities').validate.foreach[0].deny.conditions.any[1].value.push('SYS_ADMIN');
      return docs;
    },
  },
  {
    id: 'kyv-seccomp-unconfined-allowed',
    description: 'require-seccomp-profile accepts Unconfined: CDE containers run without a syscall filter',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      const r = rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'require-seccomp-profile');
      const yamlText = JSON.stringify(r.validate.anyPattern).replaceAll('RuntimeDefault | Localhost', 'RuntimeDefault | Localhost | Unconfined');
      r.validate.anyPattern = JSON.parse(yamlText);
      return docs;
    },
  },
  {
    id: 'kyv-root-user-allowed',
    description: 'disallow-root-user dropped: a container with runAsUser 0 is admitted where PSA labels are missing',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      const p = find(docs, 'ClusterPolicy', KYV_POLICY);
      p.spec.rules = p.spec.rules.filter((r: Doc) => r.name !== 'disallow-root-user');
      return docs;
    },
  },
  {
    id: 'kyv-node-isolation-audit',
    description: 'finding 2.2.3: the CDE node boundary only reports (failureAction Audit): a pod outside the CDE adds the toleration and lands on a CDE node',
    requirement: '2.2.3',
    check: 'kyverno.failure-action',
    file: KYV_NODES,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', 'cde-node-isolation'), 'no-cde-toleration-outside-cde').validate.failureAction = 'Audit';
      return docs;
    },
  },
  {
    id: 'kyv-node-isolation-tolerate-all',
    description: 'the boundary rule checks only the pci-scope key: a pod outside the CDE that tolerates every taint (operator Exists, no key) is admitted',
    requirement: '2.2.3',
    check: 'kyverno.policies',
    file: KYV_NODES,
    mutate: (docs) => {
      const any = rule(find(docs, 'ClusterPolicy', 'cde-node-isolation'), 'no-cde-toleration-outside-cde').validate.foreach[0].deny.conditions.any;
      any.splice(0, 1);
      return docs;
    },
  },
  {
    id: 'kyv-node-isolation-affinity-open',
    description: 'the node-selection rule checks only nodeSelector: a required nodeAffinity on pci-scope lands a pod outside the CDE on a CDE node',
    requirement: '2.2.3',
    check: 'kyverno.policies',
    file: KYV_NODES,
    mutate: (docs) => {
      const any = rule(find(docs, 'ClusterPolicy', 'cde-node-isolation'), 'no-cde-node-selection-outside-cde').validate.deny.conditions.any;
      any.splice(1, 1);
      return docs;
    },
  },
  ...MUTANTS_KYVERNO_VERIFY_COVERAGE,
];
