import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictReachability } from '../analyzers/network/matrix.ts';
import { EXTERNAL_IP } from '../analyzers/network/model.ts';
import { REPO_ROOT } from '../cluster/paths.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { findSpec } from '../spec/control-map.ts';
import type { FlowTableSpec } from '../spec/types.ts';
import { planCells, planTargets, renderTables, type MatrixRun } from './matrix.ts';
import type { Position, PositionKind } from './positions.ts';
import type { LiveResult } from './result.ts';
import type { Topology } from './topology.ts';

// The shipped set's model, and a topology shaped like the kind cluster (pure: nothing is probed).
const set = loadManifestDir(join(REPO_ROOT, 'manifests'));
const reach = predictReachability(set);
const flows = findSpec<FlowTableSpec>(set, 'FlowTable')?.spec.flows ?? [];

const pod = (namespace: string, name: string, ip: string, labels: Record<string, string>) => ({ namespace, name, ip, node: 'w', labels, ready: true });
const topo: Topology = {
  nodes: [
    { name: 'cp', ip: '172.18.0.2', cde: false, controlPlane: true, ready: true },
    { name: 'cde', ip: '172.18.0.3', cde: true, controlPlane: false, ready: true },
  ],
  services: [
    { namespace: 'cde-frontend', name: 'payment-api', clusterIP: '10.96.1.1', selector: { app: 'payment-api' }, ports: [{ name: 'https', port: 8443, protocol: 'TCP', targetPort: 'https' }] },
    { namespace: 'cde-processing', name: 'card-processor', clusterIP: '10.96.1.2', selector: { app: 'card-processor' }, ports: [{ port: 9443, protocol: 'TCP', targetPort: 9443 }] },
    { namespace: 'cde-storage', name: 'datastore', clusterIP: '10.96.1.3', selector: { app: 'datastore' }, ports: [{ port: 5432, protocol: 'TCP', targetPort: 5432 }] },
  ],
  pods: [
    pod('cde-frontend', 'payment-api-abc', '10.244.1.1', { app: 'payment-api' }),
    pod('cde-processing', 'card-processor-abc', '10.244.1.2', { app: 'card-processor' }),
    pod('cde-storage', 'datastore-abc', '10.244.1.3', { app: 'datastore' }),
  ],
  apiServer: { clusterIP: '10.96.0.1', port: 443, endpoints: [{ ip: '172.18.0.2', port: 6443 }] },
  kubeDns: { clusterIP: '10.96.0.10', pods: [pod('kube-system', 'coredns-1', '10.244.0.5', { 'k8s-app': 'kube-dns' })] },
};

const fakePosition = (kind: PositionKind, memberId: string, ip: string): Position =>
  ({ kind, memberId, adversary: `${kind} ${memberId}`, namespace: memberId.split('/')[0], name: `pos-${ip}`, ip, serves: [], execPrefix: 'x', probe: async () => ({ lines: new Map(), done: true, exitCode: 0, stderr: '', ms: 0 }), dispose: async () => {} }) as unknown as Position;

const positions = [
  fakePosition('compromised', 'cde-frontend/payment-api', '10.244.2.1'),
  fakePosition('outsider', 'default/attacker', '10.244.2.2'),
  fakePosition('rogue', 'cde-storage/(unlabelled)', '10.244.2.3'),
  fakePosition('outside-world', `external:${EXTERNAL_IP}`, '172.18.0.9'),
];
const sources = positions.map((position) => ({ position, endpointId: reach.model.memberIndex.get(position.memberId) as number }));
const targets = planTargets(reach, topo, positions);
const cells = planCells(reach, flows, sources, targets);
const cell = (from: string, label: string) => {
  const c = cells.find((x) => x.source.position.memberId === from && x.target.label === label);
  if (!c) throw new Error(`no cell ${from} → ${label}`);
  return c;
};

describe('matrix plan: predictions come from the offline model', () => {
  it('addresses each workload by Service DNS name, ClusterIP and pod IP, and its twin on undeclared ports', () => {
    const labels = targets.filter((t) => t.dest === 'cde-storage/datastore').map((t) => t.label);
    expect(labels).toEqual(expect.arrayContaining([
      'cde-storage/datastore 5432/TCP via service-dns',
      'cde-storage/datastore 5432/TCP via cluster-ip',
      'cde-storage/datastore 5432/TCP via pod-ip',
    ]));
    expect(targets.filter((t) => t.dest === 'cde-frontend/payment-api' && t.label.includes('undeclared')).map((t) => `${t.port.port}/${t.port.protocol}`)).toEqual(['9999/TCP', '9999/UDP']);
    // A Service with a named targetPort resolves to the pod port name the policy uses.
    expect(targets.find((t) => t.label === 'cde-frontend/payment-api 8443/TCP via cluster-ip')?.port).toMatchObject({ port: 8443, name: 'https' });
  });

  it('the allowed tier hop is allowed, names its policies and the flow table requirement', () => {
    const c = cell('cde-frontend/payment-api', 'cde-processing/card-processor 9443/TCP via service-dns');
    expect(c.prediction.predicted).toBe('allowed');
    expect(c.prediction.layer.names).toEqual(expect.arrayContaining(['cde-frontend/payment-api-egress', 'cde-processing/card-processor-ingress']));
    expect(c.requirement).toBe('1.3.2');
  });

  it('skipping a tier is blocked by the source egress half first', () => {
    const c = cell('cde-frontend/payment-api', 'cde-storage/datastore 5432/TCP via pod-ip');
    expect(c.prediction).toMatchObject({ predicted: 'blocked', layer: { kind: 'networkpolicy-egress' } });
    expect(c.prediction.layer.names).toContain('cde-frontend/default-deny-all');
  });

  it('an outsider into the CDE is blocked by the destination ingress half (1.3.1)', () => {
    const c = cell('default/attacker', 'cde-frontend/payment-api 8443/TCP via pod-ip');
    expect(c.prediction).toMatchObject({ predicted: 'blocked', layer: { kind: 'networkpolicy-ingress' } });
    expect(c.requirement).toBe('1.3.1');
  });

  it('host endpoints: egress half only — the outsider reaches the API server, the compromised CDE pod does not', () => {
    expect(cell('default/attacker', 'kube-apiserver 443/TCP via cluster-ip').prediction).toMatchObject({ predicted: 'allowed', layer: { kind: 'none' } });
    expect(cell('cde-frontend/payment-api', 'kube-apiserver 443/TCP via cluster-ip').prediction).toMatchObject({ predicted: 'blocked', layer: { kind: 'networkpolicy-egress' } });
    expect(cell('cde-frontend/payment-api', 'kubelet cde 10250/TCP via node-ip').prediction.predicted).toBe('blocked');
  });

  it('a rogue pod in cde-storage cannot resolve names, so its DNS-name cells are not applicable (its kube-dns cells carry the verdict)', () => {
    expect(cell('cde-storage/(unlabelled)', 'cde-storage/datastore 5432/TCP via service-dns').skip).toMatch(/cannot resolve/);
    expect(cell('cde-storage/(unlabelled)', 'kube-system/kube-dns 53/UDP via cluster-ip').prediction.predicted).toBe('blocked');
    expect(cell('cde-frontend/payment-api', 'kube-system/kube-dns 53/UDP via cluster-ip').prediction.predicted).toBe('allowed');
  });

  it('the outside world reaches pods by IP only, and CDE egress to it is blocked', () => {
    expect(cell(`external:${EXTERNAL_IP}`, 'cde-frontend/payment-api 8443/TCP via cluster-ip').skip).toMatch(/outside the cluster/);
    expect(cell('cde-frontend/payment-api', 'internet 443/TCP').prediction).toMatchObject({ predicted: 'blocked', layer: { kind: 'networkpolicy-egress' } });
    expect(cell('default/attacker', 'internet 443/TCP').prediction.predicted).toBe('allowed');
  });

  it('a position never probes itself, and agent target ids are unique per source', () => {
    for (const s of sources) {
      const mine = cells.filter((c) => c.source === s);
      expect(mine.some((c) => c.target.positionName === s.position.name)).toBe(false);
      expect(new Set(mine.map((c) => c.agentTarget.id)).size).toBe(mine.length);
    }
  });
});

describe('matrix tables', () => {
  it('print expected, observed and comparison with a legend; a mismatch shows as X in the comparison', () => {
    const results = cells.map((c, i): LiveResult => {
      const mismatch = i === 0 && !c.skip;
      const observed = c.skip ? 'check-failed' : mismatch ? (c.prediction.predicted === 'allowed' ? 'blocked' : 'allowed') : c.prediction.predicted;
      return { lane: 'live', check: 'live.network.matrix', requirement: c.requirement, status: c.skip ? 'skip' : mismatch ? 'fail' : 'pass', message: '', scenario: 's', adversary: '', action: '', predicted: c.prediction.predicted, observed, layer: c.prediction.layer, evidence: '', replay: '' };
    });
    const run: MatrixRun = { cells, first: [], results, ms: 0 };
    const text = renderTables(run);
    expect(text).toMatch(/Expected \(offline network\.reachability\):/);
    expect(text).toMatch(/Observed \(live cluster\):/);
    const comparison = text.split('Comparison:')[1]?.split('Targets:')[0] ?? '';
    expect(comparison).toMatch(/X/);
    expect(text).toMatch(/ 1 cde-frontend\/payment-api 8443\/TCP via service-dns/);
  });
});
