import { describe, expect, it } from 'vitest';
import { canaryVerdict, denyAllIngress, EnforcementError, networkCheckStatus, type CanaryResult } from './canary.ts';
import type { Outcome, ReachabilityCheck } from './probe.ts';

const check = (expected: 'allowed' | 'blocked', observed: Outcome): ReachabilityCheck => ({
  from: 'ns/client', to: 'http://10.0.0.1:8080', expected, observed, ok: expected === observed, detail: observed, attempts: 1, ms: 1,
});

describe('canaryVerdict', () => {
  it('enforced only when baseline allowed, deny blocked, removal allowed', () => {
    expect(canaryVerdict(check('allowed', 'allowed'), check('blocked', 'blocked'), check('allowed', 'allowed')).verdict).toBe('enforced');
  });
  it('not-enforced when the deny policy does not block (kindnet without nfqueue)', () => {
    expect(canaryVerdict(check('allowed', 'allowed'), check('blocked', 'allowed'), check('allowed', 'allowed')).verdict).toBe('not-enforced');
  });
  it('check-failed when the baseline is not allowed — even if it looks "blocked"', () => {
    expect(canaryVerdict(check('allowed', 'blocked'), undefined, undefined).verdict).toBe('check-failed');
    expect(canaryVerdict(check('allowed', 'check-failed'), undefined, undefined).verdict).toBe('check-failed');
  });
  it('check-failed when the deny step broke or traffic never came back', () => {
    expect(canaryVerdict(check('allowed', 'allowed'), check('blocked', 'check-failed'), undefined).verdict).toBe('check-failed');
    expect(canaryVerdict(check('allowed', 'allowed'), check('blocked', 'blocked'), check('allowed', 'blocked')).verdict).toBe('check-failed');
  });
});

describe('enforcement guard', () => {
  const canary = (verdict: CanaryResult['verdict']): CanaryResult => ({ verdict, detail: 'd', steps: [], ms: 1 });
  it('never reports a network check as passing unless enforced', () => {
    expect(networkCheckStatus(canary('enforced'), true)).toBe('pass');
    expect(networkCheckStatus(canary('enforced'), false)).toBe('fail');
    expect(networkCheckStatus(canary('not-enforced'), true)).toBe('not-enforced');
    expect(networkCheckStatus(canary('check-failed'), true)).toBe('check-failed');
  });
  it('EnforcementError says NOT ENFORCED and what to do', () => {
    expect(new EnforcementError('pci-x', canary('not-enforced')).message).toMatch(/NOT ENFORCED.*\n.*No network control can be reported as passing/);
  });
  it('the deny policy selects the server for Ingress with no rules', () => {
    expect(denyAllIngress('ns', { a: 'b' })).toMatchObject({ kind: 'NetworkPolicy', spec: { podSelector: { matchLabels: { a: 'b' } }, policyTypes: ['Ingress'] } });
    expect((denyAllIngress('ns', {}) as { spec: Record<string, unknown> }).spec.ingress).toBeUndefined();
  });
});
