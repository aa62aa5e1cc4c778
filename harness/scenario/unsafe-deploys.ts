import { stringify } from 'yaml';
import { evaluatePodSecurity, enforcedPolicy } from '../analyzers/pod-security.ts';
import { runBatch } from '../analyzers/kyverno/cli-run.ts';
import { podTemplates } from '../analyzers/workloads.ts';
import { parseManifestText } from '../manifests/load.ts';
import type { K8sObject, LoadedObject, ManifestSet } from '../manifests/types.ts';

/**
 * The unsafe deploys a compromised CI pipeline tries, as data: each path
 * weakens ONE thing of a restricted-compliant pod, and the wrappers put the
 * same pod template into every workload kind. Pure, except `predictKyverno`,
 * which runs the real Kyverno CLI on the attack objects (the offline lane's
 * engine), so that a live verdict is compared with what the offline lane
 * says of the very same object.
 */
export type Json = Record<string, unknown>;
type Container = { name: string; image: string; securityContext: Json; ports?: Json[]; volumeMounts?: Json[] };
type PodSpec = Json & { containers: Container[]; initContainers?: Container[]; securityContext: Json; volumes?: Json[] };

export interface UnsafePath {
  id: string;
  /** What the pipeline smuggles in, in a phrase. */
  what: string;
  requirement: string;
  weaken(spec: PodSpec): void;
}

const main = (s: PodSpec) => s.containers[0]!;

export const UNSAFE_PATHS: readonly UnsafePath[] = [
  { id: 'privileged', what: 'a privileged container', requirement: '2.2.6', weaken: (s) => void Object.assign(main(s).securityContext, { privileged: true, allowPrivilegeEscalation: true }) },
  {
    id: 'host-path',
    what: 'a hostPath volume of the node root',
    requirement: '2.2.6',
    weaken: (s) => {
      s.volumes = [{ name: 'host', hostPath: { path: '/' } }];
      main(s).volumeMounts = [{ name: 'host', mountPath: '/host', readOnly: true }];
    },
  },
  { id: 'host-pid', what: "the node's PID namespace", requirement: '2.2.6', weaken: (s) => void (s.hostPID = true) },
  { id: 'host-network', what: "the node's network namespace", requirement: '2.2.6', weaken: (s) => void (s.hostNetwork = true) },
  { id: 'host-ipc', what: "the node's IPC namespace", requirement: '2.2.6', weaken: (s) => void (s.hostIPC = true) },
  { id: 'host-port', what: 'a host port', requirement: '2.2.5', weaken: (s) => void (main(s).ports = [{ containerPort: 8080, hostPort: 18080, protocol: 'TCP' }]) },
  { id: 'added-capability', what: 'the SYS_ADMIN capability', requirement: '2.2.6', weaken: (s) => void (main(s).securityContext.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] }) },
  { id: 'run-as-root', what: 'runAsUser 0', requirement: '2.2.6', weaken: (s) => void (main(s).securityContext.runAsUser = 0) },
  {
    id: 'run-as-non-root-missing',
    what: 'no runAsNonRoot anywhere (the image may run as root)',
    requirement: '2.2.6',
    weaken: (s) => {
      delete s.securityContext.runAsNonRoot;
      delete s.securityContext.runAsUser;
      delete main(s).securityContext.runAsNonRoot;
    },
  },
  { id: 'seccomp-unconfined', what: 'seccomp Unconfined on the container', requirement: '2.2.6', weaken: (s) => void (main(s).securityContext.seccompProfile = { type: 'Unconfined' }) },
  { id: 'writable-root', what: 'a writable root filesystem', requirement: '2.2.6', weaken: (s) => void delete main(s).securityContext.readOnlyRootFilesystem },
  { id: 'foreign-registry', what: 'an image from a registry outside the CDE one', requirement: '6.3.2', weaken: (s) => void (main(s).image = 'docker.io/library/nginx:1.27') },
  {
    id: 'privileged-init',
    what: 'a privileged init container',
    requirement: '2.2.6',
    weaken: (s) => {
      const init = structuredClone(main(s));
      init.name = 'init';
      Object.assign(init.securityContext, { privileged: true, allowPrivilegeEscalation: true });
      s.initContainers = [init];
    },
  },
];

export const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** A pod (from harnessPod) with one unsafe path applied; the input is not changed. */
export function weakened(pod: Json, path: UnsafePath | undefined, name: string): Json {
  const out = structuredClone(pod) as Json & { metadata: Json; spec: PodSpec };
  out.metadata = { ...out.metadata, name };
  path?.weaken(out.spec);
  return out;
}

/** The pod's template in a workload of `kind` (same labels as selector), or the pod itself. */
export function asKind(pod: Json, kind: WorkloadKind): Json {
  if (kind === 'Pod') return pod;
  const meta = pod.metadata as { name: string; namespace: string; labels?: Record<string, string> };
  const labels = { ...(meta.labels ?? {}), 'pci-harness.dev/attack': meta.name };
  const template = { metadata: { labels }, spec: structuredClone(pod.spec) as Json };
  const metadata = { name: meta.name, namespace: meta.namespace, labels };
  const restartNever = { ...template, spec: { ...template.spec, restartPolicy: 'Never' } };
  switch (kind) {
    case 'Deployment':
      return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: 1, selector: { matchLabels: labels }, template } };
    case 'StatefulSet':
      return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: 1, serviceName: meta.name, selector: { matchLabels: labels }, template } };
    case 'DaemonSet':
      return { apiVersion: 'apps/v1', kind, metadata, spec: { selector: { matchLabels: labels }, template } };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata, spec: { backoffLimit: 0, template: restartNever } };
    case 'CronJob':
      return { apiVersion: 'batch/v1', kind, metadata, spec: { schedule: '0 0 1 1 *', jobTemplate: { spec: { backoffLimit: 0, template: restartNever } } } };
  }
}

/** Kyverno's name for a rule evaluated on `kind` (autogen): rule, autogen-rule, autogen-cronjob-rule. */
export function kyvernoRuleName(rule: string, kind: string): string {
  return kind === 'Pod' ? rule : kind === 'CronJob' ? `autogen-cronjob-${rule}` : `autogen-${rule}`;
}

// ---- what the layers said -------------------------------------------------------------------------

export const PSA_DENIAL = /violates PodSecurity "([a-z]+:v[0-9.]+|[a-z]+:latest)"/;
export const KYVERNO_DENIAL = /admission webhook "validate\.kyverno\.svc-fail" denied the request/;

export interface AdmissionObservation {
  verdict: 'admitted' | 'rejected' | 'check-failed';
  /** 'psa' | 'kyverno' | 'rbac' | another layer's name, for a rejection. */
  layer?: string;
  /** Kyverno `policy/rule` names in the denial. */
  kyvernoRules: string[];
  /** PSA's profile in the denial, e.g. restricted:v1.34. */
  psaProfile?: string;
}

/**
 * Read an apiserver answer: PSA's forbidden message, a Kyverno webhook
 * denial (its `policy:` / `  rule: message` lines), RBAC's forbidden, or
 * success. Anything else (timeouts, connection errors) is check-failed.
 */
export function readAdmission(exitCode: number, text: string): AdmissionObservation {
  if (exitCode === 0) return { verdict: 'admitted', kyvernoRules: [] };
  const psa = PSA_DENIAL.exec(text);
  if (psa) return { verdict: 'rejected', layer: 'psa', kyvernoRules: [], psaProfile: psa[1] };
  if (KYVERNO_DENIAL.test(text)) {
    const rules: string[] = [];
    let policy = '';
    for (const line of text.split('\n')) {
      const p = /^([a-z0-9][a-z0-9-]*):$/.exec(line);
      if (p) {
        policy = p[1]!;
        continue;
      }
      const r = /^ {2}([a-z0-9][a-z0-9-]*): /.exec(line);
      if (r && policy) rules.push(`${policy}/${r[1]}`);
    }
    return { verdict: 'rejected', layer: 'kyverno', kyvernoRules: [...new Set(rules)].sort() };
  }
  if (/is forbidden: User ".*" cannot/.test(text)) return { verdict: 'rejected', layer: 'rbac', kyvernoRules: [] };
  if (/denied the request|is forbidden|is invalid/.test(text)) return { verdict: 'rejected', layer: 'other', kyvernoRules: [] };
  return { verdict: 'check-failed', kyvernoRules: [] };
}

// ---- what the offline lane predicts --------------------------------------------------------------

function asSet(objects: Json[]): ManifestSet {
  return { dir: '', objects: objects.flatMap((o, i) => parseManifestText(stringify(o), `attack-${i}.yaml`)) };
}

/** PSA's verdict on a Pod in a namespace with these labels (the offline pod-security checks, the namespace's enforce level and version). */
export function predictPsa(pod: Json, namespaceLabels: Record<string, string>): { rejects: boolean; profile: string; violations: string[] } {
  const policy = enforcedPolicy(namespaceLabels);
  const t = podTemplates(asSet([pod]))[0];
  if (!t) throw new Error('predictPsa: not a pod');
  const v = evaluatePodSecurity(t, policy.level, policy.version.minor);
  return { rejects: v.length > 0, profile: `${policy.level}:${policy.version.label}`, violations: [...new Set(v.map((x) => x.id))].sort() };
}

/**
 * Kyverno's verdict on each object, by the real CLI with the set's
 * policies and the namespaces' labels (runBatch: the offline lane's
 * invocation). Keyed `Kind/namespace/name` → sorted failing `policy/rule`.
 */
export async function predictKyverno(cli: string, policies: LoadedObject[], namespaces: Array<{ name: string; labels: Record<string, string> }>, objects: Json[]): Promise<Map<string, string[]>> {
  const nsObjects = asSet(namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } }))).objects;
  const run = await runBatch({ cli, policies, namespaces: nsObjects, fixtures: objects as unknown as K8sObject[] });
  if (run.invalidPolicies.length) throw new Error(`the Kyverno CLI refused policies ${run.invalidPolicies.join(', ')}:\n${run.outputTail}`);
  if (run.results.length === 0) throw new Error(`the Kyverno CLI reported nothing (exit ${run.exitCode}):\n${run.outputTail}`);
  const out = new Map<string, string[]>();
  for (const o of objects) {
    const meta = o.metadata as { name: string; namespace: string };
    out.set(`${String(o.kind)}/${meta.namespace}/${meta.name}`, []);
  }
  for (const r of run.results) {
    if (r.result !== 'fail') continue;
    const list = out.get(r.resource);
    if (list && !list.includes(`${r.policy}/${r.rule}`)) list.push(`${r.policy}/${r.rule}`);
  }
  for (const list of out.values()) list.sort();
  return out;
}
