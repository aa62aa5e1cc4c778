import { stringify } from 'yaml';
import type { Cluster } from './provider.ts';
import type { ProbePod } from './probe.ts';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../k8s/restricted.ts';

/**
 * Pods the harness itself runs (probes, canary servers). Each one satisfies
 * Pod Security "restricted" and the CDE Kyverno policy (non-root 65532, no
 * escalation, ALL caps dropped, RuntimeDefault seccomp, read-only root, no
 * token), so admission never blocks the harness's own instruments.
 */
export interface HarnessPodOptions {
  namespace: string;
  name: string;
  image: string;
  args?: string[];
  labels?: Record<string, string>;
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  /** Container ports (name → port), for server pods. */
  ports?: Record<string, number>;
  /** Container ports with protocol (UDP too); named ports matter: policies resolve names on the pod. */
  containerPorts?: Array<{ name?: string; containerPort: number; protocol: string }>;
  /** Override the image entrypoint (e.g. the probe agent's serve mode). */
  command?: string[];
  /** Only these labels (no managed-by label): positions must carry exactly what the model assumes. */
  exactLabels?: boolean;
  /**
   * A readiness gate nobody sets: the pod never turns Ready, so it is never a
   * Service endpoint — a compromised-workload position must not answer for
   * the workload it imitates. Wait with `ready: 'containers'`.
   */
  neverReady?: boolean;
  /**
   * Token mounting: false (default for instruments) or 'as-workload' — left
   * unset, so the ServiceAccount's own setting decides, as for the workload
   * copied (a compromised-workload position must find what the workload finds).
   */
  automount?: false | 'as-workload' | true;
  /** Run in the node's network namespace (admission must allow it: outside the CDE only). */
  hostNetwork?: boolean;
  /** Let a non-root pod bind ports < 1024 (a safe sysctl, allowed by PSA restricted). */
  lowPorts?: boolean;
  /**
   * A controller owner for the pod: a pod carrying a workload's labels and no
   * controller is an orphan its DaemonSet (or StatefulSet, Job) adopts — and
   * deletes as surplus. An owner makes it nobody's to adopt.
   */
  controllerRef?: { apiVersion: string; kind: string; name: string; uid: string };
}

export const NEVER_READY_GATE = 'pci-harness.dev/never-ready';

export function harnessPod(o: HarnessPodOptions): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    ...(o.automount === 'as-workload' ? {} : { automountServiceAccountToken: o.automount ?? false }),
    enableServiceLinks: false,
    // The probe's PID 1 is `sleep`, which ignores SIGTERM: don't wait 30 s on delete.
    terminationGracePeriodSeconds: 1,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
      ...(o.lowPorts ? { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } : {}),
    },
    ...(o.hostNetwork ? { hostNetwork: true } : {}),
    ...(o.neverReady ? { readinessGates: [{ conditionType: NEVER_READY_GATE }] } : {}),
    containers: [
      {
        name: 'main',
        image: o.image,
        imagePullPolicy: 'IfNotPresent',
        ...(o.command ? { command: o.command } : {}),
        ...(o.args ? { args: o.args } : {}),
        ...(o.ports || o.containerPorts
          ? { ports: [...Object.entries(o.ports ?? {}).map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' })), ...(o.containerPorts ?? [])] }
          : {}),
        // A copy: callers weaken one pod's context in place (admission tests), never the shared constant.
        securityContext: structuredClone(RESTRICTED_CONTAINER_SECURITY_CONTEXT) as Record<string, unknown>,
        resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { memory: '64Mi' } },
      },
    ],
  };
  if (o.serviceAccountName) spec.serviceAccountName = o.serviceAccountName;
  if (o.nodeSelector) spec.nodeSelector = o.nodeSelector;
  if (o.tolerations) spec.tolerations = o.tolerations;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: o.exactLabels ? { ...(o.labels ?? {}) } : { 'app.kubernetes.io/managed-by': 'pci-harness', ...(o.labels ?? {}) },
      ...(o.controllerRef ? { ownerReferences: [{ ...o.controllerRef, controller: true }] } : {}),
    },
    spec,
  };
}

/** Create a pod and wait until Ready; on timeout the error says why (waiting reason, events). */
export async function runPod(cluster: Cluster, o: HarnessPodOptions, timeoutMs = 90_000): Promise<ProbePod> {
  await cluster.kubectl(['apply', '--server-side', '--field-manager=pci-harness', '-f', '-'], { input: stringify(harnessPod(o)) });
  const condition = o.neverReady ? 'ContainersReady' : 'Ready';
  const r = await cluster.kubectl(['wait', `--for=condition=${condition}`, `pod/${o.name}`, '-n', o.namespace, `--timeout=${Math.ceil(timeoutMs / 1000)}s`], { reject: false });
  if (r.exitCode !== 0) {
    const d = await cluster.kubectl(['describe', 'pod', o.name, '-n', o.namespace], { reject: false });
    throw new Error(`pod ${o.namespace}/${o.name} not Ready after ${Math.ceil(timeoutMs / 1000)}s: ${r.stderr.trim()}\n${d.stdout.split('\n').slice(-15).join('\n')}`);
  }
  return { cluster, namespace: o.namespace, name: o.name };
}

export async function podIP(cluster: Cluster, namespace: string, name: string): Promise<string> {
  const { stdout } = await cluster.kubectl(['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status.podIP}']);
  if (!stdout.trim()) throw new Error(`pod ${namespace}/${name} has no IP`);
  return stdout.trim();
}

export async function deletePod(cluster: Cluster, namespace: string, name: string): Promise<void> {
  await cluster.kubectl(['delete', 'pod', name, '-n', namespace, '--ignore-not-found', '--wait=false'], { reject: false });
}
