import { stringify } from 'yaml';
import { deleteOnInterrupt, forgetOnInterrupt } from '../cluster/cleanup.ts';
import { OWNER_LABEL, type GuardScope, type Kubectl } from './guard.ts';

/**
 * The run's own namespace on a cluster it did not create: registered for
 * deletion (SIGINT/SIGTERM, harness/cluster/cleanup.ts) BEFORE it is created,
 * created labelled as the harness's, and deleted on every exit path by the
 * caller's finally. Deletion checks the label first: a namespace of the same
 * name that is not this run's is never removed.
 */
export function namespaceObject(scope: GuardScope): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: scope.namespace, labels: { [OWNER_LABEL]: scope.runId, 'app.kubernetes.io/managed-by': 'pci-harness' } },
  };
}

/** Delete the run's namespace if it is there and labelled as this run's; waits until it is gone (bounded). */
export async function deleteOwnNamespace(kubectl: Kubectl, scope: GuardScope, timeoutS = 90): Promise<'deleted' | 'absent' | 'not-ours'> {
  const r = await kubectl(['get', 'namespace', scope.namespace, '--ignore-not-found', '-o', `jsonpath={.metadata.labels.${OWNER_LABEL.replace(/\./g, '\\.')}}|{.metadata.name}`], { reject: false, timeoutMs: 30_000 });
  const [owner, name] = r.stdout.trim().split('|');
  if (!name) return 'absent';
  if (owner !== scope.runId) return 'not-ours';
  await kubectl(['delete', 'namespace', scope.namespace, '--ignore-not-found', '--wait=true', `--timeout=${timeoutS}s`], { reject: false, timeoutMs: (timeoutS + 15) * 1000 });
  return 'deleted';
}

/**
 * Run `fn` with the run's namespace in place; delete it afterwards, whatever
 * happens. `onInterrupt` is what the signal handler runs before exit 130/143.
 */
export async function withOwnNamespace<T>(kubectl: Kubectl, scope: GuardScope, fn: () => Promise<T>, log: (l: string) => void = () => {}): Promise<T> {
  const cleanup = async () => {
    const how = await deleteOwnNamespace(kubectl, scope);
    log(`namespace ${scope.namespace}: ${how}`);
  };
  // Registered first: an interrupt between create and the try below still deletes it.
  deleteOnInterrupt(`namespace/${scope.namespace}`, cleanup);
  try {
    await kubectl(['create', '-f', '-'], { input: stringify(namespaceObject(scope)), timeoutMs: 30_000 });
    log(`namespace ${scope.namespace}: created`);
    return await fn();
  } finally {
    await cleanup();
    forgetOnInterrupt(`namespace/${scope.namespace}`);
  }
}
