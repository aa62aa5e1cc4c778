import { describe, expect, it } from 'vitest';
import { harnessPod } from './pods.ts';

describe('harnessPod', () => {
  it('a controller owner makes the pod nobody else\'s to adopt (a twin with a DaemonSet\'s labels)', () => {
    const pod = harnessPod({ namespace: 'audit-shipping', name: 'pos-x', image: 'i', labels: { app: 'audit-shipper' }, exactLabels: true, controllerRef: { apiVersion: 'v1', kind: 'ServiceAccount', name: 'default', uid: 'u-1' } }) as { metadata: { labels: object; ownerReferences?: unknown[] } };
    expect(pod.metadata.labels).toEqual({ app: 'audit-shipper' });
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'default', uid: 'u-1', controller: true }]);
    expect((harnessPod({ namespace: 'n', name: 'p', image: 'i' }) as { metadata: object }).metadata).not.toHaveProperty('ownerReferences');
  });
});
