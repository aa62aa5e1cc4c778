import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadManifestDir } from '../manifests/load.ts';
import type { K8sObject } from '../manifests/types.ts';
import { APPLY_PHASES, phaseOf, planApply, rolloutsOf, toYamlStream } from './apply.ts';
import { REPO_ROOT } from './paths.ts';

const obj = (kind: string, name: string, namespace?: string): K8sObject => ({ apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } });

describe('planApply', () => {
  it('orders namespaces → RBAC → policies → network policies → workloads, whatever the input order', () => {
    const plan = planApply([
      obj('Deployment', 'api', 'a'),
      obj('NetworkPolicy', 'deny', 'a'),
      obj('ClusterPolicy', 'psa'),
      obj('RoleBinding', 'rb', 'a'),
      obj('Namespace', 'a'),
      obj('Service', 'api', 'a'),
    ]);
    expect(plan.map((p) => p.phase)).toEqual([...APPLY_PHASES]);
    expect(plan.at(-1)!.objects.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
  });
  it('drops empty phases', () => {
    expect(planApply([obj('ConfigMap', 'c', 'a')]).map((p) => p.phase)).toEqual(['workloads']);
  });
  it('places every object of the shipped PCI set, policies before any workload', () => {
    const set = loadManifestDir(join(REPO_ROOT, 'manifests', 'cluster'));
    const objects = set.objects.map((o) => o.object);
    const plan = planApply(objects);
    expect(plan.flatMap((p) => p.objects)).toHaveLength(objects.length);
    const order = plan.map((p) => p.phase);
    expect(order[0]).toBe('namespaces');
    expect(order.indexOf('policies')).toBeLessThan(order.indexOf('workloads'));
    expect(order.indexOf('network-policies')).toBeLessThan(order.indexOf('workloads'));
    expect(objects.filter((o) => o.kind === 'NetworkPolicy').every((o) => phaseOf(o) === 'network-policies')).toBe(true);
    expect(rolloutsOf(objects).map((r) => r.ref)).toEqual(expect.arrayContaining(['deployment/payment-api', 'deployment/card-processor']));
  });
});

describe('toYamlStream', () => {
  it('round-trips objects as a multi-document stream', () => {
    const docs = parseAllDocuments(toYamlStream([obj('Namespace', 'a'), obj('ConfigMap', 'c', 'a')]));
    expect(Array.isArray(docs) && docs.map((d) => (d.toJS() as K8sObject).metadata.name)).toEqual(['a', 'c']);
  });
});
