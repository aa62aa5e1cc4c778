/**
 * Shared by every mutant file: find a document or fail loudly, and the files
 * of the shipped set by role. A mutant whose target is gone must throw, never
 * become a silent no-op.
 */
import { parse, stringify } from 'yaml';

// Parsed YAML: shapes vary per kind, so mutants work on untyped documents.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = any;

// ---------- helpers: find a document or fail loudly ----------

export function find(docs: Doc[], kind: string, name: string, namespace?: string): Doc {
  const d = docs.find(
    (x) => x?.kind === kind && x?.metadata?.name === name && (namespace === undefined || x?.metadata?.namespace === namespace),
  );
  if (!d) throw new Error(`mutant target ${kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
  return d;
}

export function without(docs: Doc[], kind: string, name: string, namespace?: string): Doc[] {
  const target = find(docs, kind, name, namespace);
  return docs.filter((d) => d !== target);
}

export function rule(policy: Doc, name: string): Doc {
  const r = (policy.spec?.rules ?? []).find((x: Doc) => x?.name === name);
  if (!r) throw new Error(`mutant target rule ${name} not found in ${policy.metadata?.name}`);
  return r;
}

/** The DNS egress rule (the one opening port 53) of a NetworkPolicy. */
export function dnsRule(policy: Doc): Doc {
  const r = (policy.spec?.egress ?? []).find((x: Doc) => x.ports?.some((p: Doc) => p.port === 53));
  if (!r) throw new Error(`mutant target DNS egress rule not found in ${policy.metadata?.name}`);
  return r;
}

export function container(deploy: Doc, index = 0): Doc {
  const c = deploy.spec?.template?.spec?.containers?.[index];
  if (!c) throw new Error(`mutant target container ${index} not found in ${deploy.metadata?.name}`);
  return c;
}

export function podSpec(deploy: Doc): Doc {
  const s = deploy.spec?.template?.spec;
  if (!s) throw new Error(`mutant target pod template not found in ${deploy.metadata?.name}`);
  return s;
}

/** The audit rule at `index` after checking it is the one we mean (rules have no names). */
export function auditRule(policy: Doc, predicate: (r: Doc) => boolean, what: string): Doc {
  const r = (policy.rules ?? []).find(predicate);
  if (!r) throw new Error(`mutant target audit rule (${what}) not found`);
  return r;
}

export const hasResource = (r: Doc, res: string) => (r.resources ?? []).some((g: Doc) => (g.resources ?? []).includes(res));

/** Rewrite the embedded kubeadm patch of `kind` on the node matching `pick`. */
export function kubeadmPatch(cluster: Doc, pick: (node: Doc) => boolean, kind: string, edit: (patch: Doc) => void): void {
  const node = (cluster.nodes ?? []).find(pick);
  if (!node) throw new Error('mutant target kind node not found');
  const patches: string[] = node.kubeadmConfigPatches ?? [];
  const i = patches.findIndex((p) => parse(p)?.kind === kind);
  if (i < 0) throw new Error(`mutant target kubeadm ${kind} patch not found`);
  const patch = parse(patches[i]!);
  edit(patch);
  patches[i] = stringify(patch);
}

export const isCdeWorker = (n: Doc) => n.role === 'worker' && (n.kubeadmConfigPatches ?? []).some((p: string) => p.includes('pci-scope'));
export const isControlPlane = (n: Doc) => n.role === 'control-plane';

export const NS = 'cluster/00-namespaces.yaml';
export const NP_FRONT = 'cluster/10-networkpolicies-cde-frontend.yaml';
export const NP_PROC = 'cluster/10-networkpolicies-cde-processing.yaml';
export const NP_STORE = 'cluster/10-networkpolicies-cde-storage.yaml';
export const RBAC = 'cluster/20-rbac.yaml';
export const KYV = 'cluster/30-kyverno-cde-pod-security.yaml';
export const KYV_GEN = 'cluster/31-kyverno-generate-default-deny.yaml';
export const KYV_NODES = 'cluster/33-kyverno-cde-node-isolation.yaml';
export const KYV_VERIFY = 'cluster/32-kyverno-verify-images.yaml';
export const WL = 'cluster/40-workloads.yaml';
export const AUDIT = 'control-plane/audit-policy.yaml';
export const ENC = 'control-plane/encryption-config.yaml';
export const KIND = 'kind/pci-calico.yaml';

export const KYV_POLICY = 'cde-pod-security-requirements';

