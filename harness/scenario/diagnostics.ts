import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../cluster/provider.ts';
import { redactCredentials } from '../evidence/bundle.ts';
import { liveResultsDir } from './sink.ts';

/**
 * What an engineer needs to understand a failed (or inconclusive) live
 * result, collected from the cluster at the moment it happened, into
 * `<PCI_LIVE_RESULTS>/diagnostics/<timestamp>-<slug>/` (inside the evidence
 * package under `pci-harness run`):
 *
 *   reason.txt               why, when, which cluster, what was collected
 *   events.txt               `kubectl get events -A` (oldest first), only the given namespaces
 *   describe-<ns>-<pod>.txt  `kubectl describe pod` of each implicated pod
 *   calico-node.txt          felix: last 300 lines of calico-node on every node (--prefix)
 *   calico-node-<node>.txt   last 1000 lines of the calico-node pod on an implicated pod's node
 *                            (cilium-agent.txt, cilium-agent-<node>.txt on a Cilium cluster)
 *   kyverno.txt              last 200 lines of the Kyverno admission controller
 *   audit-tail.jsonl         last 200 complete events of the API server audit log
 *   collect-errors.txt       whatever could not be collected, and why
 *
 * Never throws: a part that fails becomes a line of collect-errors.txt. Every
 * byte written passes through `redactCredentials`. Returns the files written.
 */
export interface DiagnosticsOptions {
  /** Default `<PCI_LIVE_RESULTS>/diagnostics/<timestamp>-<slug of reason>/`. */
  dir?: string;
  reason: string;
  pods?: Array<{ namespace: string; name: string }>;
  /** Namespaces whose events to keep; default the pods' namespaces; none → every namespace. */
  namespaces?: string[];
  /** Host dir of the API server audit log; default `<cluster.workDir>/audit`. */
  auditLogDir?: string;
}

export const CALICO_TAIL = 300;
export const CALICO_NODE_TAIL = 1000;
export const KYVERNO_TAIL = 200;
export const AUDIT_TAIL = 200;
const KUBECTL_TIMEOUT_MS = 30_000;

/** `lateral: payment-api reached datastore!` → `lateral-payment-api-reached-datastore` (max 60 chars). */
export function slugify(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'diagnostics'
  );
}

/** `2026-12-01T08-12-40-123Z`: sortable, safe in a path. */
export function stampOf(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export function defaultDiagnosticsDir(reason: string, now = new Date(), base = liveResultsDir()): string {
  return join(base, 'diagnostics', `${stampOf(now)}-${slugify(reason)}`);
}

/** Terminal colour/cursor escapes removed (Kyverno logs with colour even when piped). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** File-name-safe part (`cde-frontend`, `payment-api-7c9f`). */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/**
 * Keep the header and the rows of `kubectl get events -A` whose first column
 * (NAMESPACE) is one of `namespaces`; all rows when none is given.
 */
export function filterEventsByNamespace(table: string, namespaces: readonly string[] | undefined): string {
  if (!namespaces?.length) return table;
  const keep = new Set(namespaces);
  const lines = table.split('\n');
  const [header, ...rows] = lines;
  const isHeader = header !== undefined && /^NAMESPACE\s/.test(header);
  const kept = (isHeader ? rows : lines).filter((l) => keep.has(l.split(/\s+/)[0] ?? ''));
  return [...(isHeader ? [header] : []), ...kept].join('\n');
}

/**
 * Parse a JSON-lines audit log line-safely. The API server may be mid-write:
 * a last line that does not parse is `torn` (skipped; the next poll reads it
 * whole). Any other line that does not parse is `corrupt` (1-based line
 * numbers); the caller decides whether that is fatal. Never throws.
 */
export function parseAuditLog<T = Record<string, unknown>>(text: string): { events: T[]; lines: string[]; torn: boolean; corrupt: number[] } {
  const raw = text.split('\n');
  while (raw.length && !raw.at(-1)!.trim()) raw.pop();
  const events: T[] = [];
  const lines: string[] = [];
  const corrupt: number[] = [];
  let torn = false;
  raw.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      events.push(JSON.parse(l) as T);
      lines.push(l);
    } catch {
      if (i === raw.length - 1) torn = true;
      else corrupt.push(i + 1);
    }
  });
  return { events, lines, torn, corrupt };
}

/** The last `n` complete audit events (raw lines) of a JSON-lines audit log; torn and corrupt lines skipped. */
export function tailAuditLines(text: string, n = AUDIT_TAIL): string[] {
  const { lines } = parseAuditLog(text);
  return n > 0 ? lines.slice(-n) : [];
}

/** Audit log files of a dir, oldest first (rotated `audit-<time>.log` before the live `audit.log`). */
export function auditFilesOldestFirst(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith('audit') && f.endsWith('.log'))
    .map((f) => ({ f: join(dir, f), m: statSync(join(dir, f)).mtimeMs, live: f === 'audit.log' }))
    .sort((a, b) => Number(a.live) - Number(b.live) || a.m - b.m)
    .map((x) => x.f);
}

/** The last `n` complete events across the log and its rotated backups. */
export function readAuditTail(dir: string, n = AUDIT_TAIL): string[] {
  let out: string[] = [];
  for (const f of auditFilesOldestFirst(dir).reverse()) {
    out = [...tailAuditLines(readFileSync(f, 'utf8'), n - out.length), ...out];
    if (out.length >= n) break;
  }
  return out.slice(-n);
}

export async function collectDiagnostics(cluster: Cluster, opts: DiagnosticsOptions): Promise<string[]> {
  const written: string[] = [];
  const errors: string[] = [];
  let dir: string;
  try {
    dir = opts.dir ?? defaultDiagnosticsDir(opts.reason);
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    // Not even a directory: nothing can be written; say so on stderr and return.
    process.stderr.write(`collectDiagnostics: cannot create the diagnostics dir: ${(e as Error).message}\n`);
    return [];
  }
  const write = (name: string, text: string) => {
    try {
      const p = join(dir, name);
      // Kyverno logs in colour: strip terminal escapes, keep the text.
      const plain = stripAnsi(text);
      writeFileSync(p, redactCredentials(plain.endsWith('\n') ? plain : `${plain}\n`));
      written.push(p);
    } catch (e) {
      errors.push(`${name}: not written: ${(e as Error).message}`);
    }
  };
  const kubectl = async (what: string, args: string[]): Promise<string | undefined> => {
    try {
      const r = await cluster.kubectl(args, { reject: false, timeoutMs: KUBECTL_TIMEOUT_MS });
      if (r.exitCode !== 0) {
        errors.push(`${what}: kubectl ${args.join(' ')} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
        return r.stdout.trim() ? `${r.stdout}\n\n# stderr (exit ${r.exitCode}):\n${r.stderr}` : undefined;
      }
      return r.stdout;
    } catch (e) {
      errors.push(`${what}: kubectl ${args.join(' ')} threw: ${(e as Error).message}`);
      return undefined;
    }
  };
  const part = async (what: string, fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };

  const pods = opts.pods ?? [];
  const namespaces = opts.namespaces ?? [...new Set(pods.map((p) => p.namespace))];
  const collected = new Date();
  write(
    'reason.txt',
    [
      `reason: ${opts.reason}`,
      `collected: ${collected.toISOString()}`,
      `cluster: ${cluster.name}`,
      `pods: ${pods.map((p) => `${p.namespace}/${p.name}`).join(', ') || '(none)'}`,
      `namespaces (events): ${namespaces.join(', ') || '(all)'}`,
    ].join('\n'),
  );

  await part('events', async () => {
    const t = await kubectl('events', ['get', 'events', '-A', '--sort-by=.metadata.creationTimestamp', '-o', 'wide']);
    if (t !== undefined) write('events.txt', filterEventsByNamespace(t, namespaces));
  });

  const nodes = new Set<string>();
  for (const p of pods) {
    await part(`describe ${p.namespace}/${p.name}`, async () => {
      const d = await kubectl(`describe ${p.namespace}/${p.name}`, ['describe', 'pod', '-n', p.namespace, p.name]);
      if (d !== undefined) write(`describe-${safe(p.namespace)}-${safe(p.name)}.txt`, d);
      const node = (await kubectl(`node of ${p.namespace}/${p.name}`, ['get', 'pod', '-n', p.namespace, p.name, '-o', 'jsonpath={.spec.nodeName}']))?.trim();
      if (node) nodes.add(node);
    });
  }

  // The CNI's agent: calico-node (felix), or cilium-agent on a Cilium cluster (PCI_LIVE_CNI, set by the live global setup).
  const cni = process.env.PCI_LIVE_CNI === 'cilium'
    ? { agent: 'cilium-agent', selector: 'k8s-app=cilium', container: 'cilium-agent' }
    : { agent: 'calico-node', selector: 'k8s-app=calico-node', container: 'calico-node' };
  await part(`${cni.agent} (every node)`, async () => {
    const t = await kubectl(cni.agent, ['logs', '-n', 'kube-system', '-l', cni.selector, '-c', cni.container, `--tail=${CALICO_TAIL}`, '--prefix', '--max-log-requests=20']);
    if (t !== undefined) write(`${cni.agent}.txt`, t);
  });
  for (const node of nodes) {
    await part(`${cni.agent} on ${node}`, async () => {
      const pod = (await kubectl(`${cni.agent} pod on ${node}`, ['get', 'pods', '-n', 'kube-system', '-l', cni.selector, '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={.items[0].metadata.name}']))?.trim();
      if (!pod) {
        errors.push(`${cni.agent} on ${node}: no ${cni.agent} pod on that node`);
        return;
      }
      const t = await kubectl(`${cni.agent} ${pod}`, ['logs', '-n', 'kube-system', pod, '-c', cni.container, `--tail=${CALICO_NODE_TAIL}`]);
      if (t !== undefined) write(`${cni.agent}-${safe(node)}.txt`, `# kube-system/${pod} on node ${node}, last ${CALICO_NODE_TAIL} lines\n${t}`);
    });
  }

  await part('kyverno', async () => {
    const t = await kubectl('kyverno', ['logs', '-n', 'kyverno', '-l', 'app.kubernetes.io/component=admission-controller', `--tail=${KYVERNO_TAIL}`, '--prefix', '--all-containers']);
    if (t !== undefined) write('kyverno.txt', t);
  });

  await part('audit log', () => {
    const auditDir = opts.auditLogDir ?? (cluster.workDir ? join(cluster.workDir, 'audit') : '');
    if (!auditDir || !existsSync(auditDir)) {
      errors.push(`audit log: no audit log dir${auditDir ? ` at ${auditDir}` : ' (a reused cluster has no local work dir)'}`);
      return;
    }
    const lines = readAuditTail(auditDir, AUDIT_TAIL);
    if (lines.length === 0) errors.push(`audit log: no complete event in ${auditDir}`);
    else write('audit-tail.jsonl', lines.join('\n'));
  });

  if (errors.length) write('collect-errors.txt', errors.join('\n'));
  return written;
}
