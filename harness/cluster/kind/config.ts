import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { InputError } from '../../errors.ts';

/** `${NAME}` placeholders, as used in manifests/kind/*.yaml and manifests/control-plane/encryption-config.yaml. */
const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

/**
 * Substitute every `${NAME}`; an unknown placeholder is an error naming it
 * (a half-rendered config would make kind fail later with a far worse message).
 */
export function renderTemplate(text: string, vars: Record<string, string>, file: string): string {
  const missing = new Set<string>();
  // Comment lines are left as written: a template's comment that names `${ENCRYPTION_KEY}` must not end up
  // holding the key itself (the rendered file outlives a key rotation).
  const out = text
    .split('\n')
    .map((line) =>
      /^\s*#/.test(line)
        ? line
        : line.replace(PLACEHOLDER, (whole, name: string) => {
            const v = vars[name];
            if (v === undefined) {
              missing.add(name);
              return whole;
            }
            return v;
          }),
    )
    .join('\n');
  if (missing.size > 0) {
    throw new InputError(`unknown placeholder(s) ${[...missing].map((m) => `\${${m}}`).join(', ')}`, {
      file,
      hint: `the harness fills: ${Object.keys(vars).filter((k) => k !== 'ENCRYPTION_KEY').join(', ')} (and ENCRYPTION_KEY in the encryption config)`,
    });
  }
  return out;
}

/** A fresh AES-256 key for the aescbc/secretbox provider: 32 random bytes, base64. Never logged, never in the repo. */
export function newEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/** Where the control-plane node sees the audit log dir (manifests/kind/*.yaml extraMounts); the host side is `<workDir>/audit`. */
export const AUDIT_CONTAINER_PATH = '/var/log/kubernetes/audit';

interface RenderedConfig {
  /** Rendered kind Cluster config to pass to `kind create cluster --config`. */
  kindConfigPath: string;
  /** Host dir holding audit-policy.yaml and encryption-config.yaml (mode 0600), mounted into the control plane. */
  controlPlaneDir: string;
  /** Host dir the API server's audit log is written to (mounted from the control-plane node). */
  auditLogDir: string;
}

/**
 * Render the kind config and the control-plane files for one cluster into its
 * work dir. The key exists only in `<workDir>/control-plane/encryption-config.yaml`
 * (0600) and inside the cluster; the work dir is deleted with the cluster.
 */
export function renderClusterConfig(opts: { manifestsDir: string; layout: string; workDir: string; singleNode?: boolean; disableDefaultCni?: boolean }): RenderedConfig {
  const controlPlaneDir = join(opts.workDir, 'control-plane');
  const auditLogDir = join(opts.workDir, 'audit');
  mkdirSync(controlPlaneDir, { recursive: true, mode: 0o700 });
  mkdirSync(auditLogDir, { recursive: true, mode: 0o755 });

  const srcDir = join(opts.manifestsDir, 'control-plane');
  const auditPolicy = readFileSync(join(srcDir, 'audit-policy.yaml'), 'utf8');
  writeFileSync(join(controlPlaneDir, 'audit-policy.yaml'), auditPolicy, { mode: 0o644 });

  const encFile = join(srcDir, 'encryption-config.yaml');
  const encryption = renderTemplate(readFileSync(encFile, 'utf8'), { ENCRYPTION_KEY: newEncryptionKey() }, encFile);
  const encOut = join(controlPlaneDir, 'encryption-config.yaml');
  writeFileSync(encOut, encryption, { mode: 0o600 });
  chmodSync(encOut, 0o600);

  const vars: Record<string, string> = {
    CONTROL_PLANE_DIR: controlPlaneDir,
    AUDIT_POLICY_FILE: join(controlPlaneDir, 'audit-policy.yaml'),
    ENCRYPTION_CONFIG_FILE: encOut,
    AUDIT_DIR: auditLogDir,
  };
  const kindFile = join(opts.manifestsDir, 'kind', `${opts.layout}.yaml`);
  let kindConfig = renderTemplate(readFileSync(kindFile, 'utf8'), vars, kindFile);
  if (opts.singleNode) kindConfig = controlPlaneOnly(kindConfig);
  if (opts.disableDefaultCni) kindConfig = withoutDefaultCni(kindConfig);
  const kindConfigPath = join(opts.workDir, 'kind-config.yaml');
  writeFileSync(kindConfigPath, kindConfig, { mode: 0o644 });
  return { kindConfigPath, controlPlaneDir, auditLogDir };
}

/**
 * Keep only the control-plane node (for small clusters such as the kindnet
 * canary). kind removes the control-plane taint on single-node clusters, so
 * pods schedule there.
 */
export function controlPlaneOnly(kindConfigText: string): string {
  const doc = parseDocument(kindConfigText);
  const nodes = doc.toJS() as { nodes?: Array<{ role?: string }> };
  const keep = (nodes.nodes ?? []).filter((n) => n.role === 'control-plane');
  if (keep.length === 0) throw new Error('kind config has no control-plane node');
  doc.set('nodes', doc.createNode(keep));
  return doc.toString();
}

/** kind must not apply its kindnet DaemonSet (its image would be pulled): the stand-in CNI replaces it. */
function withoutDefaultCni(kindConfigText: string): string {
  const doc = parseDocument(kindConfigText);
  doc.setIn(['networking', 'disableDefaultCNI'], true);
  return doc.toString();
}
