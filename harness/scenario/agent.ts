import type { Outcome } from '../cluster/probe.ts';

/**
 * The probe agent (`pci-probe`, scripts/images/probe/agent) seen from the
 * harness: what to ask it, and how to read what it says. One `pci-probe
 * probe` per source pod probes all of that source's targets at once; each
 * target comes back as one JSON line. Classification is pure, so every branch
 * is unit-tested; the rule that matters most: only a silent timeout is
 * `blocked` — a refusal, a DNS failure, an answer from the wrong server or a
 * broken exec is `check-failed`, never a block.
 */
export const AGENT = '/usr/local/bin/pci-probe';

export type AgentProto = 'tcp' | 'http' | 'https' | 'udp' | 'dns-udp' | 'dns-tcp';

export interface AgentTarget {
  id: string;
  proto: AgentProto;
  host: string;
  port: number;
  /** dns-*: the name to ask for. */
  query?: string;
}

export type AgentOutcome = 'connected-answered' | 'connected-silent' | 'timeout' | 'refused' | 'unreachable' | 'resolve-failed' | 'error';

export interface AgentLine {
  id: string;
  stage?: string;
  outcome: AgentOutcome;
  error?: string;
  answeredBy?: string;
  reply?: string;
  addr?: string;
  httpStatus?: number;
  rcode?: number;
  answers?: string[];
  ms?: number;
}

/** Who must have answered for "allowed" to count. */
export type Answerer =
  | { kind: 'pod'; name: string } // exactly this pod (hostname = pod name)
  | { kind: 'workload'; prefix: string; not?: string[] } // a pod of this Deployment, not one of ours
  | { kind: 'dns' } // a DNS server answered (any rcode)
  | { kind: 'http' } // some HTTP server (apiserver, kubelet): any status
  | { kind: 'host'; name: string }; // the outside-world container

export interface Classified {
  outcome: Outcome;
  detail: string;
}

export function parseAgentOutput(stdout: string): { lines: Map<string, AgentLine>; done: boolean } {
  const lines = new Map<string, AgentLine>();
  let done = false;
  for (const raw of stdout.split('\n')) {
    const t = raw.trim();
    if (!t.startsWith('{')) continue;
    try {
      const j = JSON.parse(t) as Partial<AgentLine> & { done?: boolean };
      if (j.done) done = true;
      else if (typeof j.id === 'string' && typeof j.outcome === 'string') lines.set(j.id, j as AgentLine);
    } catch {
      // A torn line: its target is reported as not probed.
    }
  }
  return { lines, done };
}

function answeredOk(a: Answerer, line: AgentLine): { ok: boolean; why: string } {
  const by = line.answeredBy ?? '';
  switch (a.kind) {
    case 'pod':
      return by === a.name ? { ok: true, why: `answered by ${by}` } : { ok: false, why: `answered by "${by || '?'}", expected pod ${a.name}` };
    case 'host':
      return by === a.name ? { ok: true, why: `answered by ${by}` } : { ok: false, why: `answered by "${by || '?'}", expected the outside-world host ${a.name}` };
    case 'workload': {
      const good = by.startsWith(a.prefix) && !(a.not ?? []).includes(by);
      return good ? { ok: true, why: `answered by ${by}` } : { ok: false, why: `answered by "${by || '?'}", expected a ${a.prefix}* pod of the workload` };
    }
    case 'dns':
      return line.rcode !== undefined ? { ok: true, why: `DNS rcode ${line.rcode}${line.answers?.length ? ` → ${line.answers.join(',')}` : ''}` } : { ok: false, why: 'a reply that is not DNS' };
    case 'http':
      return line.httpStatus ? { ok: true, why: `HTTP ${line.httpStatus}` } : { ok: false, why: 'connected, no HTTP response' };
  }
}

/** One agent line → allowed | blocked | check-failed, with the reason in words. */
export function classifyAgentLine(line: AgentLine | undefined, target: AgentTarget, answerer: Answerer): Classified {
  if (!line) return { outcome: 'check-failed', detail: 'the agent printed no result for this target (exec broke or was cut short)' };
  const err = line.error ? `: ${line.error}` : '';
  switch (line.outcome) {
    case 'connected-answered': {
      const a = answeredOk(answerer, line);
      return a.ok ? { outcome: 'allowed', detail: a.why } : { outcome: 'check-failed', detail: `reached, but ${a.why}` };
    }
    case 'timeout':
      return { outcome: 'blocked', detail: target.proto === 'udp' || target.proto === 'dns-udp' ? 'no reply before the deadline (dropped)' : 'connect timed out (dropped)' };
    case 'connected-silent':
      return { outcome: 'check-failed', detail: `connected, but the server did not answer${err}` };
    case 'refused':
      return { outcome: 'check-failed', detail: `connection refused (nothing listens: not a policy drop)${err}` };
    case 'unreachable':
      return { outcome: 'check-failed', detail: `unreachable (routing, not a policy drop)${err}` };
    case 'resolve-failed':
      return { outcome: 'check-failed', detail: `DNS: could not resolve ${target.host} (a DNS failure is not a block)${err}` };
    default:
      return { outcome: 'check-failed', detail: `probe error${err}` };
  }
}

export function encodeTargets(targets: readonly AgentTarget[]): string {
  return Buffer.from(JSON.stringify(targets)).toString('base64');
}

/** argv for one agent run (after the exec prefix). */
export function agentProbeArgs(timeoutMs: number): string[] {
  return [AGENT, 'probe', '--timeout-ms', String(timeoutMs), '--targets', '-'];
}

/** A replay command for one target, runnable by a person. */
export function agentReplay(execPrefix: string, t: AgentTarget, timeoutMs: number): string {
  const json = JSON.stringify([t]).replace(/'/g, `'\\''`);
  return `echo '${json}' | ${execPrefix} ${AGENT} probe --timeout-ms ${timeoutMs} --targets -`;
}
