import pRetry from 'p-retry';
import { stringify } from 'yaml';
import type { K8sObject } from '../manifests/types.ts';
import { CommandError } from './exec.ts';
import type { Cluster } from './provider.ts';

/**
 * Readiness waits, all through kubectl (`wait`, `rollout status`): upstream's
 * own definitions of Ready, rather than our re-implementation. On timeout the
 * error carries what is not ready and why (pod waiting reasons).
 */

const secs = (ms: number) => `${Math.ceil(ms / 1000)}s`;

export async function waitNodesReady(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  await withDiagnosis(cluster, undefined, () => cluster.kubectl(['wait', '--for=condition=Ready', 'nodes', '--all', `--timeout=${secs(timeoutMs)}`]));
}

/** `kubectl rollout status` for one workload (`daemonset/calico-node`, `deployment/x`). */
export async function waitRollout(cluster: Cluster, namespace: string, workload: string, timeoutMs = 300_000): Promise<void> {
  await withDiagnosis(cluster, namespace, () => cluster.kubectl(['rollout', 'status', '-n', namespace, workload, `--timeout=${secs(timeoutMs)}`]));
}

/** Every Deployment, DaemonSet and StatefulSet in a namespace rolled out. */
export async function waitNamespaceRollouts(cluster: Cluster, namespace: string, timeoutMs = 300_000): Promise<string[]> {
  const { stdout } = await cluster.kubectl(['get', 'deployments,daemonsets,statefulsets', '-n', namespace, '-o', 'name']);
  const workloads = stdout.split('\n').filter(Boolean);
  for (const w of workloads) await waitRollout(cluster, namespace, w, timeoutMs);
  return workloads;
}

/** Kyverno sets Ready=True on a ClusterPolicy once its webhook is configured (kyverno pkg/policy status). */
export async function waitClusterPoliciesReady(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  const { stdout } = await cluster.kubectl(['get', 'clusterpolicies.kyverno.io', '-o', 'name']);
  if (!stdout.trim()) return;
  await withDiagnosis(cluster, 'kyverno', () => cluster.kubectl(['wait', '--for=condition=Ready', 'clusterpolicies.kyverno.io', '--all', `--timeout=${secs(timeoutMs)}`]));
}

/** Poll until a ValidatingWebhookConfiguration exists and has at least one webhook (optionally a named one). */
export async function waitValidatingWebhook(cluster: Cluster, config: string, webhook?: string, timeoutMs = 180_000): Promise<void> {
  await poll(`ValidatingWebhookConfiguration ${config}${webhook ? ` with ${webhook}` : ''}`, timeoutMs, async () => {
    const r = await cluster.kubectl(['get', 'validatingwebhookconfiguration', config, '-o', 'json'], { reject: false });
    if (r.exitCode !== 0) return 'not found';
    const names = ((JSON.parse(r.stdout) as { webhooks?: Array<{ name: string }> }).webhooks ?? []).map((w) => w.name);
    return (webhook ? names.includes(webhook) : names.length > 0) ? true : `webhooks: [${names.join(', ')}]`;
  });
}

/**
 * Readiness means SERVING: a webhook configuration exists before its Service
 * has a programmed endpoint (kube-proxy REJECTs a Service without endpoints:
 * "connect: connection refused"), so "rolled out" and "registered" are not
 * enough. Wait until a server-side dry-run apply of `object` goes through
 * admission: every webhook matching it answered. A verdict (denied, invalid)
 * fails at once: it would fail the real apply too.
 */
export async function waitAdmissionServing(cluster: Cluster, object: K8sObject, opts: RetryOptions = {}): Promise<void> {
  await retryWhileUnavailable(
    `dry-run apply of ${object.kind} ${object.metadata.name}`,
    () => cluster.kubectl(['apply', '--server-side', '--dry-run=server', '--force-conflicts', '--field-manager=pci-harness', '-f', '-'], { input: stringify(object) }),
    opts,
  );
}

// ---- unavailable vs rejected ----------------------------------------------

/**
 * A verdict on the objects: admission or validation said no. Never retried —
 * retrying a Kyverno denial would turn a failing control into a slow boot.
 */
const VERDICTS: Array<[RegExp, string]> = [
  [/admission webhook "[^"]*" denied the request/i, 'denied by an admission webhook'],
  [/violates PodSecurity/i, 'denied by Pod Security admission'],
  [/\bis invalid\b/i, 'invalid object'],
  [/\bis forbidden\b/i, 'forbidden'],
  [/field is immutable/i, 'immutable field'],
  [/error validating data|strict decoding error|unknown field/i, 'schema validation'],
  [/does not support dry run/i, 'webhook cannot dry-run'],
];

/** The API or a webhook behind it is not serving yet: retry with backoff. */
const UNAVAILABLE: Array<[RegExp, string]> = [
  [/failed calling webhook/i, 'webhook not serving'],
  [/no endpoints available for service/i, 'service has no endpoints'],
  [/connect: connection refused|connection to the server [^ ]+ was refused/i, 'connection refused'],
  [/context deadline exceeded|Client\.Timeout exceeded|i\/o timeout|TLS handshake timeout/i, 'timeout'],
  [/connection reset by peer|http2: client connection lost|Unable to connect to the server/i, 'connection lost'],
  [/the server is currently unable to handle the request|the server was unable to return a response|ServiceUnavailable/i, 'API not serving'],
  [/etcdserver: (request timed out|leader changed)/i, 'etcd busy'],
  [/ensure CRDs are installed first|no matches for kind/i, 'CRD not established yet'],
];

interface ApiErrorClass {
  retryable: boolean;
  /** Short reason for the log line ("webhook not serving", "denied by an admission webhook", "unrecognised"). */
  reason: string;
}

/**
 * Classify a failed API call by its message (kubectl's stderr). A verdict wins
 * over unavailability: one stream can hold both (one object denied, another
 * timed out), and the denial will not go away by retrying. Unknown errors are
 * not retried: they are reported at once.
 */
export function classifyApiError(message: string): ApiErrorClass {
  for (const [re, reason] of VERDICTS) if (re.test(message)) return { retryable: false, reason };
  for (const [re, reason] of UNAVAILABLE) if (re.test(message)) return { retryable: true, reason };
  return { retryable: false, reason: 'unrecognised' };
}

function errorText(e: unknown): string {
  if (e instanceof CommandError) return `${e.message}\n${e.stderr}`;
  return e instanceof Error ? e.message : String(e);
}

export interface RetryOptions {
  /** Give up after this long (default 180 s: Kyverno's first start on 2 loaded cores). */
  maxRetryMs?: number;
  /** First delay (default 1 s); doubles up to maxDelayMs (default 8 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  log?: (line: string) => void;
}

/**
 * Run `fn`; while it fails because the API or a webhook is not serving yet,
 * retry with exponential backoff (p-retry). Rejections are thrown at once.
 */
export async function retryWhileUnavailable<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const maxRetryMs = opts.maxRetryMs ?? 180_000;
  const t0 = performance.now();
  let attempts = 0;
  try {
    return await pRetry(
      async () => {
        attempts++;
        return fn();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: maxRetryMs,
        minTimeout: opts.minDelayMs ?? 1000,
        maxTimeout: opts.maxDelayMs ?? 8000,
        factor: 2,
        shouldRetry: ({ error }) => classifyApiError(errorText(error)).retryable,
        onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
          const c = classifyApiError(errorText(error));
          if (c.retryable && retryDelay > 0) opts.log?.(`${what}: ${c.reason}, retry ${attemptNumber} in ${(retryDelay / 1000).toFixed(1)}s`);
        },
      },
    );
  } catch (e) {
    const c = classifyApiError(errorText(e));
    if (!c.retryable) throw e;
    const secsSpent = ((performance.now() - t0) / 1000).toFixed(0);
    throw new Error(`${what}: still not serving after ${secsSpent}s and ${attempts} attempts (${c.reason}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Poll `check` until it returns true; a string says why not yet (kept for the timeout message). */
export async function poll(what: string, timeoutMs: number, check: () => Promise<true | string>, intervalMs = 2000): Promise<void> {
  let last = 'never checked';
  const notYet = new Error('not yet');
  try {
    await pRetry(
      async () => {
        const r = await check();
        if (r === true) return;
        last = r;
        throw notYet;
      },
      { retries: Number.POSITIVE_INFINITY, maxRetryTime: timeoutMs, minTimeout: intervalMs, factor: 1, shouldRetry: ({ error }) => error === notYet },
    );
  } catch (e) {
    if (e !== notYet) throw e;
    throw new Error(`${what} not ready after ${secs(timeoutMs)} (${last})`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface ContainerStatusJson {
  name: string;
  ready: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
}

export interface PodJson {
  metadata: { name: string; namespace: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatusJson[];
    initContainerStatuses?: ContainerStatusJson[];
  };
}

/** One line per pod that is not Ready, with the reason (ErrImagePull, CrashLoopBackOff, Unschedulable...). */
export function describeUnreadyPods(pods: PodJson[]): string[] {
  const out: string[] = [];
  for (const p of pods) {
    const st = p.status ?? {};
    if (st.phase === 'Succeeded') continue;
    const ready = st.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (ready) continue;
    const reasons: string[] = [];
    const sched = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (sched) reasons.push(`unschedulable: ${sched.message ?? sched.reason ?? ''}`);
    for (const c of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) {
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w) reasons.push(`${c.name}: ${w.reason ?? 'waiting'}${w.message ? ` (${w.message.slice(0, 200)})` : ''}`);
      else if (t && t.exitCode !== 0) reasons.push(`${c.name}: terminated ${t.reason ?? ''} exit ${t.exitCode}`);
      else if (!c.ready) reasons.push(`${c.name}: not ready`);
    }
    out.push(`${p.metadata.namespace}/${p.metadata.name} ${st.phase ?? '?'}: ${reasons.join('; ') || 'not ready'}`);
  }
  return out;
}

/** Run a wait; on failure append what is not ready in the namespace (or everywhere). */
async function withDiagnosis(cluster: Cluster, namespace: string | undefined, wait: () => Promise<unknown>): Promise<void> {
  try {
    await wait();
  } catch (e) {
    const scope = namespace ? ['-n', namespace] : ['-A'];
    const r = await cluster.kubectl(['get', 'pods', ...scope, '-o', 'json'], { reject: false });
    const lines = r.exitCode === 0 ? describeUnreadyPods((JSON.parse(r.stdout) as { items: PodJson[] }).items) : [];
    const msg = (e as Error).message;
    throw new Error(lines.length ? `${msg}\nnot ready:\n  ${lines.join('\n  ')}` : msg, { cause: e });
  }
}
