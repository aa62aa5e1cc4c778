import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { decideKubectl, decideRest, guardKubectl, GuardRefusal, OWNER_LABEL, scopeFor, type GuardLog } from './guard.ts';
import { namespaceObject } from './namespace.ts';

const scope = scopeFor('abc-1234');
const own = scope.namespace;
const yes = (args: string[], input?: string) => expect(decideKubectl(scope, args, input).allowed, `${args.join(' ')} should be allowed`).toBe(true);
const no = (args: string[], input?: string) => expect(decideKubectl(scope, args, input).allowed, `${args.join(' ')} should be refused`).toBe(false);
const pod = (ns?: string) => stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...(ns ? { namespace: ns } : {}) } });

describe('existing-cluster guard: only the run namespace, dry runs and access reviews', () => {
  it('names the namespace after the run id and refuses ids that are no DNS label', () => {
    expect(own).toBe('pci-harness-probe-abc-1234');
    expect(() => scopeFor('Bad_ID')).toThrow(/lower-case/);
  });

  it('allows reads anywhere', () => {
    yes(['get', 'pods', '-A']);
    yes(['get', 'nodes', '-o', 'json']);
    yes(['--kubeconfig', 'k', '--context', 'c', 'describe', 'pod', 'x', '-n', 'kube-system']);
    yes(['wait', '--for=condition=Ready', 'pod/x', '-n', own]);
    yes(['auth', 'can-i', 'list', 'secrets', '-n', 'cde-storage']);
  });

  it('allows objects inside the run namespace, its own labelled Namespace, and access reviews', () => {
    yes(['apply', '--server-side', '-f', '-'], pod(own));
    yes(['create', '-f', '-'], stringify(namespaceObject(scope)));
    yes(['create', '--raw', '/apis/authorization.k8s.io/v1/subjectaccessreviews', '-f', '-'], JSON.stringify({ kind: 'SubjectAccessReview', spec: {} }));
    yes(['create', '--raw', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', '-f', '-', '--as=system:serviceaccount:a:b'], JSON.stringify({ kind: 'SelfSubjectRulesReview', spec: { namespace: 'cde-storage' } }));
    yes(['exec', '-i', '-n', own, 'pos-x', '--', 'pci-probe', 'probe']);
    yes(['delete', 'pod', 'x', '-n', own, '--ignore-not-found']);
    yes(['delete', 'networkpolicy', 'canary-deny-ingress', '-n', own]);
    yes(['delete', 'namespace', own, '--wait=true']);
  });

  it('allows a server dry run anywhere: the API server stores nothing', () => {
    yes(['create', '--dry-run=server', '-f', '-'], pod('cde-processing'));
  });

  it('refuses writes outside the run namespace', () => {
    no(['create', '-f', '-'], pod('cde-processing'));
    no(['apply', '-f', '-'], pod('default'));
    no(['apply', '-f', '-'], pod()); // no namespace: kubectl would default it
    no(['apply', '-n', 'kube-system', '-f', '-'], pod());
    no(['create', '-f', '-'], `${pod(own)}---\n${pod('cde-storage')}`); // one bad object in a stream
    no(['create', '-f', '-'], stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } }));
    no(['delete', 'pod', 'x', '-n', 'cde-frontend']);
    no(['delete', 'pod', 'x']); // the context's namespace
    no(['exec', '-n', 'cde-storage', 'datastore-0', '--', 'sh']);
    no(['label', 'namespace', 'cde-storage', 'pci-scope-']);
    no(['delete', 'namespace', 'cde-storage']);
    no(['delete', 'namespace', own, 'cde-storage']);
    no(['delete', 'namespaces', '-l', `${OWNER_LABEL}`]);
    no(['delete', 'pods', '--all', '-A']);
    no(['create', '--dry-run=none', '-f', '-'], pod('cde-processing'));
  });

  it('refuses a Namespace that is not the run\'s, or the run\'s without its owner label', () => {
    no(['create', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } }));
    no(['create', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: own } }));
  });

  it('fails closed: unknown verbs, cluster-scoped actions, objects it cannot see', () => {
    no(['taint', 'nodes', 'n1', 'pci-scope-']);
    no(['cordon', 'n1']);
    no(['drain', 'n1']);
    no(['certificate', 'approve', 'csr']);
    no(['config', 'use-context', 'x']);
    no(['create', '-f', 'pod.yaml']);
    no(['create', 'namespace', own]);
    no(['auth', 'reconcile', '-f', '-']);
    no([]);
  });

  it('judges REST requests the same way', () => {
    expect(decideRest(scope, 'GET', '/api/v1/namespaces/cde-storage/secrets').allowed).toBe(true);
    expect(decideRest(scope, 'POST', `/api/v1/namespaces/${own}/pods`).allowed).toBe(true);
    expect(decideRest(scope, 'POST', '/api/v1/namespaces/cde-storage/pods?dryRun=All').allowed).toBe(true);
    expect(decideRest(scope, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews').allowed).toBe(true);
    expect(decideRest(scope, 'DELETE', `/api/v1/namespaces/${own}`).allowed).toBe(true);
    expect(decideRest(scope, 'POST', '/api/v1/namespaces/cde-storage/pods').allowed).toBe(false);
    expect(decideRest(scope, 'PATCH', '/api/v1/nodes/n1').allowed).toBe(false);
    expect(decideRest(scope, 'DELETE', '/api/v1/namespaces/cde-storage').allowed).toBe(false);
  });

  it('a refused call never reaches kubectl, throws GuardRefusal and is logged', async () => {
    const sent: string[][] = [];
    const log: GuardLog = { refused: [], allowedWrites: 0 };
    const k = guardKubectl(scope, async (args) => {
      sent.push(args);
      return { stdout: '', stderr: '', exitCode: 0 };
    }, log);
    await expect(k(['create', '-f', '-'], { input: pod('cde-processing') })).rejects.toThrow(GuardRefusal);
    await k(['apply', '-f', '-'], { input: pod(own) });
    await k(['get', 'pods']);
    expect(sent).toEqual([['apply', '-f', '-'], ['get', 'pods']]);
    expect(log.refused).toHaveLength(1);
    expect(log.refused[0]!.why).toMatch(/outside the run's namespace/);
    expect(log.allowedWrites).toBe(1);
  });
});
