import { applyFile } from '../apply.ts';
import type { ImageSource } from '../images.ts';
import type { Cluster } from '../provider.ts';
import { waitNamespaceRollouts, waitNodesReady, waitRollout } from '../readiness.ts';

/** The chart's names (install/kubernetes/cilium, release "cilium" in kube-system). */
export const CILIUM_AGENT_DAEMONSET = 'daemonset/cilium';
export const CILIUM_OPERATOR_DEPLOYMENT = 'deployment/cilium-operator';

/**
 * Cilium (eBPF datapath, VXLAN, kube-proxy kept): the agent on every node and
 * the operator, then the nodes Ready. The agent compiles and loads its BPF
 * programs at start, so a kernel that refuses the datapath shows up here:
 * the error then carries the agents' own error lines (not only "rollout
 * timed out"), e.g. a verifier rejection or a missing map type.
 */
export async function installCilium(c: Cluster, images: ImageSource, log: (line: string) => void): Promise<void> {
  await applyFile(c, images.ciliumManifest, { log });
  try {
    await waitRollout(c, 'kube-system', CILIUM_AGENT_DAEMONSET);
    await waitRollout(c, 'kube-system', CILIUM_OPERATOR_DEPLOYMENT);
  } catch (e) {
    const lines = agentErrorLines((await c.kubectl(['logs', '-n', 'kube-system', '--prefix', '--tail=400', '-l', 'k8s-app=cilium', '-c', 'cilium-agent'], { reject: false })).stdout);
    if (lines.length === 0) throw e;
    throw new Error(`${(e as Error).message}\n  cilium-agent error lines:\n    ${lines.join('\n    ')}`, { cause: e });
  }
  await waitNodesReady(c);
  await waitNamespaceRollouts(c, 'kube-system');
}

/**
 * The agent's error/fatal log lines (logfmt `level=error` / `level=fatal`, or
 * slog JSON `"level":"ERROR"`), deduplicated by message, at most 20. Pure.
 */
export function agentErrorLines(logs: string, max = 20): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of logs.split('\n')) {
    if (!/\blevel=(error|fatal)\b|"level":"(ERROR|FATAL)"|\blevel=(ERROR|FATAL)\b/i.test(line)) continue;
    const msg = /msg="([^"]*)"|msg=(\S+)|"msg":"([^"]*)"/.exec(line);
    const key = msg ? (msg[1] ?? msg[2] ?? msg[3] ?? line) : line;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(line.length > 600 ? `${line.slice(0, 600)}…` : line);
    if (out.length >= max) break;
  }
  return out;
}
