import { describe, expect, it } from 'vitest';
import { objectChanges } from './live-mutants.ts';

const np = (ns: string, name: string, spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec });

describe('objectChanges: what a weakening does to the live objects', () => {
  it('finds removed, changed and added objects by kind/namespace/name, and leaves the rest alone', () => {
    const before = [np('a', 'deny', { podSelector: {} }), np('a', 'allow', { podSelector: { matchLabels: { app: 'x' } } }), np('b', 'keep', {})];
    const after = [np('a', 'allow', { podSelector: {} }), np('b', 'keep', {}), np('b', 'new', {})];
    const changes = objectChanges(before, after);
    expect(changes.map((c) => [c.id, !!c.before, !!c.after])).toEqual([
      ['NetworkPolicy/a/deny', true, false],
      ['NetworkPolicy/a/allow', true, true],
      ['NetworkPolicy/b/new', false, true],
    ]);
  });
  it('an unchanged file has no changes (the caller refuses such a weakening)', () => {
    const docs = [np('a', 'deny', {})];
    expect(objectChanges(docs, structuredClone(docs))).toEqual([]);
  });
});
