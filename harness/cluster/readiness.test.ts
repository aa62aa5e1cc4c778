import { describe, expect, it } from 'vitest';
import { describeUnreadyPods, type PodJson } from './readiness.ts';

const pod = (name: string, status: PodJson['status']): PodJson => ({ metadata: { name, namespace: 'ns' }, status });

describe('describeUnreadyPods', () => {
  it('names the waiting reason of each unready pod and skips ready/completed ones', () => {
    const lines = describeUnreadyPods([
      pod('ok', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }),
      pod('done', { phase: 'Succeeded' }),
      pod('pull', { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'c', ready: false, state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } } }] }),
      pod('nosched', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/3 nodes are available: 1 node(s) had untolerated taint' }] }),
    ]);
    expect(lines).toEqual([
      'ns/pull Pending: c: ErrImagePull (pull access denied)',
      'ns/nosched Pending: unschedulable: 0/3 nodes are available: 1 node(s) had untolerated taint',
    ]);
  });
});
