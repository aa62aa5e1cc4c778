import { stringify } from 'yaml';
import { applyObjects } from '../cluster/apply.ts';
import type { Cluster } from '../cluster/provider.ts';
import type { K8sObject } from '../manifests/types.ts';
import { createTrailBucket, startAuditStore } from './container.ts';
import { CREDENTIALS_SECRET, SHIPPER_NAMESPACE, shipperConfigIn, shipperTargetOf } from './names.ts';

/**
 * Boot step for a set whose shipper writes to the live lane's stand-in
 * (names.ts setShipsToStandIn): the store beside the cluster, the bucket the
 * set's collector config names (Object Lock, COMPLIANCE, 365 days), and the
 * Secret with this run's credentials in the shipper's namespace (the set's
 * own Namespace object, applied first; the set's namespaces phase applies
 * it again unchanged). The credentials reach kubectl on stdin only.
 */
export async function setUpAuditStore(cluster: Cluster, objects: readonly K8sObject[], log: (l: string) => void = () => {}): Promise<{ bucket: string; container: string }> {
  const config = shipperConfigIn(objects);
  if (!config) throw new Error('the set has no audit shipper config: nothing to start a store for');
  const target = shipperTargetOf(config);
  const store = await startAuditStore(cluster.name);
  try {
    await createTrailBucket(store.client, target.bucket);
    const ns = objects.filter((o) => o.kind === 'Namespace' && o.metadata?.name === SHIPPER_NAMESPACE);
    if (ns.length !== 1) throw new Error(`the set's shipper lives in namespace ${SHIPPER_NAMESPACE}, which the set does not define`);
    await applyObjects(cluster, ns);
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: CREDENTIALS_SECRET, namespace: SHIPPER_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'pci-harness' } },
      type: 'Opaque',
      stringData: { AWS_ACCESS_KEY_ID: store.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey },
    };
    const r = await cluster.kubectl(['apply', '-f', '-'], { input: stringify(secret), reject: false });
    // kubectl's own message, never the input.
    if (r.exitCode !== 0) throw new Error(`creating Secret ${SHIPPER_NAMESPACE}/${CREDENTIALS_SECRET}: kubectl exit ${r.exitCode}: ${r.stderr.trim().split('\n')[0]}`);
    log(`audit store ${store.container} (${target.endpoint}), bucket ${target.bucket}: Object Lock, COMPLIANCE default retention; Secret ${SHIPPER_NAMESPACE}/${CREDENTIALS_SECRET} created`);
    return { bucket: target.bucket, container: store.container };
  } catch (e) {
    await store.dispose();
    throw e;
  }
}
