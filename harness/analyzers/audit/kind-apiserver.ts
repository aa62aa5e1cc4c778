import { parseAllDocuments } from 'yaml';
import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';

/**
 * How a kind Cluster config (kind.x-k8s.io/v1alpha4) wires the kube-apiserver: extraArgs and
 * extraVolumes from the ClusterConfiguration inside `kubeadmConfigPatches` (kubeadm v1beta3
 * map form or v1beta4 list form), and the control-plane nodes' `extraMounts` that put host
 * files into the node container. Shared by the audit and encryption analyzers.
 */
export interface ApiServerArg {
  value: string;
  line: number;
}
export interface ApiServerVolume {
  name: string;
  hostPath: string;
  mountPath: string;
  line: number;
}
export interface NodeMount {
  hostPath: string;
  containerPath: string;
  line: number;
}
export interface KindApiServer {
  cluster: LoadedObject;
  args: Map<string, ApiServerArg>;
  volumes: ApiServerVolume[];
  /** extraMounts per control-plane node (a kind config without nodes has one control-plane node and no mounts). */
  controlPlaneMounts: NodeMount[][];
  errors: Array<{ line: number; message: string }>;
}

export function kindClusters(set: ManifestSet): LoadedObject[] {
  return set.objects.filter((o) => o.object.apiVersion === 'kind.x-k8s.io/v1alpha4' && o.object.kind === 'Cluster');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Line of a text line inside a patch string: block scalars start on the line after the indicator. */
function patchLineOf(patchLine: number, text: string, needle: string): number {
  const idx = text.split('\n').findIndex((l) => l.includes(needle));
  return idx < 0 ? patchLine : patchLine + 1 + idx;
}

export function kindApiServer(cluster: LoadedObject): KindApiServer {
  const w: KindApiServer = { cluster, args: new Map(), volumes: [], controlPlaneMounts: [], errors: [] };
  const c = cluster.object as Record<string, unknown>;
  const patches: Array<{ text: string; line: number }> = [];
  const collect = (list: unknown, path: (string | number)[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((p, i) => {
      if (typeof p === 'string') patches.push({ text: p, line: cluster.lineOf([...path, i]) });
    });
  };
  collect(c.kubeadmConfigPatches, ['kubeadmConfigPatches']);
  const nodes = Array.isArray(c.nodes) ? c.nodes : [{ role: 'control-plane' }];
  nodes.forEach((n, ni) => {
    if (!isObj(n) || (n.role ?? 'control-plane') !== 'control-plane') return;
    collect(n.kubeadmConfigPatches, ['nodes', ni, 'kubeadmConfigPatches']);
    const mounts: NodeMount[] = [];
    if (Array.isArray(n.extraMounts)) {
      n.extraMounts.forEach((m, mi) => {
        if (isObj(m) && typeof m.hostPath === 'string' && typeof m.containerPath === 'string') {
          mounts.push({ hostPath: m.hostPath, containerPath: m.containerPath, line: cluster.lineOf(['nodes', ni, 'extraMounts', mi]) });
        }
      });
    }
    w.controlPlaneMounts.push(mounts);
  });

  for (const p of patches) {
    let docs;
    try {
      docs = parseAllDocuments(p.text);
    } catch (e) {
      w.errors.push({ line: p.line, message: `kubeadmConfigPatches entry is not YAML: ${(e as Error).message.split('\n')[0]}` });
      continue;
    }
    for (const d of Array.isArray(docs) ? docs : []) {
      if (d.errors.length > 0) {
        w.errors.push({ line: p.line, message: `kubeadmConfigPatches entry is not valid YAML: ${d.errors[0]?.message.split('\n')[0]}` });
        continue;
      }
      const v = d.toJS() as unknown;
      if (!isObj(v) || v.kind !== 'ClusterConfiguration' || !isObj(v.apiServer)) continue;
      const api = v.apiServer;
      const extra = api.extraArgs;
      if (Array.isArray(extra)) {
        for (const a of extra) if (isObj(a) && typeof a.name === 'string') w.args.set(a.name, { value: String(a.value ?? ''), line: patchLineOf(p.line, p.text, `name: ${a.name}`) });
      } else if (isObj(extra)) {
        for (const [k, val] of Object.entries(extra)) w.args.set(k, { value: String(val), line: patchLineOf(p.line, p.text, `${k}:`) });
      }
      if (Array.isArray(api.extraVolumes)) {
        for (const vol of api.extraVolumes) {
          if (isObj(vol) && typeof vol.hostPath === 'string' && typeof vol.mountPath === 'string') {
            w.volumes.push({ name: String(vol.name ?? ''), hostPath: vol.hostPath, mountPath: vol.mountPath, line: patchLineOf(p.line, p.text, `mountPath: ${vol.mountPath}`) });
          }
        }
      }
    }
  }
  return w;
}

function within(path: string, dir: string): string | undefined {
  const d = dir.replace(/\/+$/, '');
  if (path === d) return '';
  return path.startsWith(`${d}/`) ? path.slice(d.length) : undefined;
}

/**
 * Does a path the apiserver reads exist on every control-plane node? It must sit under an
 * apiServer extraVolume (static pod hostPath mount) whose hostPath is provided by a node
 * extraMount (kind puts host files into the node container) when the file comes from the
 * host (fromHost). Returns a problem or the chain.
 */
export function traceApiServerPath(
  w: KindApiServer,
  path: string,
  opts: { fromHost: boolean } = { fromHost: true },
): { ok: true; chain: string } | { ok: false; problem: string } {
  for (const vol of w.volumes) {
    const rest = within(path, vol.mountPath);
    if (rest === undefined) continue;
    const nodePath = vol.hostPath.replace(/\/+$/, '') + rest;
    // Output directories (the audit log) live on the node itself: no host file needed.
    if (!opts.fromHost) return { ok: true, chain: `apiserver ${path} → node ${nodePath}` };
    const missing = w.controlPlaneMounts.findIndex((mounts) => !mounts.some((m) => within(nodePath, m.containerPath) !== undefined));
    if (w.controlPlaneMounts.length === 0 || missing >= 0) {
      return { ok: false, problem: `${path} is mounted into the apiserver from node path ${nodePath}, but no extraMounts entry of control-plane node ${Math.max(missing, 0)} provides it; the apiserver would see an empty directory or fail to start` };
    }
    const m = w.controlPlaneMounts[0]?.find((x) => within(nodePath, x.containerPath) !== undefined);
    return { ok: true, chain: `${m?.hostPath ?? '?'} → node ${nodePath} → apiserver ${path}` };
  }
  return { ok: false, problem: `${path} is not under any apiServer.extraVolumes mountPath: the apiserver container cannot see it` };
}
