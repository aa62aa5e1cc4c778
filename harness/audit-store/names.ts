import type { K8sObject } from '../manifests/types.ts';
import { parse } from 'yaml';

/**
 * The audit store as the shipper in the set names it. The set's collector
 * config (ConfigMap audit-shipping/audit-shipper-config) is the one source
 * of truth for the endpoint and the bucket: the harness reads them from
 * there (offline from the files, live from the running ConfigMap) rather
 * than repeating them.
 */
export const AUDIT_STORE_ALIAS = 'audit-store.pci.internal';
export const AUDIT_STORE_PORT = 9000;
export const SHIPPER_NAMESPACE = 'audit-shipping';
export const SHIPPER_CONFIGMAP = 'audit-shipper-config';
export const SHIPPER_DAEMONSET = 'audit-shipper';
/** The Secret the shipper reads its store credentials from; created at run time, never in the repo. */
export const CREDENTIALS_SECRET = 'audit-store-credentials';
/** PCI DSS 10.5.1: at least 12 months. */
export const MIN_RETENTION_DAYS = 365;

export interface ShipperTarget {
  endpoint: string;
  bucket: string;
  prefix: string;
  region: string;
}

interface CollectorConfig {
  exporters?: Record<string, { s3uploader?: { endpoint?: string; s3_bucket?: string; s3_prefix?: string; region?: string } }>;
}

/** Where a collector config (the ConfigMap's config.yaml text) ships to: its awss3 exporter. */
export function shipperTargetOf(configYaml: string): ShipperTarget {
  const cfg = parse(configYaml) as CollectorConfig;
  const entry = Object.entries(cfg.exporters ?? {}).find(([id]) => id === 'awss3' || id.startsWith('awss3/'));
  const up = entry?.[1]?.s3uploader;
  if (!up?.s3_bucket) throw new Error(`the collector config has no awss3 exporter with s3uploader.s3_bucket (ConfigMap ${SHIPPER_NAMESPACE}/${SHIPPER_CONFIGMAP}, key config.yaml)`);
  return { endpoint: up.endpoint ?? '', bucket: up.s3_bucket, prefix: up.s3_prefix ?? '', region: up.region ?? 'us-east-1' };
}

/** The shipper's config in a loaded set, or undefined when the set ships nothing. */
export function shipperConfigIn(objects: readonly K8sObject[]): string | undefined {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.namespace === SHIPPER_NAMESPACE && o.metadata?.name === SHIPPER_CONFIGMAP) as { data?: Record<string, string> } | undefined;
  return cm?.data?.['config.yaml'];
}

/** Does the set ship to the live lane's stand-in (so the boot must start it)? */
export function setShipsToStandIn(objects: readonly K8sObject[]): boolean {
  const cfg = shipperConfigIn(objects);
  if (!cfg) return false;
  try {
    return new URL(shipperTargetOf(cfg).endpoint).hostname === AUDIT_STORE_ALIAS;
  } catch {
    return false;
  }
}
