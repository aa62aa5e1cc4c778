import { describe, expect, it } from 'vitest';
import { describePullEvent, isPullEvent } from './pulls.ts';

describe('isPullEvent', () => {
  it('flags every kind of pull attempt', () => {
    expect(isPullEvent({ reason: 'Pulling', message: 'Pulling image "quay.io/calico/node:v3.30.3"' })).toBe(true);
    expect(isPullEvent({ reason: 'Failed', message: 'Failed to pull image "x": rpc error' })).toBe(true);
    expect(isPullEvent({ reason: 'Failed', message: 'Error: ErrImagePull' })).toBe(true);
    expect(isPullEvent({ reason: 'BackOff', message: 'Back-off pulling image "x"' })).toBe(true);
    expect(isPullEvent({ reason: 'Pulled', message: 'Successfully pulled image "x" in 2s' })).toBe(true);
  });
  it('does not flag preloaded images or unrelated events', () => {
    expect(isPullEvent({ reason: 'Pulled', message: 'Container image "localhost/pci-harness/server:v1" already present on machine' })).toBe(false);
    expect(isPullEvent({ reason: 'BackOff', message: 'Back-off restarting failed container' })).toBe(false);
    expect(isPullEvent({ reason: 'Failed', message: 'Error: container has runAsNonRoot and image will run as root' })).toBe(false);
    expect(isPullEvent({ reason: 'Scheduled', message: 'Successfully assigned' })).toBe(false);
  });
  it('a successful pull from the live lane\'s own registry is local, a failed one still counts', () => {
    expect(isPullEvent({ reason: 'Pulling', message: 'Pulling image "registry.pci.internal:5000/pci/server:v1@sha256:ab"' })).toBe(false);
    expect(isPullEvent({ reason: 'Pulled', message: 'Successfully pulled image "registry.pci.internal:5000/pci/server:v1@sha256:ab" in 120ms' })).toBe(false);
    expect(isPullEvent({ reason: 'Failed', message: 'Failed to pull image "registry.pci.internal:5000/pci/x:v1": not found' })).toBe(true);
    expect(isPullEvent({ reason: 'Pulling', message: 'Pulling image "registry.pci.internal:5000.evil.example/x:v1"' })).toBe(true);
  });
  it('describes where the pull happened', () => {
    expect(describePullEvent({ reason: 'Pulling', message: 'm', involvedObject: { kind: 'Pod', namespace: 'kyverno', name: 'k-1' } })).toBe('kyverno/Pod/k-1: Pulling: m');
  });
});
