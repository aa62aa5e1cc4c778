import { stringify } from 'yaml';
import { setFromTexts } from '../../manifests/load.ts';
import type { ManifestSet } from '../../manifests/types.ts';

/**
 * A small, correct CDE: ingress → payment-api (8443) → card-processor (9443),
 * DNS for both, default deny everywhere in scope. Tests weaken one thing at a
 * time through `mutate` and assert the analyzer names the requirement.
 */
export type Doc = Record<string, any>;

export function ns(name: string, inScope: boolean): Doc {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: inScope ? { 'pci-scope': 'in-scope' } : {} } };
}

export function deployment(namespace: string, name: string, ports: Array<{ containerPort: number; name?: string; protocol?: string }>): Doc {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `registry.local/${name}:1`, ports }] } },
    },
  };
}

export function netpol(namespace: string, name: string, spec: Doc): Doc {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

export const defaultDeny = (namespace: string) => netpol(namespace, 'default-deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
// Per workload, not podSelector {}: every undeclared flow from the CDE must be denied, DNS included.
export const allowDns = (namespace: string, app: string) =>
  netpol(namespace, 'allow-dns', {
    podSelector: { matchLabels: { app } },
    policyTypes: ['Egress'],
    egress: [
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  });

const flow = (fromNs: string, from: string, toNs: string, to: string, port: number, protocol = 'TCP', requirement = '1.3.1') => ({
  from: { namespace: fromNs, workload: from },
  to: { namespace: toNs, workload: to },
  port,
  protocol,
  requirement,
});

export function goodDocs(): Record<string, Doc[]> {
  return {
    'cluster/namespaces.yaml': [ns('cde-frontend', true), ns('cde-processing', true), ns('ingress', false)],
    'cluster/workloads.yaml': [
      deployment('ingress', 'ingress-controller', [{ containerPort: 8080, name: 'http' }]),
      deployment('cde-frontend', 'payment-api', [{ containerPort: 8443, name: 'https' }]),
      deployment('cde-processing', 'card-processor', [{ containerPort: 9443, name: 'grpc' }]),
    ],
    'cluster/netpol-frontend.yaml': [
      defaultDeny('cde-frontend'),
      allowDns('cde-frontend', 'payment-api'),
      netpol('cde-frontend', 'payment-api', {
        podSelector: { matchLabels: { app: 'payment-api' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } }, podSelector: { matchLabels: { app: 'ingress-controller' } } }],
            ports: [{ port: 'https' }],
          },
        ],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cde-processing' } }, podSelector: { matchLabels: { app: 'card-processor' } } }],
            ports: [{ port: 9443, protocol: 'TCP' }],
          },
        ],
      }),
    ],
    'cluster/netpol-processing.yaml': [
      defaultDeny('cde-processing'),
      allowDns('cde-processing', 'card-processor'),
      netpol('cde-processing', 'card-processor', {
        podSelector: { matchLabels: { app: 'card-processor' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['cde-frontend'] }] },
                podSelector: { matchLabels: { app: 'payment-api' } },
              },
            ],
            ports: [{ port: 'grpc' }],
          },
        ],
      }),
    ],
    'spec/scope.yaml': [
      {
        apiVersion: 'pci-harness.dev/v1alpha1',
        kind: 'ScopeDeclaration',
        metadata: { name: 'scope' },
        spec: {
          scopeLabel: { 'pci-scope': 'in-scope' },
          namespaces: ['cde-frontend', 'cde-processing'],
          podSecurityVersion: 'v1.34',
          cdeNodes: { label: { 'pci-scope': 'in-scope' }, taint: { key: 'pci-scope', value: 'in-scope', effect: 'NoSchedule' } },
        },
      },
    ],
    'spec/flows.yaml': [
      {
        apiVersion: 'pci-harness.dev/v1alpha1',
        kind: 'FlowTable',
        metadata: { name: 'flows' },
        spec: {
          flows: [
            flow('ingress', 'ingress-controller', 'cde-frontend', 'payment-api', 8443),
            flow('cde-frontend', 'payment-api', 'cde-processing', 'card-processor', 9443),
            flow('cde-frontend', 'payment-api', 'kube-system', 'kube-dns', 53, 'UDP', '1.3.2'),
            flow('cde-frontend', 'payment-api', 'kube-system', 'kube-dns', 53, 'TCP', '1.3.2'),
            flow('cde-processing', 'card-processor', 'kube-system', 'kube-dns', 53, 'UDP', '1.3.2'),
            flow('cde-processing', 'card-processor', 'kube-system', 'kube-dns', 53, 'TCP', '1.3.2'),
          ],
        },
      },
    ],
  };
}

export function toSet(docs: Record<string, Doc[]>): ManifestSet {
  return setFromTexts(Object.fromEntries(Object.entries(docs).map(([f, ds]) => [f, ds.map((d) => stringify(d)).join('---\n')])));
}

/** The good set with one weakening applied. */
export function build(mutate?: (d: Record<string, Doc[]>) => void): ManifestSet {
  const d = goodDocs();
  mutate?.(d);
  return toSet(d);
}

export function find(d: Record<string, Doc[]>, file: string, name: string): Doc {
  const doc = (d[file] ?? []).find((x) => x.metadata.name === name);
  if (!doc) throw new Error(`fixture ${file} has no ${name}`);
  return doc;
}
