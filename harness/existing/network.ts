import { stringify } from 'yaml';
import { predictReachability } from '../analyzers/network/matrix.ts';
import { PROBE_PORTS, UNLABELLED } from '../analyzers/network/model.ts';
import type { Cluster } from '../cluster/provider.ts';
import { parseManifestText } from '../manifests/load.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { findSpec } from '../spec/control-map.ts';
import type { FlowTableSpec } from '../spec/types.ts';
import { planCells, planTargets, runMatrix, type MatrixRun } from '../scenario/matrix.ts';
import { unlabelled, type Position } from '../scenario/positions.ts';
import { readTopology } from '../scenario/topology.ts';
import type { GuardScope } from './guard.ts';
import { namespaceObject } from './namespace.ts';

/**
 * Reachability from the one position the mode may take: an unlabelled pod in
 * its own namespace, outside the CDE. The offline model is asked about
 * exactly that pod — the set plus the run's Namespace object (its real
 * labels), so a policy whose namespaceSelector would match it is predicted as
 * such — and every target the live topology has (the set's workloads by
 * Service name, ClusterIP and pod IP, kube-dns, the API server, a kubelet).
 * Positions inside the CDE (a compromised workload, a rogue pod) need a pod
 * in namespaces the run did not create: not taken, listed NOT TESTED.
 */
export function setWithOwnNamespace(set: ManifestSet, scope: GuardScope): ManifestSet {
  return { dir: set.dir, objects: [...set.objects, ...parseManifestText(stringify(namespaceObject(scope)), '<the run namespace>')] };
}

export const SCENARIO = 'existing.reachability';

export async function reachabilityFromOwnNamespace(cluster: Cluster, set: ManifestSet, scope: GuardScope): Promise<{ run: MatrixRun; position: Position }> {
  const withNs = setWithOwnNamespace(set, scope);
  const reach = predictReachability(withNs);
  const flows = findSpec<FlowTableSpec>(withNs, 'FlowTable')?.spec.flows ?? [];
  const memberId = `${scope.namespace}/${UNLABELLED}`;
  const endpointId = reach.model.memberIndex.get(memberId);
  if (endpointId === undefined) throw new Error(`the model has no member ${memberId}`);
  const position = await unlabelled(cluster, scope.namespace, UNLABELLED, PROBE_PORTS, false);
  try {
    const topology = await readTopology(cluster);
    const cells = planCells(reach, flows, [{ position, endpointId }], planTargets(reach, topology, [position]));
    return { run: await runMatrix(SCENARIO, cells), position };
  } catch (e) {
    await position.dispose();
    throw e;
  }
}
