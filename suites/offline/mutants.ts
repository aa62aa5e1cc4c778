/**
 * Weakenings of the shipped PCI set (manifests/). Each mutant changes ONE file
 * and must make `pci-harness check` exit 1 with a failure of `check` naming
 * `requirement`. Many reproduce a defect of the reference guide
 * (../shared/reference/guide-defects.md, "defect N" below).
 *
 * `mutate` is a pure function over the parsed YAML documents of `file`
 * (relative to manifests/): it receives a private copy, finds its target by
 * kind + name, and throws if the target is missing, so a renamed object can
 * never turn a mutant into a silent no-op.
 */

import { MUTANTS_AUDIT } from './mutants/audit.ts';
import { type Doc, find, without, rule, dnsRule, container, podSpec, auditRule, hasResource, kubeadmPatch, isCdeWorker, isControlPlane, NS, NP_FRONT, NP_PROC, NP_STORE, RBAC, KYV, KYV_GEN, KYV_VERIFY, WL, AUDIT, ENC, KIND, KYV_POLICY } from './mutants/helpers.ts';
import { MUTANTS_KYVERNO } from './mutants/kyverno.ts';
import { MUTANTS_NETWORK } from './mutants/network.ts';
import { MUTANTS_POD_SECURITY } from './mutants/pod-security.ts';
import { MUTANTS_RBAC } from './mutants/rbac.ts';

export interface Mutant {
  id: string;
  description: string;
  /** PCI DSS v4.0 requirement the failing check must name. */
  requirement: string;
  /** Check id that must fail. */
  check: string;
  /** File under manifests/ whose documents `mutate` rewrites. */
  file: string;
  mutate: (docs: Doc[]) => Doc[];
}

const CORE_MUTANTS: Mutant[] = [
  // ================= network (Requirement 1) =================
  {
    id: 'net-default-deny-only-frontend',
    description: 'defect 8: default-deny-all missing in cde-processing (the guide loop only protected cde-frontend)',
    requirement: '1.3.1',
    check: 'network.default-deny',
    file: NP_PROC,
    mutate: (docs) => without(docs, 'NetworkPolicy', 'default-deny-all', 'cde-processing'),
  },
  {
    id: 'net-default-deny-ingress-only',
    description: 'cde-storage default-deny-all lists only Ingress: egress from the datastore is open',
    requirement: '1.3.2',
    check: 'network.default-deny',
    file: NP_STORE,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'default-deny-all', 'cde-storage').spec.policyTypes = ['Ingress'];
      return docs;
    },
  },
  {
    id: 'net-missing-ingress-half-processing',
    description: 'defect 9: no ingress rule into card-processor, so payment-api → card-processor:9443 is blocked',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_PROC,
    mutate: (docs) => without(docs, 'NetworkPolicy', 'card-processor-ingress', 'cde-processing'),
  },
  {
    id: 'net-missing-ingress-half-storage',
    description: 'defect 9: no ingress rule into datastore, so card-processor → datastore:5432 is blocked',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_STORE,
    mutate: (docs) => without(docs, 'NetworkPolicy', 'datastore-ingress', 'cde-storage'),
  },
  {
    id: 'net-named-port-typo',
    description: 'payment-api ingress names port "http", which no payment-api container declares: the edge flow matches nothing',
    requirement: '1.3.1',
    check: 'network.reachability',
    file: NP_FRONT,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'payment-api-ingress', 'cde-frontend').spec.ingress[0].ports[0].port = 'http';
      return docs;
    },
  },
  {
    id: 'net-ingress-peer-namespace-only',
    description: 'payment-api ingress peer keeps only the namespaceSelector: every pod in namespace ingress reaches the CDE',
    requirement: '1.3.1',
    check: 'network.reachability',
    file: NP_FRONT,
    mutate: (docs) => {
      delete find(docs, 'NetworkPolicy', 'payment-api-ingress', 'cde-frontend').spec.ingress[0].from[0].podSelector;
      return docs;
    },
  },
  {
    id: 'net-ingress-from-all-namespaces',
    description: 'card-processor ingress from namespaceSelector {}: any pod in any namespace reaches card-processor:9443',
    requirement: '1.3.1',
    check: 'network.reachability',
    file: NP_PROC,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'card-processor-ingress', 'cde-processing').spec.ingress[0].from = [{ namespaceSelector: {} }];
      return docs;
    },
  },
  {
    id: 'net-dns-split-peers',
    description: 'DNS egress split into two peers (namespaceSelector OR podSelector): payment-api reaches every kube-system pod on 53',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_FRONT,
    mutate: (docs) => {
      const dns = dnsRule(find(docs, 'NetworkPolicy', 'payment-api-egress', 'cde-frontend'));
      const peer = dns.to[0];
      dns.to = [{ namespaceSelector: peer.namespaceSelector }, { podSelector: peer.podSelector }];
      return docs;
    },
  },
  {
    id: 'net-egress-to-internet',
    description: 'card-processor may open connections to 0.0.0.0/0: card data can leave the CDE',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_PROC,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'card-processor-egress', 'cde-processing').spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] });
      return docs;
    },
  },

  {
    id: 'net-egress-allow-all',
    description: 'payment-api egress gains an empty rule ({}): it may open connections to anything, anywhere',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_FRONT,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'payment-api-egress', 'cde-frontend').spec.egress.push({});
      return docs;
    },
  },
  {
    id: 'net-egress-podselector-widened',
    description: "payment-api-egress selects every pod in cde-frontend (podSelector {}): a rogue pod there gets payment-api's egress",
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_FRONT,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'payment-api-egress', 'cde-frontend').spec.podSelector = {};
      return docs;
    },
  },
  {
    id: 'net-default-deny-removed-storage',
    description: 'default-deny-all deleted in cde-storage: any pod created there is open both ways',
    requirement: '1.3.1',
    check: 'network.default-deny',
    file: NP_STORE,
    mutate: (docs) => without(docs, 'NetworkPolicy', 'default-deny-all', 'cde-storage'),
  },

  {
    id: 'net-dns-peer-dropped',
    description: 'datastore DNS egress loses its peer (port 53 to anywhere): a DNS tunnel out of the storage tier',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_STORE,
    mutate: (docs) => {
      const dns = dnsRule(find(docs, 'NetworkPolicy', 'datastore-egress', 'cde-storage'));
      delete dns.to;
      return docs;
    },
  },
  {
    id: 'net-dns-any-kube-system-pod',
    description: 'datastore DNS egress keeps only the kube-system namespaceSelector: any pod there (a rogue DNS server) is reachable on 53',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_STORE,
    mutate: (docs) => {
      const dns = dnsRule(find(docs, 'NetworkPolicy', 'datastore-egress', 'cde-storage'));
      delete dns.to[0].podSelector;
      return docs;
    },
  },

  // ================= Pod Security Admission labels and workloads (Requirement 2) =================
  {
    id: 'psa-enforce-label-removed',
    description: 'cde-processing loses pod-security.kubernetes.io/enforce: PSA no longer rejects anything there',
    requirement: '2.2.1',
    check: 'pod-security.namespace-labels',
    file: NS,
    mutate: (docs) => {
      delete find(docs, 'Namespace', 'cde-processing').metadata.labels['pod-security.kubernetes.io/enforce'];
      return docs;
    },
  },
  {
    id: 'psa-version-latest',
    description: 'guide style: enforce-version latest on cde-frontend (what PSA enforces changes with every upgrade)',
    requirement: '2.2.1',
    check: 'pod-security.namespace-labels',
    file: NS,
    mutate: (docs) => {
      find(docs, 'Namespace', 'cde-frontend').metadata.labels['pod-security.kubernetes.io/enforce-version'] = 'latest';
      return docs;
    },
  },
  {
    id: 'psa-baseline',
    description: 'cde-storage enforces baseline instead of restricted',
    requirement: '2.2.1',
    check: 'pod-security.namespace-labels',
    file: NS,
    mutate: (docs) => {
      find(docs, 'Namespace', 'cde-storage').metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
      return docs;
    },
  },
  {
    id: 'psa-scope-label-removed',
    description: 'cde-storage loses pci-scope=in-scope: Kyverno and the default-deny generator no longer select it',
    requirement: '2.2.1',
    check: 'pod-security.namespace-labels',
    file: NS,
    mutate: (docs) => {
      delete find(docs, 'Namespace', 'cde-storage').metadata.labels['pci-scope'];
      return docs;
    },
  },
  {
    id: 'wl-privileged',
    description: 'payment-api container runs privileged',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      container(find(docs, 'Deployment', 'payment-api', 'cde-frontend')).securityContext.privileged = true;
      return docs;
    },
  },
  {
    id: 'wl-run-as-root',
    description: 'card-processor runs as uid 0 with runAsNonRoot false (pod and container)',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      const d = find(docs, 'Deployment', 'card-processor', 'cde-processing');
      Object.assign(podSpec(d).securityContext, { runAsNonRoot: false, runAsUser: 0 });
      Object.assign(container(d).securityContext, { runAsNonRoot: false, runAsUser: 0 });
      return docs;
    },
  },
  {
    id: 'wl-privilege-escalation',
    description: 'datastore allows privilege escalation',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      container(find(docs, 'Deployment', 'datastore', 'cde-storage')).securityContext.allowPrivilegeEscalation = true;
      return docs;
    },
  },
  {
    id: 'wl-capabilities-added',
    description: 'payment-api keeps default capabilities and adds NET_RAW',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      container(find(docs, 'Deployment', 'payment-api', 'cde-frontend')).securityContext.capabilities = { add: ['NET_RAW'] };
      return docs;
    },
  },
  {
    id: 'wl-seccomp-unconfined',
    description: 'card-processor sets seccompProfile Unconfined at pod and container level',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      const d = find(docs, 'Deployment', 'card-processor', 'cde-processing');
      podSpec(d).securityContext.seccompProfile = { type: 'Unconfined' };
      container(d).securityContext.seccompProfile = { type: 'Unconfined' };
      return docs;
    },
  },
  {
    id: 'wl-hostpath',
    description: 'card-processor mounts the node filesystem by hostPath',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      const d = find(docs, 'Deployment', 'card-processor', 'cde-processing');
      podSpec(d).volumes.push({ name: 'host', hostPath: { path: '/var/lib', type: 'Directory' } });
      container(d).volumeMounts.push({ name: 'host', mountPath: '/host', readOnly: true });
      return docs;
    },
  },
  {
    id: 'wl-host-network',
    description: 'payment-api joins the node network namespace',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      podSpec(find(docs, 'Deployment', 'payment-api', 'cde-frontend')).hostNetwork = true;
      return docs;
    },
  },
  {
    id: 'wl-writable-root-filesystem',
    description: 'datastore root filesystem is writable (allowed by PSA restricted, denied by the Kyverno CDE policy)',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: WL,
    mutate: (docs) => {
      container(find(docs, 'Deployment', 'datastore', 'cde-storage')).securityContext.readOnlyRootFilesystem = false;
      return docs;
    },
  },

  // ================= Kyverno (Requirements 2, 1, 6) =================
  {
    id: 'kyv-rule-audit-mode',
    description: 'no-privileged-containers reports instead of blocking (failureAction Audit)',
    requirement: '2.2.6',
    check: 'kyverno.failure-action',
    file: KYV,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'no-privileged-containers').validate.failureAction = 'Audit';
      return docs;
    },
  },
  {
    id: 'kyv-deprecated-spec-action-audit',
    description: 'defect 16: per-rule failureAction removed, deprecated spec.validationFailureAction: Audit instead',
    requirement: '2.2.6',
    check: 'kyverno.failure-action',
    file: KYV,
    mutate: (docs) => {
      const p = find(docs, 'ClusterPolicy', KYV_POLICY);
      for (const r of p.spec.rules) if (r.validate) delete r.validate.failureAction;
      p.spec.validationFailureAction = 'Audit';
      return docs;
    },
  },
  {
    id: 'kyv-privileged-no-ephemeral',
    description: 'defect 15: no-privileged-containers ignores ephemeralContainers (kubectl debug --profile=sysadmin gets in)',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      delete rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'no-privileged-containers').validate.pattern.spec['=(ephemeralContainers)'];
      return docs;
    },
  },
  {
    id: 'kyv-hostpath-length',
    description: 'defect 13: guide hostPath rule (deny when length(volumes[].hostPath) > 0) errors on volume-less pods',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      const r = rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'no-hostpath-volumes');
      r.validate = {
        failureAction: 'Enforce',
        message: 'hostPath volumes are not permitted in CDE namespaces.',
        deny: {
          conditions: {
            any: [{ key: '{{ request.object.spec.volumes[].hostPath | length(@) }}', operator: 'GreaterThan', value: '0' }],
          },
        },
      };
      return docs;
    },
  },
  {
    id: 'kyv-run-as-non-root-pod-level-only',
    description: 'defect 14: guide runAsNonRoot pattern (pod-level required AND every container; init/ephemeral unchecked)',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      const v = rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'require-run-as-non-root').validate;
      delete v.anyPattern;
      v.pattern = { spec: { '=(securityContext)': { runAsNonRoot: true }, containers: [{ securityContext: { runAsNonRoot: true } }] } };
      return docs;
    },
  },
  {
    id: 'kyv-readonly-containers-only',
    description: 'readOnlyRootFilesystem checked on containers only: an init container may write its root filesystem',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      const spec = rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'require-readonly-root-filesystem').validate.pattern.spec;
      delete spec['=(initContainers)'];
      delete spec['=(ephemeralContainers)'];
      return docs;
    },
  },
  {
    id: 'kyv-wrong-scope-label',
    description: 'no-privileged-containers selects namespaces labelled pci-scope=true, which no CDE namespace carries',
    requirement: '2.2.6',
    check: 'kyverno.policies',
    file: KYV,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', KYV_POLICY), 'no-privileged-containers').match.any[0].resources.namespaceSelector.matchLabels['pci-scope'] = 'true';
      return docs;
    },
  },
  {
    id: 'kyv-autogen-off',
    description: 'autogen disabled: a non-compliant Deployment is admitted and only its Pods fail later',
    requirement: '2.2.6',
    check: 'kyverno.autogen',
    file: KYV,
    mutate: (docs) => {
      find(docs, 'ClusterPolicy', KYV_POLICY).metadata.annotations['pod-policies.kyverno.io/autogen-controllers'] = 'none';
      return docs;
    },
  },
  {
    id: 'kyv-generate-no-sync',
    description: 'defect 12 fix weakened: generate-default-deny without synchronize (a deleted default-deny stays deleted)',
    requirement: '1.3.1',
    check: 'kyverno.generate',
    file: KYV_GEN,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', 'generate-default-deny'), 'default-deny-all').generate.synchronize = false;
      return docs;
    },
  },
  {
    id: 'kyv-generate-ingress-only',
    description: 'generated default-deny-all lists only Ingress: new CDE namespaces get open egress',
    requirement: '1.3.1',
    check: 'kyverno.generate',
    file: KYV_GEN,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', 'generate-default-deny'), 'default-deny-all').generate.data.spec.policyTypes = ['Ingress'];
      return docs;
    },
  },
  {
    id: 'kyv-verify-images-audit',
    description: 'image signature verification only reports (failureAction Audit): unsigned images run in the CDE',
    requirement: '6.3.2',
    check: 'kyverno.failure-action',
    file: KYV_VERIFY,
    mutate: (docs) => {
      rule(find(docs, 'ClusterPolicy', 'verify-cde-image-signatures'), 'verify-cosign-signature').verifyImages[0].failureAction = 'Audit';
      return docs;
    },
  },

  // ================= RBAC (Requirements 7, 8) =================
  {
    id: 'rbac-wildcard-verbs-on-secrets',
    description: 'card-processor Role gets verbs ["*"] on secrets (the case the guide’s jq filter never reported, defect 17)',
    requirement: '7.2.2',
    check: 'rbac.no-wildcards',
    file: RBAC,
    mutate: (docs) => {
      find(docs, 'Role', 'card-processor-config-reader', 'cde-processing').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['*'] });
      return docs;
    },
  },
  {
    id: 'rbac-secrets-get',
    description: 'payment-api may get every Secret in cde-frontend',
    requirement: '7.2.2',
    check: 'rbac.no-secrets',
    file: RBAC,
    mutate: (docs) => {
      find(docs, 'Role', 'payment-api-config-reader', 'cde-frontend').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
      return docs;
    },
  },
  {
    id: 'rbac-resource-names-dropped',
    description: 'payment-api may get every ConfigMap, not only payment-api-config',
    requirement: '7.2.2',
    check: 'rbac.least-privilege',
    file: RBAC,
    mutate: (docs) => {
      delete find(docs, 'Role', 'payment-api-config-reader', 'cde-frontend').rules[0].resourceNames;
      return docs;
    },
  },
  {
    id: 'rbac-operator-exec',
    description: 'pci-operators may exec into card-processor pods',
    requirement: '7.2.2',
    check: 'rbac.least-privilege',
    file: RBAC,
    mutate: (docs) => {
      find(docs, 'Role', 'pci-operator-view', 'cde-processing').rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] });
      return docs;
    },
  },
  {
    id: 'rbac-cluster-admin-cde-sa',
    description: 'cluster-admin bound to the card-processor ServiceAccount',
    requirement: '7.2.1',
    check: 'rbac.no-cluster-admin',
    file: RBAC,
    mutate: (docs) => [
      ...docs,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'card-processor-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'card-processor', namespace: 'cde-processing' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      },
    ],
  },
  {
    id: 'rbac-sa-automount-on',
    description: 'datastore ServiceAccount automounts its API token',
    requirement: '7.2.5',
    check: 'rbac.token-automount',
    file: RBAC,
    mutate: (docs) => {
      find(docs, 'ServiceAccount', 'datastore', 'cde-storage').automountServiceAccountToken = true;
      return docs;
    },
  },
  {
    id: 'rbac-pod-automount-on',
    description: 'payment-api pod template overrides its ServiceAccount and mounts an API token',
    requirement: '7.2.5',
    check: 'rbac.token-automount',
    file: WL,
    mutate: (docs) => {
      podSpec(find(docs, 'Deployment', 'payment-api', 'cde-frontend')).automountServiceAccountToken = true;
      return docs;
    },
  },

  // ================= audit policy (Requirement 10, 8.3.2) =================
  {
    id: 'audit-secrets-request-response',
    description: 'defect 1: the guide\'s secrets rule (RequestResponse, CDE namespaces) first: secret values land in the audit log',
    requirement: '8.3.2',
    check: 'audit.no-secret-bodies',
    file: AUDIT,
    mutate: (docs) => {
      find(docs, 'Policy', 'pci-audit-policy').rules.unshift({
        level: 'RequestResponse',
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        resources: [{ group: '', resources: ['secrets'] }],
        namespaces: ['cde-frontend', 'cde-processing', 'cde-storage'],
      });
      return docs;
    },
  },
  {
    id: 'audit-secrets-request',
    description: 'defect 1: secrets at Request: create/update bodies carry .data into the log',
    requirement: '8.3.2',
    check: 'audit.no-secret-bodies',
    file: AUDIT,
    mutate: (docs) => {
      auditRule(find(docs, 'Policy', 'pci-audit-policy'), (x) => hasResource(x, 'secrets'), 'secrets').level = 'Request';
      return docs;
    },
  },
  {
    id: 'audit-auth-failures-guide-rule',
    description: 'defect 2: the guide\'s auth-failure rule (users [system:anonymous], verbs ["*"]) replaces the userGroups rule: it matches nothing',
    requirement: '10.2.1.4',
    check: 'audit.dead-rules',
    file: AUDIT,
    mutate: (docs) => {
      const r = auditRule(
        find(docs, 'Policy', 'pci-audit-policy'),
        (x) => x.userGroups?.length === 1 && x.userGroups[0] === 'system:unauthenticated',
        'unauthenticated',
      );
      delete r.userGroups;
      Object.assign(r, { level: 'Request', users: ['system:anonymous'], verbs: ['*'] });
      return docs;
    },
  },
  {
    id: 'audit-no-catch-all',
    description: 'defect 2: the final catch-all is removed: 401s (no user) and unmatched requests are not logged',
    requirement: '10.2.1.4',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      const rules = find(docs, 'Policy', 'pci-audit-policy').rules;
      const last = rules[rules.length - 1];
      if (last?.level !== 'Metadata' || Object.keys(last).length !== 1) throw new Error('mutant target catch-all rule not found');
      rules.pop();
      return docs;
    },
  },
  {
    id: 'audit-resource-names-rule-level',
    description: 'defect 3: resourceNames moved to the rule level (strict decoding fails; the field is dropped)',
    requirement: '10.2.1',
    check: 'audit.strict-decoding',
    file: AUDIT,
    mutate: (docs) => {
      const p = find(docs, 'Policy', 'pci-audit-policy');
      const r = auditRule(p, (x) => (x.resources ?? []).some((g: Doc) => g.resourceNames), 'leader-election None rule');
      const g = r.resources.find((x: Doc) => x.resourceNames);
      r.resourceNames = g.resourceNames;
      delete g.resourceNames;
      return docs;
    },
  },
  {
    id: 'audit-exec-verbs-create',
    description: 'defect 4: exec/attach/portforward rule limited to verbs [create]: WebSocket exec (verb get) falls to Metadata',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      auditRule(find(docs, 'Policy', 'pci-audit-policy'), (x) => hasResource(x, 'pods/exec'), 'exec').verbs = ['create'];
      return docs;
    },
  },
  {
    id: 'audit-rbac-metadata',
    description: 'RBAC changes logged at Metadata only: the granted permissions are not recorded',
    requirement: '10.2.1.5',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      auditRule(find(docs, 'Policy', 'pci-audit-policy'), (x) => hasResource(x, 'rolebindings'), 'rbac').level = 'Metadata';
      return docs;
    },
  },
  {
    id: 'audit-kube-system-none',
    description: 'everything in kube-system dropped (level None, no user filter), including human configmap edits',
    requirement: '10.2.1.2',
    check: 'audit.levels',
    file: AUDIT,
    mutate: (docs) => {
      find(docs, 'Policy', 'pci-audit-policy').rules.splice(1, 0, { level: 'None', namespaces: ['kube-system'] });
      return docs;
    },
  },

  // ================= encryption at rest (Requirements 8.3.2, 3.6.1) =================
  {
    id: 'enc-identity-first',
    description: 'identity listed first: new Secrets are written to etcd in plaintext',
    requirement: '3.6.1',
    check: 'encryption.provider',
    file: ENC,
    mutate: (docs) => {
      const providers = docs[0]?.resources?.[0]?.providers;
      if (!providers?.[0]?.secretbox || !providers?.[1]?.identity) throw new Error('mutant target providers [secretbox, identity] not found');
      providers.reverse();
      return docs;
    },
  },
  {
    id: 'enc-aesgcm-first',
    description: 'defect 7: aesgcm (nonce reuse without automatic rotation) instead of secretbox',
    requirement: '3.6.1',
    check: 'encryption.provider',
    file: ENC,
    mutate: (docs) => {
      const providers = docs[0]?.resources?.[0]?.providers;
      if (!providers?.[0]?.secretbox) throw new Error('mutant target secretbox provider not found');
      providers[0] = { aesgcm: providers[0].secretbox };
      return docs;
    },
  },
  {
    id: 'enc-secrets-not-covered',
    description: 'the encrypted resource list names configmaps instead of secrets',
    requirement: '8.3.2',
    check: 'encryption.secrets-covered',
    file: ENC,
    mutate: (docs) => {
      const r = docs[0]?.resources?.[0];
      if (!r?.resources?.includes('secrets')) throw new Error('mutant target secrets resource not found');
      r.resources = ['configmaps'];
      return docs;
    },
  },
  {
    id: 'enc-committed-key',
    description: 'a real-looking key committed instead of the ${ENCRYPTION_KEY} placeholder',
    requirement: '3.6.1',
    check: 'encryption.key-material',
    file: ENC,
    mutate: (docs) => {
      const key = docs[0]?.resources?.[0]?.providers?.[0]?.secretbox?.keys?.[0];
      if (!key) throw new Error('mutant target secretbox key not found');
      key.secret = 'c2VjcmV0Ym94LWtleS1jb21taXR0ZWQtdG8tZ2l0LTAxMjM=';
      return docs;
    },
  },

  // ================= dedicated CDE node pool (Requirement 2.2.3) =================
  {
    id: 'pool-missing-toleration',
    description: 'card-processor lacks the CDE toleration: it cannot run on the CDE pool',
    requirement: '2.2.3',
    check: 'node-pool.isolation',
    file: WL,
    mutate: (docs) => {
      delete podSpec(find(docs, 'Deployment', 'card-processor', 'cde-processing')).tolerations;
      return docs;
    },
  },
  {
    id: 'pool-missing-node-selector',
    description: 'datastore tolerates the taint but has no nodeSelector: it may land on shared nodes',
    requirement: '2.2.3',
    check: 'node-pool.isolation',
    file: WL,
    mutate: (docs) => {
      delete podSpec(find(docs, 'Deployment', 'datastore', 'cde-storage')).nodeSelector;
      return docs;
    },
  },
  {
    id: 'pool-toleration-on-non-cde',
    description: 'the out-of-scope ingress-controller tolerates the CDE taint: it may share CDE nodes',
    requirement: '2.2.3',
    check: 'node-pool.isolation',
    file: WL,
    mutate: (docs) => {
      podSpec(find(docs, 'Deployment', 'ingress-controller', 'ingress')).tolerations = [
        { key: 'pci-scope', operator: 'Equal', value: 'in-scope', effect: 'NoSchedule' },
      ];
      return docs;
    },
  },
  {
    id: 'pool-node-untainted',
    description: 'the CDE worker in the kind config is labelled but not tainted: anything can schedule there',
    requirement: '2.2.3',
    check: 'node-pool.isolation',
    file: KIND,
    mutate: (docs) => {
      if (docs[0]?.kind !== 'Cluster') throw new Error('mutant target kind Cluster not found');
      kubeadmPatch(docs[0], isCdeWorker, 'JoinConfiguration', (p) => {
        delete p.nodeRegistration.taints;
      });
      return docs;
    },
  },

  // ================= audit wiring in the kind config (Requirement 10.2.1) =================
  {
    id: 'kind-no-audit-policy-flag',
    description: 'the control plane never receives --audit-policy-file: audit logging is off',
    requirement: '10.2.1',
    check: 'audit.wired',
    file: KIND,
    mutate: (docs) => {
      if (docs[0]?.kind !== 'Cluster') throw new Error('mutant target kind Cluster not found');
      kubeadmPatch(docs[0], isControlPlane, 'ClusterConfiguration', (p) => {
        if (!p.apiServer?.extraArgs?.['audit-policy-file']) throw new Error('mutant target audit-policy-file flag not found');
        delete p.apiServer.extraArgs['audit-policy-file'];
      });
      return docs;
    },
  },
];

/** Every mutant: the core list here, and one file per area under mutants/. */
export const MUTANTS: Mutant[] = [...CORE_MUTANTS, ...MUTANTS_NETWORK, ...MUTANTS_POD_SECURITY, ...MUTANTS_KYVERNO, ...MUTANTS_RBAC, ...MUTANTS_AUDIT];
