/** Where a document came from, so every finding can point at file and line. */
interface SourceRef {
  /** Path relative to the manifest directory (stable in reports). */
  file: string;
  /** 1-based line of the document's first line. */
  line: number;
  /** 0-based index of the document within its file. */
  doc: number;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A Kubernetes-shaped object as read from YAML: not defaulted, not validated. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface LoadedObject {
  object: K8sObject;
  source: SourceRef;
  /** 1-based line of a dotted path inside the document, e.g. `spec.ingress.0.ports`. Falls back to the document line. */
  lineOf(path: (string | number)[]): number;
}

export interface ManifestSet {
  /** Absolute directory the set was read from. */
  dir: string;
  objects: LoadedObject[];
}

/** `Kind/namespace/name` or `Kind/name` for cluster-scoped objects. */
export function objectId(o: K8sObject): string {
  return o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
}
