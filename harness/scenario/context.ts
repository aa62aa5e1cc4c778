import { join } from 'node:path';
import { predictReachability, type CniSemantics, type Reachability } from '../analyzers/network/matrix.ts';
import { memberId, type Endpoint, type Member } from '../analyzers/network/model.ts';
import { requireEnforcement, type CanaryResult } from '../cluster/canary.ts';
import { REPO_ROOT } from '../cluster/paths.ts';
import type { Cluster } from '../cluster/provider.ts';
import { loadManifestDir } from '../manifests/load.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { findSpec } from '../spec/control-map.ts';
import type { FlowTableSpec } from '../spec/types.ts';
import { readTopology, type Topology } from './topology.ts';

/**
 * What every scenario stands on: the cluster, the offline model of the SAME
 * manifest set that was applied (predictions come from here, never from the
 * scenario author), the flow table, and the live topology.
 */
export interface ScenarioContext {
  cluster: Cluster;
  manifestsDir: string;
  reach: Reachability;
  flows: FlowTableSpec['flows'];
  topology: Topology;
  /** The applied set, as loaded (scenarios read declarations from it, never from the files again). */
  set: ManifestSet;
  endpointOf(memberId: string): Endpoint;
  member(memberId: string): Member;
}

/**
 * The set the live lane attacks: the shipped one, or the user's set laid out
 * by `pci-harness run --manifests` (harness/manifests/live-dir.ts), named by
 * PCI_LIVE_MANIFESTS for the boot and every vitest worker alike.
 */
export function liveManifestsDir(): string {
  return process.env.PCI_LIVE_MANIFESTS || join(REPO_ROOT, 'manifests');
}

/** True when the live lane attacks the shipped set (files written for its workloads run only then). */
export function isShippedSet(): boolean {
  return liveManifestsDir() === join(REPO_ROOT, 'manifests');
}

/**
 * The live CNI's reading of the NetworkPolicy API's implementation-defined
 * corners (harness/analyzers/network/matrix.ts CniSemantics): the matrix and
 * the live mutants predict what THIS cluster's CNI should do.
 */
export function liveCniSemantics(cni = process.env.PCI_LIVE_CNI): CniSemantics {
  return cni === 'cilium' ? { ipBlockSelectsPods: false } : {};
}

export async function scenarioContext(cluster: Cluster, manifestsDir = liveManifestsDir()): Promise<ScenarioContext> {
  const set = loadManifestDir(manifestsDir);
  const reach = predictReachability(set, liveCniSemantics());
  const flows = findSpec<FlowTableSpec>(set, 'FlowTable')?.spec.flows ?? [];
  const topology = await readTopology(cluster);
  const find = (id: string) => {
    const index = reach.model.memberIndex.get(id);
    if (index === undefined) throw new Error(`"${id}" is not a workload or position of the model: known are ${[...reach.model.memberIndex.keys()].join(', ')}`);
    return reach.endpoints[index] as Endpoint;
  };
  return {
    cluster,
    manifestsDir,
    reach,
    flows,
    topology,
    set,
    endpointOf: find,
    member: (id) => find(id).members.find((m) => memberId(m) === id) as Member,
  };
}

/** Network results mean nothing without a proven canary: resolves with it, or throws EnforcementError (the run is inconclusive, exit 3). */
export function requireNetworkEnforcement(ctx: ScenarioContext): Promise<CanaryResult> {
  return requireEnforcement(ctx.cluster);
}
