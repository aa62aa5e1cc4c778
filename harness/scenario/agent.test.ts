import { describe, expect, it } from 'vitest';
import { classifyAgentLine, parseAgentOutput, type AgentLine, type AgentTarget } from './agent.ts';

const tcp: AgentTarget = { id: 'c1', proto: 'http', host: '10.0.0.1', port: 8443 };
const udp: AgentTarget = { id: 'c2', proto: 'udp', host: '10.0.0.1', port: 9999 };
const line = (l: Partial<AgentLine>): AgentLine => ({ id: 'c1', outcome: 'connected-answered', ...l });

describe('agent output → verdict', () => {
  it('only a silent timeout is blocked', () => {
    expect(classifyAgentLine(line({ outcome: 'timeout' }), tcp, { kind: 'pod', name: 'x' }).outcome).toBe('blocked');
    expect(classifyAgentLine(line({ outcome: 'timeout' }), udp, { kind: 'pod', name: 'x' }).outcome).toBe('blocked');
    for (const outcome of ['refused', 'unreachable', 'resolve-failed', 'connected-silent', 'error'] as const) {
      expect(classifyAgentLine(line({ outcome }), tcp, { kind: 'pod', name: 'x' }).outcome, outcome).toBe('check-failed');
    }
  });

  it('a DNS lookup that fails is check-failed, never blocked (curl exit 28 while resolving used to count as blocked)', () => {
    const r = classifyAgentLine(line({ outcome: 'resolve-failed', error: 'lookup x: i/o timeout' }), { ...tcp, host: 'datastore.cde-storage.svc.cluster.local' }, { kind: 'workload', prefix: 'datastore-' });
    expect(r.outcome).toBe('check-failed');
    expect(r.detail).toMatch(/DNS/);
  });

  it('allowed only when the expected server answered', () => {
    expect(classifyAgentLine(line({ answeredBy: 'pos-x' }), tcp, { kind: 'pod', name: 'pos-x' }).outcome).toBe('allowed');
    expect(classifyAgentLine(line({ answeredBy: 'pos-y' }), tcp, { kind: 'pod', name: 'pos-x' }).outcome).toBe('check-failed');
    // Through a Service: a pod of the workload, but never one of the harness's positions imitating it.
    expect(classifyAgentLine(line({ answeredBy: 'datastore-7d9-abc' }), tcp, { kind: 'workload', prefix: 'datastore-', not: ['datastore-pos'] }).outcome).toBe('allowed');
    expect(classifyAgentLine(line({ answeredBy: 'pos-datastore-1a2b' }), tcp, { kind: 'workload', prefix: 'datastore-' }).outcome).toBe('check-failed');
    expect(classifyAgentLine(line({ rcode: 0, answers: ['10.96.0.1'] }), { ...udp, proto: 'dns-udp' }, { kind: 'dns' }).outcome).toBe('allowed');
    expect(classifyAgentLine(line({}), { ...udp, proto: 'dns-udp' }, { kind: 'dns' }).outcome).toBe('check-failed');
    expect(classifyAgentLine(line({ httpStatus: 403 }), tcp, { kind: 'http' }).outcome).toBe('allowed');
  });

  it('a target the agent never reported (exec broke) is check-failed', () => {
    expect(classifyAgentLine(undefined, tcp, { kind: 'pod', name: 'x' }).outcome).toBe('check-failed');
  });

  it('parses JSON lines, knows when the run finished, and survives a torn line', () => {
    const out = parseAgentOutput('{"id":"c1","outcome":"timeout"}\n{"id":"c2","outc\nnoise\n{"done":true,"count":2,"ms":5}\n');
    expect([...out.lines.keys()]).toEqual(['c1']);
    expect(out.done).toBe(true);
    expect(parseAgentOutput('error: unable to upgrade connection').done).toBe(false);
  });
});
