import { describe, expect, it, vi } from 'vitest';
import { CommandError } from './exec.ts';
import { classifyApiError, describeUnreadyPods, poll, retryWhileUnavailable, type PodJson } from './readiness.ts';

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

/** Messages as kubectl prints them (kubectl apply --server-side against a kind cluster booting Kyverno). */
const UNAVAILABLE = {
  'endpoint not programmed yet':
    'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "mutate-policy.kyverno.svc": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/policymutate?timeout=10s": dial tcp 10.96.47.212:443: connect: connection refused',
  'no endpoints':
    'Error from server (InternalError): error when applying patch: Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": no endpoints available for service "kyverno-svc"',
  'webhook timeout': 'Internal error occurred: failed calling webhook "validate-policy.kyverno.svc": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/policyvalidate?timeout=10s": context deadline exceeded',
  'certificate rotating': 'Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/mutate/fail?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority',
  'API server restarting': 'The connection to the server 127.0.0.1:40123 was refused - did you specify the right host or port?',
  'API aggregation': 'Error from server (ServiceUnavailable): the server is currently unable to handle the request',
  'CRD not established': 'error: resource mapping not found for name: "require-ro-rootfs" namespace: "" from "STDIN": no matches for kind "ClusterPolicy" in version "kyverno.io/v1"\nensure CRDs are installed first',
  'etcd leader change': 'Error from server: etcdserver: leader changed',
};

const REJECTED = {
  'Kyverno denial (a verdict)':
    'Error from server: error when creating "STDIN": admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/cde-processing/bad was blocked due to the following policies\n\ncde-pod-security:\n  require-ro-rootfs: validation error: the root filesystem must be read-only',
  'denial next to an unavailable webhook in one stream':
    'admission webhook "validate.kyverno.svc-fail" denied the request: blocked\nInternal error occurred: failed calling webhook "mutate.kyverno.svc-fail": dial tcp 10.96.1.1:443: connect: connection refused',
  'Pod Security': 'Error from server (Forbidden): error when creating "STDIN": pods "bad" is forbidden: violates PodSecurity "restricted:v1.34": privileged (container "main" must not set securityContext.privileged=true)',
  'invalid object': 'The Deployment "payment-api" is invalid: spec.template.spec.containers[0].image: Required value',
  'schema': 'Error from server (BadRequest): error when creating "STDIN": ClusterPolicy in version "v1" cannot be handled as a ClusterPolicy: strict decoding error: unknown field "spec.rules[0].validat"',
  'unrecognised (reported, not retried)': 'error: the path "missing.yaml" does not exist',
};

describe('classifyApiError: not serving yet (retry) vs a verdict (never retry)', () => {
  it.each(Object.entries(UNAVAILABLE))('%s → retryable', (_, msg) => {
    expect(classifyApiError(msg).retryable).toBe(true);
  });
  it.each(Object.entries(REJECTED))('%s → not retryable', (_, msg) => {
    expect(classifyApiError(msg).retryable).toBe(false);
  });
  it('names the reason for the log line', () => {
    expect(classifyApiError(UNAVAILABLE['endpoint not programmed yet']).reason).toBe('webhook not serving');
    expect(classifyApiError(REJECTED['Kyverno denial (a verdict)']).reason).toBe('denied by an admission webhook');
  });
});

describe('retryWhileUnavailable', () => {
  const fast = { minDelayMs: 1, maxDelayMs: 2 };
  it('retries while the webhook is not serving, then returns', async () => {
    const fn = vi.fn().mockRejectedValueOnce(new CommandError('kubectl apply', 1, UNAVAILABLE['endpoint not programmed yet'], '')).mockRejectedValueOnce(new Error(UNAVAILABLE['no endpoints'])).mockResolvedValue('ok');
    const lines: string[] = [];
    await expect(retryWhileUnavailable('apply x', fn, { ...fast, log: (l) => lines.push(l) })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(lines[0]).toMatch(/^apply x: webhook not serving, retry 1 in/);
  });
  it('never retries a denial: one call, the original error', async () => {
    const denial = new CommandError('kubectl apply', 1, REJECTED['Kyverno denial (a verdict)'], '');
    const fn = vi.fn().mockRejectedValue(denial);
    await expect(retryWhileUnavailable('apply x', fn, fast)).rejects.toBe(denial);
    expect(fn).toHaveBeenCalledTimes(1);
  });
  it('gives up after maxRetryMs, saying it was still not serving', async () => {
    const fn = vi.fn().mockRejectedValue(new Error(UNAVAILABLE['webhook timeout']));
    await expect(retryWhileUnavailable('apply x', fn, { ...fast, maxRetryMs: 30 })).rejects.toThrow(/apply x: still not serving after \d+s and \d+ attempts \(webhook not serving\)/);
    expect(fn.mock.calls.length).toBeGreaterThan(1);
  });
});

describe('poll', () => {
  it('returns once the check is true, and times out with the last reason', async () => {
    let n = 0;
    await poll('thing', 5_000, async () => (++n >= 3 ? true : `n=${n}`), 1);
    expect(n).toBe(3);
    await expect(poll('thing', 20, async () => 'webhooks: []', 1)).rejects.toThrow('thing not ready after 1s (webhooks: [])');
  });
  it('passes a failing check through', async () => {
    await expect(poll('thing', 1_000, async () => { throw new Error('kubectl broke'); }, 1)).rejects.toThrow('kubectl broke');
  });
});
