import { InputError } from '../errors.ts';
import { CLUSTER_SCOPED_KINDS, FILE_CONFIG_API_VERSIONS } from './kinds.ts';
import type { LoadedObject } from './types.ts';

/** RFC 1123 label: what the apiserver accepts as a namespace name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `kubectl apply -n NS`: every namespaced object without metadata.namespace
 * gets NS; one that names a different namespace is refused, as kubectl
 * refuses it ("the namespace from the provided object ... does not match").
 * Cluster-scoped kinds and component config files are left alone.
 */
export function applyDefaultNamespace(objects: LoadedObject[], namespace: string): void {
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) {
    throw new InputError(`--namespace "${namespace}" is not a valid namespace name`, { hint: 'use lower-case letters, digits and "-" (RFC 1123 label, at most 63 characters)' });
  }
  for (const o of objects) {
    const { apiVersion, kind, metadata } = o.object;
    if (FILE_CONFIG_API_VERSIONS.has(apiVersion) || CLUSTER_SCOPED_KINDS.has(kind)) continue;
    if (metadata.namespace === undefined) {
      metadata.namespace = namespace;
    } else if (metadata.namespace !== namespace) {
      throw new InputError(`${kind} ${metadata.name} is in namespace "${metadata.namespace}", which does not match --namespace "${namespace}"`, {
        file: o.source.file,
        line: o.lineOf(['metadata', 'namespace']),
        hint: 'kubectl apply -n refuses such an object too: remove its metadata.namespace or drop --namespace',
      });
    }
  }
}
