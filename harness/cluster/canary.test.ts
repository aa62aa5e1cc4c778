import { describe, expect, it } from 'vitest';
import { canaryVerdict, denyAll, EnforcementError, networkCheckStatus, type CanaryResult, type CanaryStep } from './canary.ts';
import type { Outcome } from './probe.ts';

const s = (step: CanaryStep['step'], client: CanaryStep['client'], observed: Outcome): CanaryStep => ({
  step,
  client,
  expected: step.startsWith('deny') ? 'blocked' : 'allowed',
  observed,
  detail: observed,
  attempts: 1,
});
const full = (client: CanaryStep['client'], override: Partial<Record<CanaryStep['step'], Outcome>> = {}): CanaryStep[] =>
  (['baseline', 'deny-ingress', 'ingress-removed', 'deny-egress', 'egress-removed'] as const).map((st) => s(st, client, override[st] ?? (st.startsWith('deny') ? 'blocked' : 'allowed')));

describe('canaryVerdict (per direction and placement)', () => {
  it('enforced only when every step of both clients held; names what it proved', () => {
    const v = canaryVerdict([...full('same-node'), ...full('cross-node')], 10);
    expect(v.verdict).toBe('enforced');
    expect(v.proven.sort()).toEqual(['egress cross-node', 'egress same-node', 'ingress cross-node', 'ingress same-node']);
  });
  it('not-enforced when one direction on one placement leaks (egress cross-node)', () => {
    expect(canaryVerdict([...full('same-node'), ...full('cross-node', { 'deny-egress': 'allowed' })], 10).verdict).toBe('not-enforced');
  });
  it('check-failed when a baseline is not allowed — even if it looks "blocked"', () => {
    expect(canaryVerdict([s('baseline', 'same-node', 'blocked')], 10).verdict).toBe('check-failed');
    expect(canaryVerdict([s('baseline', 'same-node', 'check-failed')], 10).verdict).toBe('check-failed');
  });
  it('check-failed when a deny step broke, traffic never came back, or steps are missing', () => {
    expect(canaryVerdict(full('same-node', { 'deny-ingress': 'check-failed' }), 5).verdict).toBe('check-failed');
    expect(canaryVerdict(full('same-node', { 'ingress-removed': 'blocked' }), 5).verdict).toBe('check-failed');
    expect(canaryVerdict(full('same-node').slice(0, 3), 5).verdict).toBe('check-failed');
  });
});

describe('enforcement guard', () => {
  const canary = (verdict: CanaryResult['verdict']): CanaryResult => ({ verdict, detail: 'd', steps: [], proven: [], ms: 1 });
  it('never reports a network check as passing unless enforced', () => {
    expect(networkCheckStatus(canary('enforced'), true)).toBe('pass');
    expect(networkCheckStatus(canary('enforced'), false)).toBe('fail');
    expect(networkCheckStatus(canary('not-enforced'), true)).toBe('not-enforced');
    expect(networkCheckStatus(canary('check-failed'), true)).toBe('check-failed');
  });
  it('EnforcementError says NOT ENFORCED and what to do', () => {
    expect(new EnforcementError('pci-x', canary('not-enforced')).message).toMatch(/NOT ENFORCED.*\n.*No network control can be reported as passing/);
  });
  it('the deny policies select for one direction with no rules', () => {
    expect(denyAll('ns', 'Ingress', { a: 'b' })).toMatchObject({ kind: 'NetworkPolicy', spec: { podSelector: { matchLabels: { a: 'b' } }, policyTypes: ['Ingress'] } });
    expect(denyAll('ns', 'Egress', {})).toMatchObject({ spec: { policyTypes: ['Egress'] } });
    expect((denyAll('ns', 'Egress', {}) as { spec: Record<string, unknown> }).spec.egress).toBeUndefined();
  });
});
