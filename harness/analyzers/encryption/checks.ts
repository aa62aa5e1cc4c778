import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import { kindApiServer, kindClusters, traceApiServerPath } from '../audit/kind-apiserver.ts';
import { decodeEncryptionConfig, entryForSecrets, parseGroupResource } from './config.ts';
import { KEY_SIZES, PLACEHOLDER, validateKeyMaterial } from './key-material.ts';

type R = Omit<CheckResult, 'object' | 'file' | 'line'>;

/** encryption.secrets-covered: an entry (exact, `*.` or `*.*`) encrypts core Secrets, and upstream would accept the list. */
export function secretsCovered(doc: LoadedObject): CheckResult[] {
  const entries = decodeEncryptionConfig(doc.object as Record<string, unknown>);
  const out: CheckResult[] = [];
  const fail = (message: string, path?: (string | number)[]) => out.push(at(doc, { check: 'encryption.secrets-covered', requirement: '8.3.2', status: 'fail', message }, path));
  if (entries.length === 0) fail('EncryptionConfiguration has no resources entries: nothing is encrypted (the apiserver refuses it)', ['resources']);
  entries.forEach((e, i) => {
    if (e.resources.length === 0) fail(`resources[${i}] lists no resources`, ['resources', i]);
    e.resources.forEach((r, j) => {
      const gr = parseGroupResource(r);
      const why =
        r !== r.toLowerCase() ? 'resource names must be lower case'
        : r === '*' ? "use '*.' for all core resources or '*.*' for everything"
        : gr.group === '*' && gr.resource !== '*' ? 'encrypting the same resource across groups is not supported'
        : gr.group === 'extensions' ? "the 'extensions' group cannot be used"
        : gr.group === 'events.k8s.io' ? "use 'events' instead of '*.events.k8s.io'"
        : undefined;
      if (why) fail(`resources[${i}].resources[${j}] "${r}" is rejected by the apiserver: ${why}`, ['resources', i, 'resources', j]);
    });
    if (new Set(e.resources).size !== e.resources.length) fail(`resources[${i}] lists the same resource twice`, ['resources', i, 'resources']);
  });
  const hit = entryForSecrets(entries);
  if (!hit) {
    fail('no resources entry covers "secrets" (nor "*." or "*.*"): Secrets are stored in etcd as plaintext base64. Add secrets to an entry with a real cipher first', ['resources']);
  } else if (hit.masked) {
    fail(`"secrets" in resources[${hit.masked.index}] is masked by the earlier "${hit.masked.by}" entry: the apiserver refuses this configuration. List secrets first`, ['resources', hit.masked.index]);
  }
  if (out.length === 0 && hit) {
    out.push(at(doc, { check: 'encryption.secrets-covered', requirement: '8.3.2', status: 'pass', message: `Secrets are encrypted at rest by resources[${hit.index}] (matched via "${hit.via}")` }, ['resources', hit.index]));
  }
  return out;
}

/** encryption.provider: the FIRST provider (the one that writes) of the Secrets entry is a recommended cipher. */
export function providerStrength(doc: LoadedObject): CheckResult[] {
  const entries = decodeEncryptionConfig(doc.object as Record<string, unknown>);
  const out: CheckResult[] = [];
  const res = (r: R, path: (string | number)[]) => out.push(at(doc, r, path));
  entries.forEach((e, i) =>
    e.providers.forEach((p, j) => {
      if (p.types.length !== 1) {
        res({ check: 'encryption.provider', requirement: '3.6.1', status: 'fail', message: `resources[${i}].providers[${j}] must name exactly one provider (kms, aesgcm, aescbc, secretbox, identity); found ${p.types.length === 0 ? 'none' : p.types.join(', ')}` }, ['resources', i, 'providers', j]);
      }
    }),
  );
  const hit = entryForSecrets(entries);
  if (!hit) return out;
  const first = entries[hit.index]?.providers[0];
  const path = ['resources', hit.index, 'providers', 0];
  const c = 'encryption.provider';
  // Upstream guidance (kubernetes.io/docs/tasks/administer-cluster/encrypt-data): kms v2 strongest,
  // secretbox strong; aescbc weak (padding oracle); aesgcm only with automated rotation (nonce reuse).
  switch (first?.type) {
    case undefined:
      res({ check: c, requirement: '3.6.1', status: 'fail', message: `resources[${hit.index}] has no providers: Secrets are not encrypted` }, ['resources', hit.index]);
      break;
    case 'identity':
      res({ check: c, requirement: '3.6.1', status: 'fail', message: 'identity is the first provider for Secrets: new Secrets are WRITTEN in plaintext. Put secretbox (or kms v2) first; keep identity last only while migrating' }, path);
      break;
    case 'aesgcm':
      res({ check: c, requirement: '3.6.1', status: 'fail', message: 'aesgcm is not recommended upstream unless keys rotate automatically (random nonces: upstream says rotate every 200k writes); use secretbox or kms v2' }, path);
      break;
    case 'aescbc':
      res({ check: c, requirement: '3.6.1', status: 'pass', message: 'aescbc encrypts Secrets first; note it is vulnerable to padding oracle attacks upstream — prefer secretbox' }, path);
      break;
    case 'secretbox':
      res({ check: c, requirement: '3.6.1', status: 'pass', message: 'secretbox (XSalsa20-Poly1305, "strong" upstream) encrypts Secrets first' }, path);
      break;
    case 'kms': {
      const v = first.body.apiVersion ?? 'v1';
      if (v === 'v2') res({ check: c, requirement: '3.6.1', status: 'pass', message: 'KMS v2 (envelope encryption, keys outside the cluster) encrypts Secrets first' }, path);
      else res({ check: c, requirement: '3.6.1', status: 'fail', message: `KMS apiVersion ${String(v)} is deprecated and disabled by default since Kubernetes 1.29; set apiVersion: v2` }, [...path, 'kms']);
      break;
    }
  }
  return out;
}

/** encryption.key-material: keys well-formed, uniquely named, and NEVER committed: only `${...}` placeholders. */
export function keyMaterial(doc: LoadedObject): CheckResult[] {
  const entries = decodeEncryptionConfig(doc.object as Record<string, unknown>);
  const out: CheckResult[] = [];
  let placeholders = 0;
  const fail = (message: string, path: (string | number)[]) => out.push(at(doc, { check: 'encryption.key-material', requirement: '3.6.1', status: 'fail', message }, path));
  entries.forEach((e, i) =>
    e.providers.forEach((p, j) => {
      if (!p.type || !(p.type in KEY_SIZES)) return;
      const base = ['resources', i, 'providers', j, p.type, 'keys'];
      const keys = Array.isArray(p.body.keys) ? (p.body.keys as Array<Record<string, unknown> | null>) : [];
      if (keys.length === 0) fail(`${p.type} provider has no keys (at least one is required)`, base);
      const seen = new Set<string>();
      keys.forEach((k, n) => {
        const name = typeof k?.name === 'string' ? k.name : '';
        const secret = typeof k?.secret === 'string' ? k.secret : '';
        const kp = [...base, n];
        if (name === '') fail(`${p.type} key ${n} has no name (the name is part of the stored prefix k8s:enc:${p.type}:v1:<name>:)`, kp);
        else if (seen.has(name)) fail(`${p.type} key name "${name}" is used twice: decryption cannot tell the keys apart`, [...kp, 'name']);
        seen.add(name);
        if (PLACEHOLDER.test(secret)) {
          placeholders++;
          return;
        }
        const v = validateKeyMaterial(p.type ?? '', secret);
        if (v.ok) {
          fail(`${p.type} key "${name}" holds real key material committed to the repository (value withheld). Rotate this key now, and commit only a placeholder like \${ENCRYPTION_KEY} that cluster creation replaces`, [...kp, 'secret']);
        } else {
          fail(`${p.type} key "${name}": ${v.reason} (value withheld). Commit a \${...} placeholder and let cluster creation generate the key`, [...kp, 'secret']);
        }
      });
    }),
  );
  if (out.length === 0) {
    out.push(at(doc, { check: 'encryption.key-material', requirement: '3.6.1', status: 'pass', message: placeholders > 0 ? `${placeholders} key(s) are \${...} placeholders substituted at cluster creation: no key material is committed; names are unique` : 'no static keys in this configuration (KMS or identity only)' }, ['resources']));
  }
  return out;
}

/** encryption.wired: each kind Cluster passes --encryption-provider-config and mounts the file into the apiserver. */
export function encryptionWired(set: ManifestSet): CheckResult[] {
  const clusters = kindClusters(set);
  if (clusters.length === 0) {
    return [{ check: 'encryption.wired', requirement: '3.6.1', status: 'fail', message: 'no kind Cluster config (kind.x-k8s.io/v1alpha4) in the set: nothing enables encryption at rest; add one under manifests/kind/' }];
  }
  return clusters.map((cluster) => {
    const w = kindApiServer(cluster);
    const base = { check: 'encryption.wired', requirement: '3.6.1', object: `Cluster/${cluster.source.file}`, file: cluster.source.file };
    const arg = w.args.get('encryption-provider-config');
    if (!arg) return { ...base, status: 'fail' as const, line: cluster.source.line, message: 'kube-apiserver has no --encryption-provider-config: Secrets are stored unencrypted. Add it to apiServer.extraArgs and mount the rendered EncryptionConfiguration' };
    const t = traceApiServerPath(w, arg.value);
    if (!t.ok) return { ...base, status: 'fail' as const, line: arg.line, message: `--encryption-provider-config: ${t.problem}` };
    return { ...base, status: 'pass' as const, line: arg.line, message: `kube-apiserver reads --encryption-provider-config=${arg.value} (${t.chain})` };
  });
}
