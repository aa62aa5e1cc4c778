import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CheckResult } from '../check/types.ts';
import { setFromTexts } from '../manifests/load.ts';
import { nodePoolAnalyzer, toleratesTaint } from './node-pool.ts';

type Doc = Record<string, any>;
const TAINT = { key: 'pci-scope', value: 'in-scope', effect: 'NoSchedule' as const };
const cdeTol = { key: 'pci-scope', operator: 'Equal', value: 'in-scope', effect: 'NoSchedule' };

const deployment = (namespace: string, name: string, podExtra: Doc = {}): Doc => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'r/x:1' }], ...podExtra } } },
});

const KIND_CLUSTER = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
    kubeadmConfigPatches:
      - |
        kind: JoinConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "pci-scope=in-scope"
          taints:
            - key: pci-scope
              value: in-scope
              effect: NoSchedule
  - role: worker
`;

function docs(): Record<string, Doc[] | string> {
  return {
    'ns.yaml': [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cde-processing', labels: { 'pci-scope': 'in-scope' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ingress' } },
    ],
    'w.yaml': [
      deployment('cde-processing', 'card-processor', { nodeSelector: { 'pci-scope': 'in-scope' }, tolerations: [cdeTol] }),
      deployment('cde-processing', 'batch', {
        tolerations: [{ key: 'pci-scope', operator: 'Exists' }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pci-scope', operator: 'In', values: ['in-scope'] }] }] } } },
      }),
      deployment('ingress', 'ingress-controller'),
    ],
    'spec.yaml': [
      {
        apiVersion: 'pci-harness.dev/v1alpha1',
        kind: 'ScopeDeclaration',
        metadata: { name: 'scope' },
        spec: { scopeLabel: { 'pci-scope': 'in-scope' }, namespaces: ['cde-processing'], podSecurityVersion: 'v1.34', cdeNodes: { label: { 'pci-scope': 'in-scope' }, taint: TAINT } },
      },
    ],
    'kind/cluster.yaml': KIND_CLUSTER,
  };
}

function run(mutate?: (d: ReturnType<typeof docs>) => void): CheckResult[] {
  const d = docs();
  mutate?.(d);
  const set = setFromTexts(Object.fromEntries(Object.entries(d).map(([f, ds]) => [f, typeof ds === 'string' ? ds : ds.map((x) => stringify(x)).join('---\n')])));
  return nodePoolAnalyzer.run(set, {}) as CheckResult[];
}
const fails = (rs: CheckResult[]) => rs.filter((r) => r.status === 'fail');
const w = (d: ReturnType<typeof docs>, i: number) => (d['w.yaml'] as Doc[])[i] as Doc;

describe('node-pool analyzer', () => {
  it('passes an isolated set', () => {
    const rs = run();
    expect(fails(rs)).toEqual([]);
    expect(rs.filter((r) => r.status === 'pass')).toHaveLength(4); // 3 workloads + kind cluster
  });

  it('toleration semantics (core/v1 ToleratesTaint)', () => {
    expect(toleratesTaint({ key: 'pci-scope', operator: 'Exists' }, TAINT)).toBe(true);
    expect(toleratesTaint({ key: 'pci-scope', value: 'in-scope' }, TAINT)).toBe(true); // operator defaults to Equal
    expect(toleratesTaint({ key: 'pci-scope', value: 'other' }, TAINT)).toBe(false);
    expect(toleratesTaint({ key: 'pci-scope', operator: 'Exists', effect: 'NoExecute' }, TAINT)).toBe(false);
    expect(toleratesTaint({ operator: 'Exists' }, TAINT)).toBe(true);
    expect(toleratesTaint({ key: 'other', operator: 'Exists' }, TAINT)).toBe(false);
  });

  it('toleration Exists with empty key on a non-CDE pod fails', () => {
    const f = fails(run((d) => (w(d, 2).spec.template.spec.tolerations = [{ operator: 'Exists' }])));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ check: 'node-pool.isolation', requirement: '2.2.3', object: 'Deployment/ingress/ingress-controller', file: 'w.yaml' });
    expect(f[0]?.message).toContain('tolerates every taint');
  });

  it('out-of-scope workload tolerating the CDE taint fails', () => {
    const f = fails(run((d) => (w(d, 2).spec.template.spec.tolerations = [cdeTol])));
    expect(f[0]?.message).toContain('is out of scope but tolerates the CDE taint pci-scope=in-scope:NoSchedule');
  });

  it('CDE workload without nodeSelector fails; without toleration fails', () => {
    const noSel = fails(run((d) => delete w(d, 0).spec.template.spec.nodeSelector));
    expect(noSel.map((r) => r.message)).toEqual([expect.stringContaining('does not select CDE nodes')]);
    const noTol = fails(run((d) => delete w(d, 0).spec.template.spec.tolerations));
    expect(noTol.map((r) => r.message)).toEqual([expect.stringContaining('does not tolerate the CDE taint')]);
  });

  it('node affinity with an OR term that escapes the CDE pool fails', () => {
    const f = fails(
      run((d) => w(d, 1).spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.push({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] })),
    );
    expect(f[0]?.object).toBe('Deployment/cde-processing/batch');
  });

  it('kind config without a tainted CDE worker fails', () => {
    const f = fails(run((d) => (d['kind/cluster.yaml'] = KIND_CLUSTER.replace(/ {10}taints:[\s\S]*NoSchedule\n/, ''))));
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('has no worker both labelled pci-scope=in-scope and tainted');
  });

  it('kind node labels via `labels:` and register-with-taints count too', () => {
    const alt = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: worker
    labels: { pci-scope: in-scope }
    kubeadmConfigPatches:
      - |
        kind: JoinConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            - name: register-with-taints
              value: pci-scope=in-scope:NoSchedule
`;
    expect(fails(run((d) => (d['kind/cluster.yaml'] = alt)))).toEqual([]);
  });
});
