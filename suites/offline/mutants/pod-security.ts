import type { Mutant } from '../mutants.ts';
import { type Doc, container, find, podSpec, WL } from './helpers.ts';

/**
 * More pod-security weakenings (see ../mutants.ts for the rules every mutant follows).
 * One per class of upstream semantics the analyzer ports from
 * k8s.io/pod-security-admission v0.34 (docs/upstream-fidelity.md): each would
 * survive an analyzer that got that class wrong.
 */
export const MUTANTS_POD_SECURITY: Mutant[] = [
  {
    id: 'psa-probe-host-metadata',
    description: 'card-processor liveness probe aimed at 169.254.169.254 (the cloud metadata service): forbidden by baseline hostProbesAndHostLifecycle since v1.34',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      container(find(docs, 'Deployment', 'card-processor', 'cde-processing')).livenessProbe = { httpGet: { host: '169.254.169.254', path: '/latest/meta-data/iam/security-credentials/', port: 80 }, periodSeconds: 10 };
      return docs;
    },
  },
  {
    id: 'psa-lifecycle-host-ingress',
    description: 'ingress-controller preStop hook opens a TCP connection to another host: its namespace enforces baseline v1.34, so its pods are rejected',
    requirement: '2.2.1',
    check: 'pod-security.enforced',
    file: WL,
    mutate: (docs) => {
      container(find(docs, 'Deployment', 'ingress-controller', 'ingress')).lifecycle = { preStop: { tcpSocket: { host: 'card-processor.cde-processing.svc.cluster.local', port: 9443 } } };
      return docs;
    },
  },
  {
    id: 'psa-enforce-version-older-rules',
    description: 'a new out-of-scope namespace pins enforce-version v1.28 and runs a pod with sysctl net.ipv4.tcp_keepalive_time (safe only from v1.29): admission at v1.28 rejects it',
    requirement: '2.2.1',
    check: 'pod-security.enforced',
    file: WL,
    mutate: (docs) => {
      const ns: Doc = {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'batch-tools', labels: { 'pci-scope': 'out-of-scope', 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.28' } },
      };
      const base = find(docs, 'Deployment', 'ingress-controller', 'ingress');
      const pod: Doc = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'keepalive-tuner', namespace: 'batch-tools' },
        spec: { ...structuredClone(podSpec(base)), securityContext: { ...structuredClone(podSpec(base).securityContext), sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }] } },
      };
      return [...docs, ns, pod];
    },
  },
  {
    id: 'psa-volume-iscsi',
    description: 'datastore mounts an iscsi volume: only a volume with NO source is defaulted to emptyDir, a rarely used in-tree source is still forbidden under restricted',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      const d = find(docs, 'Deployment', 'datastore', 'cde-storage');
      (podSpec(d).volumes ??= []).push({ name: 'san', iscsi: { targetPortal: '10.0.0.10:3260', iqn: 'iqn.2001-04.com.example:storage', lun: 0, fsType: 'ext4' } });
      return docs;
    },
  },
  {
    id: 'psa-volume-gitrepo',
    description: 'payment-api mounts a gitRepo volume (cloned by the kubelet as root): unlike image volumes, not in the restricted volume list',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      const d = find(docs, 'Deployment', 'payment-api', 'cde-frontend');
      (podSpec(d).volumes ??= []).push({ name: 'code', gitRepo: { repository: 'https://example.invalid/payment-api.git', revision: 'main' } });
      return docs;
    },
  },
  {
    id: 'psa-apparmor-annotation-unconfined',
    description: 'payment-api disables AppArmor through the deprecated annotation (unconfined): only empty, runtime/default and localhost/* are allowed',
    requirement: '2.2.1',
    check: 'pod-security.restricted',
    file: WL,
    mutate: (docs) => {
      const tmpl = find(docs, 'Deployment', 'payment-api', 'cde-frontend').spec.template;
      tmpl.metadata.annotations = { ...(tmpl.metadata.annotations ?? {}), 'container.apparmor.security.beta.kubernetes.io/server': 'unconfined' };
      return docs;
    },
  },
];
