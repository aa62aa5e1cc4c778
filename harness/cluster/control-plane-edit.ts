import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { pollUntil } from '../scenario/poll.ts';
import { run } from './exec.ts';
import { REPO_ROOT } from './paths.ts';
import type { Cluster, ClusterLayout } from './provider.ts';

/**
 * Operator actions on a kind cluster's control plane, done the way an
 * operator of a kubeadm cluster does them: edit the kube-apiserver static pod
 * manifest on the control-plane node and let the kubelet replace the pod.
 *
 * A flag change = edit the command and bump an annotation (a new static pod
 * UID, so the old pod's crash-loop back-off never applies), then stop the old
 * container with a short grace: the apiserver otherwise takes the pod's whole
 * 30 s terminationGracePeriod to go (measured: 40 s per restart, 12–27 s this
 * way). "Restarted" is proven, not assumed: a running kube-apiserver
 * container that is not the old one (of another pod UID after an edit),
 * whose command carries the requested flags, then /readyz ok.
 */
const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
// Outside the manifests dir: the kubelet must never see a half-written file.
const STAGING = '/etc/kubernetes/kube-apiserver.yaml.pci-harness';
export const RESTART_ANNOTATION = 'pci-harness.dev/restarted-for';

export interface ApiServerContainer {
  id: string;
  podUid: string;
  startedAt: string;
  /** Restarts of this container in its pod (the kubelet's back-off grows with it). */
  restartCount: number;
  command: string[];
}

export interface RestartReport {
  reason: string;
  how: 'manifest edit' | 'container stop';
  ms: number;
  /** Edit written → a new apiserver container runs → /readyz ok. */
  phases: { newContainerMs: number; readyMs: number };
  before: ApiServerContainer;
  after: ApiServerContainer;
}

/** The control-plane node container of a single-control-plane kind cluster. */
export function controlPlaneNode(cluster: Pick<Cluster, 'name'>): string {
  return `${cluster.name}-control-plane`;
}

async function nodeExec(cluster: Cluster, args: string[], opts: { input?: string; reject?: boolean } = {}) {
  return run('docker', ['exec', ...(opts.input !== undefined ? ['-i'] : []), controlPlaneNode(cluster), ...args], { input: opts.input, reject: opts.reject, timeoutMs: 60_000 });
}

/** The running kube-apiserver container (crictl on the node), or undefined while none runs. */
export async function apiServerContainer(cluster: Cluster): Promise<ApiServerContainer | undefined> {
  const ps = await nodeExec(cluster, ['crictl', 'ps', '--name', 'kube-apiserver', '--state', 'running', '-q'], { reject: false });
  const id = ps.stdout.trim().split('\n')[0]?.trim();
  if (ps.exitCode !== 0 || !id) return undefined;
  const r = await nodeExec(cluster, ['crictl', 'inspect', id], { reject: false });
  if (r.exitCode !== 0) return undefined;
  const j = JSON.parse(r.stdout) as { status: { startedAt: string; labels: Record<string, string>; annotations?: Record<string, string> }; info?: { config?: { command?: string[]; args?: string[] } } };
  return { id, podUid: j.status.labels['io.kubernetes.pod.uid'] ?? '', startedAt: j.status.startedAt, restartCount: Number(j.status.annotations?.['io.kubernetes.container.restartCount'] ?? 0), command: [...(j.info?.config?.command ?? []), ...(j.info?.config?.args ?? [])] };
}

/** The failing checks of a /readyz answer (`[-]informer-sync failed`), not its 40 passing lines. */
export function failingChecks(text: string): string {
  const failed = [...text.matchAll(/\[-\]([^\\\n]+)/g)].map((m) => m[1]!.trim());
  return failed.length ? failed.join('; ') : (text.trim().split('\n').at(-1) ?? '').slice(0, 300);
}

/** `--name=value` flags of an apiserver command line. */
export function flagsOf(command: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of command) {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * The static pod manifest with `flags` set (replaced when present, appended
 * when not) and the restart annotation set to `reason`. Pure: tested offline.
 */
export function editApiServerManifest(manifest: string, flags: Record<string, string>, reason: string): string {
  const doc = parseDocument(manifest);
  const containers = doc.getIn(['spec', 'containers']) as { items: unknown[] } | undefined;
  const idx = (doc.toJS() as { spec?: { containers?: Array<{ name?: string }> } }).spec?.containers?.findIndex((c) => c.name === 'kube-apiserver') ?? -1;
  if (!containers || idx < 0) throw new Error(`${MANIFEST}: no kube-apiserver container`);
  const command = (doc.getIn(['spec', 'containers', idx, 'command']) as { toJSON(): string[] } | undefined)?.toJSON() ?? [];
  if (command[0] !== 'kube-apiserver') throw new Error(`${MANIFEST}: the container's command does not start with kube-apiserver`);
  const next = [...command];
  for (const [k, v] of Object.entries(flags)) {
    const i = next.findIndex((a) => a === `--${k}` || a.startsWith(`--${k}=`));
    if (i >= 0) next[i] = `--${k}=${v}`;
    else next.push(`--${k}=${v}`);
  }
  doc.setIn(['spec', 'containers', idx, 'command'], doc.createNode(next));
  doc.setIn(['metadata', 'annotations', RESTART_ANNOTATION], reason);
  return doc.toString();
}

/**
 * Restart the apiserver and wait until the new one serves; throws naming the
 * phase that did not finish. With `flags`: the manifest edit (a new pod; the
 * kubelet notices on its next manifest check, up to 20 s). Without: the
 * running container is stopped and the kubelet starts it again in the same
 * pod at once — reading its config files afresh — but under the kubelet's
 * crash-loop back-off (none for the first restart, then 10 s, 20 s...);
 * from the second restart of one pod on, an edit (a new pod, no back-off)
 * is used instead.
 */
export async function restartApiServer(cluster: Cluster, opts: { reason: string; flags?: Record<string, string>; timeoutMs?: number; readyPath?: string }): Promise<RestartReport> {
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const before = await apiServerContainer(cluster);
  if (!before) throw new Error(`no running kube-apiserver on ${controlPlaneNode(cluster)} before the restart (${opts.reason})`);
  const wanted = Object.entries(opts.flags ?? {});
  // Measured: the first stop of a pod's container restarts it in ~5 s, the second waits out ~20 s of back-off, an edit ~20 s.
  const edit = wanted.length > 0 || before.restartCount >= 1;
  if (edit) {
    const manifest = (await nodeExec(cluster, ['cat', MANIFEST])).stdout;
    // A unique value per restart: the same reason twice must still be a new pod.
    const edited = editApiServerManifest(manifest, opts.flags ?? {}, `${opts.reason} @${new Date().toISOString()}`);
    await nodeExec(cluster, ['sh', '-c', `cat > ${STAGING} && mv ${STAGING} ${MANIFEST}`], { input: edited });
  }
  // After an edit the kubelet would wait out the old pod's 30 s grace period; the edit is on disk, so the old process may go now.
  await nodeExec(cluster, ['crictl', 'stop', '--timeout', '2', before.id], { reject: false });

  const isNew = (c: ApiServerContainer | undefined) => !!c && c.id !== before.id && (!edit || c.podUid !== before.podUid) && wanted.every(([k, v]) => flagsOf(c.command).get(k) === v);
  const fresh = await pollUntil(() => apiServerContainer(cluster), isNew, { timeoutMs, intervalMs: 500 });
  if (!fresh.settled || !fresh.value) throw new Error(`kube-apiserver did not come back ${edit ? 'as a new pod' : 'as a new container'} within ${timeoutMs / 1000} s after "${opts.reason}" (still ${fresh.value ? `container ${fresh.value.id.slice(0, 12)}` : 'none running'})`);
  const newContainerMs = performance.now() - t0;
  const readyPath = opts.readyPath ?? '/readyz';
  const ready = await pollUntil(() => cluster.kubectl(['get', '--raw', readyPath], { reject: false, timeoutMs: 10_000 }).catch(() => ({ exitCode: -1, stdout: '', stderr: 'timeout' })), (r) => r.exitCode === 0 && r.stdout.trim() === 'ok', { timeoutMs, intervalMs: 500 });
  if (!ready.settled) throw new Error(`kube-apiserver (container ${fresh.value.id.slice(0, 12)}) runs but ${readyPath} is not ok ${timeoutMs / 1000} s after "${opts.reason}": ${failingChecks(ready.value.stderr)}`);
  const ms = performance.now() - t0;
  return { reason: opts.reason, how: edit ? 'manifest edit' : 'container stop', ms, phases: { newContainerMs, readyMs: ms - newContainerMs }, before, after: fresh.value };
}

/**
 * The control-plane node of `layout`'s kind config (its mounts and kubeadm
 * patches: how the audit policy and the encryption config reach the
 * apiserver), as data. Scenarios that boot a small cluster of another layout
 * compare it with pci-calico's, so what they prove is the set's wiring.
 */
export function controlPlaneWiring(layout: ClusterLayout, manifestsDir = join(REPO_ROOT, 'manifests')): unknown {
  const cfg = parse(readFileSync(join(manifestsDir, 'kind', `${layout}.yaml`), 'utf8')) as { nodes?: Array<{ role?: string; extraMounts?: unknown; kubeadmConfigPatches?: string[] }> };
  const cp = cfg.nodes?.find((n) => n.role === 'control-plane');
  if (!cp) throw new Error(`manifests/kind/${layout}.yaml has no control-plane node`);
  return { extraMounts: cp.extraMounts, kubeadmConfigPatches: (cp.kubeadmConfigPatches ?? []).map((p) => parse(p) as unknown) };
}
