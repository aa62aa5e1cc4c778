/**
 * A user's set (any input `--manifests` takes: YAML, Kustomize, Helm, stdin)
 * laid out the way the boot and the live lane read a set:
 *
 *   cluster/set.yaml          every API object, as loaded (rendered, --namespace applied)
 *   control-plane/*.yaml      the set's audit policy and EncryptionConfiguration
 *   kind/<layout>.yaml        the set's kind config for each layout
 *   spec/*.yaml               the declarations (pci-harness.dev/v1alpha1)
 *
 * A platform file the set does not carry comes from the shipped set, and is
 * reported, so the run says plainly which parts of the cluster are the
 * harness's and which are the user's. The live lane then loads this directory
 * with loadManifestDir: one source of truth for boot, model and scenarios.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SPEC_API_VERSION } from '../spec/types.ts';
import type { K8sObject, ManifestSet } from './types.ts';

export interface LiveDir {
  dir: string;
  /** Platform files taken from the shipped set because the user's set has none: `control-plane/audit-policy.yaml (shipped)`. */
  fromShipped: string[];
  /** Object counts written, for the progress line. */
  counts: { cluster: number; spec: number };
}

const KIND_LAYOUTS = ['pci-calico', 'pci-cilium', 'kindnet'];

const isAuditPolicy = (o: K8sObject) => o.apiVersion === 'audit.k8s.io/v1' && o.kind === 'Policy';
const isEncryption = (o: K8sObject) => o.apiVersion === 'apiserver.config.k8s.io/v1' && o.kind === 'EncryptionConfiguration';
const isKindConfig = (o: K8sObject) => o.apiVersion === 'kind.x-k8s.io/v1alpha4' && o.kind === 'Cluster';
const isSpec = (o: K8sObject) => o.apiVersion === SPEC_API_VERSION;
const isPlatform = (o: K8sObject) => isAuditPolicy(o) || isEncryption(o) || isKindConfig(o) || isSpec(o);

/**
 * File configs (kind, audit policy, encryption config) carry no metadata; the
 * loader names them `<kind>@<file>` for its own bookkeeping. Written back,
 * that name would be a field kind refuses ("unable to decode config").
 */
function asFileConfig(o: K8sObject): K8sObject {
  if (!/@/.test(o.metadata?.name ?? '')) return o;
  const { metadata: _metadata, ...rest } = o;
  return rest as K8sObject;
}

const yamlDocs = (objects: readonly K8sObject[]) => objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');

/**
 * kind configs carry no name to tell layouts apart: a set's kind config is
 * recognised by its source file name (`pci-calico.yaml`...), as the shipped
 * set names them; one the name does not place serves the default layout.
 */
function kindLayoutOf(file: string): string | undefined {
  return KIND_LAYOUTS.find((l) => file.endsWith(`${l}.yaml`) || file.endsWith(`${l}.yml`));
}

export function writeLiveDir(set: ManifestSet, dir: string, shippedDir: string): LiveDir {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['cluster', 'control-plane', 'kind', 'spec']) mkdirSync(join(dir, sub), { recursive: true });
  const fromShipped: string[] = [];
  const objects = set.objects.map((o) => o.object);

  const cluster = objects.filter((o) => !isPlatform(o));
  writeFileSync(join(dir, 'cluster', 'set.yaml'), yamlDocs(cluster));

  const platformFile = (sub: string, name: string, found: K8sObject | undefined) => {
    const out = join(dir, sub, name);
    if (found) writeFileSync(out, stringify(asFileConfig(found), { lineWidth: 0 }));
    else if (existsSync(join(shippedDir, sub, name))) {
      writeFileSync(out, readFileSync(join(shippedDir, sub, name)));
      fromShipped.push(`${sub}/${name}`);
    }
  };
  platformFile('control-plane', 'audit-policy.yaml', objects.find(isAuditPolicy));
  // The shipped file is a template (${ENCRYPTION_KEY} filled at boot): a user's copy of it is too.
  platformFile('control-plane', 'encryption-config.yaml', objects.find(isEncryption));

  const kinds = set.objects.filter((o) => isKindConfig(o.object));
  for (const layout of KIND_LAYOUTS) {
    const own = kinds.find((k) => kindLayoutOf(k.source.file) === layout) ?? (layout === 'pci-calico' ? kinds.find((k) => !kindLayoutOf(k.source.file)) : undefined);
    platformFile('kind', `${layout}.yaml`, own?.object);
  }

  const spec = objects.filter(isSpec);
  spec.forEach((o) => writeFileSync(join(dir, 'spec', `${o.kind}-${o.metadata.name}.yaml`), stringify(o, { lineWidth: 0 })));
  return { dir, fromShipped, counts: { cluster: cluster.length, spec: spec.length } };
}
