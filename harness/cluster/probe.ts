import { sleep } from './readiness.ts';
import type { Cluster } from './provider.ts';

/**
 * Connectivity probes with three outcomes (shared/reference/netpol-testing.md,
 * after Kubernetes' netpol e2e and policy-assistant):
 *   allowed      — TCP connected (and, for http/https, the server answered)
 *   blocked      — the connection attempt timed out (a NetworkPolicy drop)
 *   check-failed — the probe itself broke: exec error, missing binary, DNS
 *                  failure, refused (no listener), server silent after connect.
 * A broken probe is never "blocked": that is how a suite passes on a cluster
 * where nothing runs.
 */
export type Outcome = 'allowed' | 'blocked' | 'check-failed';
export type ProbeProtocol = 'http' | 'https' | 'tcp';

export interface ProbeTarget {
  /** DNS name or IP. */
  host: string;
  port: number;
  /** Default http; the harness server speaks HTTP and HTTPS on every port. */
  protocol?: ProbeProtocol;
}

export interface ProbeResult {
  outcome: Outcome;
  detail: string;
  httpStatus?: number;
}

/** A running pod with the probe image's tools (curl, nc), addressed for `kubectl exec`. */
export interface ProbePod {
  cluster: Cluster;
  namespace: string;
  name: string;
  container?: string;
}

export function describeTarget(t: ProbeTarget): string {
  return `${t.protocol ?? 'http'}://${t.host}:${t.port}`;
}

/** Marker lines the probe script prints, so an exec failure (no marker) cannot pass for a probe result. */
const MARK = 'PCI_PROBE';

/** Only plain host names and IPs reach the shell. */
function safeHost(host: string): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new Error(`probe target host "${host}" is not a DNS name or IP`);
  return host;
}

/**
 * Shell run inside the probe pod (the probe image: Debian curl + netcat-openbsd).
 *  http/https — curl; its -w line is printed even on failure, and
 *               time_connect > 0 tells "connected" from "never connected"
 *               (curl man page, --write-out).
 *  tcp        — `nc -z -v -w N`: exit 0 = connected; its message tells a
 *               timeout from a refusal from a DNS failure.
 * Nothing is written to disk (the probe runs with a read-only root filesystem).
 */
export function probeScript(t: ProbeTarget, connectTimeoutS = 2): string {
  const protocol = t.protocol ?? 'http';
  const host = safeHost(t.host);
  const port = Math.trunc(t.port);
  if (protocol === 'tcp') {
    return `err=$(nc -z -v -w ${connectTimeoutS} ${host} ${port} 2>&1); rc=$?; echo "$err"; echo "${MARK} nc $rc"`;
  }
  const url = `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return `out=$(curl -sS -k -o /dev/null -w '\n${MARK}-W %{http_code} %{time_connect}\n' --connect-timeout ${connectTimeoutS} --max-time ${connectTimeoutS + 2} '${url}' 2>&1); rc=$?; ` +
    `echo "$out"; echo "${MARK} curl $rc"`;
}

/**
 * Classify a probe's raw output. Pure, so every branch is unit-tested.
 * curl exit codes (curl man page, EXIT CODES): 6 could not resolve host,
 * 7 failed to connect (refused / unreachable), 28 timeout, 35/60 TLS,
 * 52 empty reply, 56 recv failure. 126/127 from sh: tool missing.
 */
export function classifyProbe(r: { exitCode: number; stdout: string; stderr: string }, t: ProbeTarget): ProbeResult {
  const lines = r.stdout.split('\n');
  const mark = lines.find((l) => l.startsWith(`${MARK} `));
  if (!mark) {
    const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') || `exit ${r.exitCode}`;
    return { outcome: 'check-failed', detail: `probe did not run (exec failed): ${why}` };
  }
  const [, tool, rcText] = mark.split(' ');
  const rc = Number(rcText);
  const message = lines.filter((l) => l && !l.startsWith(MARK)).join(' ').trim();
  if (rc === 127 || rc === 126) return { outcome: 'check-failed', detail: `${tool} is missing from the probe image` };
  return tool === 'nc' ? classifyNc(rc, message, t) : classifyCurl(rc, lines, message, t);
}

function classifyNc(rc: number, message: string, t: ProbeTarget): ProbeResult {
  if (rc === 0) return { outcome: 'allowed', detail: 'connected' };
  if (/getaddrinfo|name or service not known|name resolution|no address/i.test(message)) {
    return { outcome: 'check-failed', detail: `DNS: could not resolve ${t.host} (a DNS failure is not a block): ${message}` };
  }
  if (/timed out/i.test(message)) return { outcome: 'blocked', detail: 'connect timed out' };
  if (/refused/i.test(message)) return { outcome: 'check-failed', detail: `connection refused at ${describeTarget(t)} (no listener?)` };
  return { outcome: 'check-failed', detail: `nc exit ${rc}: ${message || 'no message'}` };
}

function classifyCurl(rc: number, lines: string[], message: string, t: ProbeTarget): ProbeResult {
  const w = lines.find((l) => l.startsWith(`${MARK}-W `));
  const [, codeText, connectText] = (w ?? '').split(' ');
  const code = Number(codeText ?? 0) || 0;
  const connected = Number(connectText ?? 0) > 0;
  const protocol = t.protocol ?? 'http';
  if (rc === 0 && code > 0) return { outcome: 'allowed', detail: `HTTP ${code}`, httpStatus: code };
  if (rc === 6) return { outcome: 'check-failed', detail: `DNS: could not resolve ${t.host} (a DNS failure is not a block)` };
  if (rc === 7) return { outcome: 'check-failed', detail: `connection refused or unreachable at ${describeTarget(t)} (no listener?): ${message}` };
  if (rc === 28 && !connected) return { outcome: 'blocked', detail: 'connect timed out' };
  if (connected) {
    // TCP got through; what broke is the server or TLS, not the network.
    return { outcome: 'check-failed', detail: `connected, but the server did not answer ${protocol} (curl exit ${rc}: ${message})` };
  }
  return { outcome: 'check-failed', detail: `curl exit ${rc} without connecting: ${message || 'no message'}` };
}

/** One probe: exec curl/nc in the probe pod. Never throws; failures are check-failed. */
export async function probe(from: ProbePod, t: ProbeTarget, connectTimeoutS = 2): Promise<ProbeResult> {
  const args = ['exec', '-n', from.namespace, from.name, ...(from.container ? ['-c', from.container] : []), '--', 'sh', '-c', probeScript(t, connectTimeoutS)];
  try {
    const r = await from.cluster.kubectl(args, { reject: false, timeoutMs: (connectTimeoutS + 20) * 1000 });
    return classifyProbe(r, t);
  } catch (e) {
    return { outcome: 'check-failed', detail: `kubectl exec failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

export interface ReachabilityCheck {
  from: string;
  to: string;
  expected: Exclude<Outcome, 'check-failed'>;
  observed: Outcome;
  ok: boolean;
  detail: string;
  attempts: number;
  ms: number;
}

export interface PollOptions {
  /** Poll window (default 10 s) and interval (default 1 s), after upstream's netpol e2e. */
  timeoutMs?: number;
  intervalMs?: number;
  connectTimeoutS?: number;
}

/**
 * Poll until observed == expected (absorbs CNI programming lag), then on a
 * mismatch re-probe once more before declaring it. check-failed never matches.
 */
export async function checkReachability(from: ProbePod, t: ProbeTarget, expected: 'allowed' | 'blocked', opts: PollOptions = {}): Promise<ReachabilityCheck> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 1_000;
  const t0 = Date.now();
  let attempts = 0;
  let last: ProbeResult = { outcome: 'check-failed', detail: 'not probed' };
  const done = () => last.outcome === expected;
  while (true) {
    last = await probe(from, t, opts.connectTimeoutS);
    attempts++;
    if (done() || Date.now() - t0 >= timeoutMs) break;
    await sleep(intervalMs);
  }
  if (!done()) {
    await sleep(intervalMs);
    last = await probe(from, t, opts.connectTimeoutS);
    attempts++;
  }
  return {
    from: `${from.namespace}/${from.name}`,
    to: describeTarget(t),
    expected,
    observed: last.outcome,
    ok: done(),
    detail: last.detail,
    attempts,
    ms: Date.now() - t0,
  };
}

export function formatCheck(c: ReachabilityCheck): string {
  return `${c.from} → ${c.to}: expected ${c.expected}, observed ${c.observed} (${c.detail}; ${c.attempts} probes, ${(c.ms / 1000).toFixed(1)}s)`;
}
