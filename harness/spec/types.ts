/**
 * The harness's own declarations: what the PCI set is MEANT to do. They live
 * in `manifests/spec/` as YAML documents with apiVersion
 * `pci-harness.dev/v1alpha1`, next to (not inside) the objects users apply.
 * Analyzers compare what the objects DO with what these documents declare.
 */
export const SPEC_API_VERSION = 'pci-harness.dev/v1alpha1';
export const SPEC_KINDS = ['FlowTable', 'AccessTable', 'AuditExpectations', 'ControlMap', 'ScopeDeclaration'] as const;
export type SpecKind = (typeof SPEC_KINDS)[number];

/** A workload is a Deployment (or StatefulSet/DaemonSet/Pod) by namespace and name. */
export interface WorkloadRef {
  namespace: string;
  workload: string;
}

/**
 * Every intended connection. Anything absent is expected to be denied.
 * kind: FlowTable
 */
export interface FlowTableSpec {
  flows: Array<{
    from: WorkloadRef;
    /** Destination: a workload, or `{ namespace: kube-system, workload: kube-dns }` for DNS (modelled implicitly). */
    to: WorkloadRef;
    port: number;
    protocol?: 'TCP' | 'UDP' | 'SCTP';
    requirement: string;
    why?: string;
  }>;
}

/**
 * The least-privilege table: the complete effective permissions every
 * subject must have — no more, no less.
 * kind: AccessTable
 */
export interface AccessTableSpec {
  subjects: Array<{
    subject: { kind: 'ServiceAccount' | 'User' | 'Group'; name: string; namespace?: string };
    /** Empty list = the subject must have no permissions from the set. */
    allow: Array<{
      namespace?: string; // absent = cluster scope
      apiGroup: string;
      resource: string; // may include a subresource: "pods/log"
      resourceNames?: string[];
      verbs: string[];
    }>;
  }>;
}

/**
 * Requests the audit policy must log, each with the level it must get
 * (first-match semantics, as the apiserver evaluates it).
 * kind: AuditExpectations
 */
export interface AuditExpectationsSpec {
  cases: Array<{
    name: string;
    requirement: string;
    request: {
      user?: string; // absent = unauthenticated (401: no user at all)
      groups?: string[];
      verb: string;
      apiGroup?: string;
      resource?: string;
      subresource?: string;
      namespace?: string;
      name?: string;
      nonResourceURL?: string;
    };
    expectLevel: 'None' | 'Metadata' | 'Request' | 'RequestResponse';
    /** Stages that must NOT be omitted (e.g. ResponseComplete). */
    expectStages?: string[];
  }>;
}

/**
 * PCI DSS v4.0 requirement → the objects that implement it → the checks
 * that prove it. Rendered in every report.
 * kind: ControlMap
 */
export interface ControlMapSpec {
  requirements: Array<{
    id: string; // bare v4.0 number, "1.3.1"
    title: string;
    objects: string[]; // objectId()s, e.g. "NetworkPolicy/cde-frontend/default-deny-all"
    checks: string[]; // check ids, e.g. "network.reachability"
    /** Set when the harness does not prove this requirement (yet): why, in a sentence. Its results are `skip`, never a pass. */
    notTested?: string;
  }>;
}

/**
 * Which namespaces are in PCI scope and how CDE nodes are marked.
 * kind: ScopeDeclaration
 */
export interface ScopeDeclarationSpec {
  /** Label every in-scope namespace carries, e.g. { "pci-scope": "in-scope" }. */
  scopeLabel: Record<string, string>;
  namespaces: string[];
  /** Pod Security Standards version the namespaces must pin, e.g. "v1.34". */
  podSecurityVersion: string;
  cdeNodes: {
    label: Record<string, string>;
    taint: { key: string; value: string; effect: 'NoSchedule' | 'NoExecute' };
  };
  /**
   * Optional: the cluster's pod and Service networks (CIDRs), so that an
   * ipBlock holding them counts as reaching pods. When absent, the kind
   * Cluster configs in the set say (networking.podSubnet / serviceSubnet).
   */
  clusterNetwork?: { podCIDRs?: string[]; serviceCIDRs?: string[] };
}

export interface SpecDocument<K extends SpecKind, S> {
  apiVersion: typeof SPEC_API_VERSION;
  kind: K;
  metadata: { name: string };
  spec: S;
}
