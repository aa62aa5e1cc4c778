import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { run } from '../cluster/exec.ts';
import type { ImageSource } from '../cluster/images.ts';
import type { Cluster } from '../cluster/provider.ts';
import { InputError } from '../errors.ts';

/**
 * The cluster the harness did NOT create, as the user names it: a kubeconfig
 * file and optionally one of its contexts. Only what the evidence may say is
 * kept (context, cluster name, server URL) — never a token, certificate or
 * password from the file.
 */
export interface ExistingTarget {
  kubeconfigPath: string;
  context: string;
  /** The kubeconfig's cluster entry of that context. */
  clusterName: string;
  server: string;
}

/** Bad input (exit 2): a file that is not there, not a kubeconfig, or lacks the context. */
export function resolveTarget(kubeconfig: string, context?: string): ExistingTarget {
  const path = resolve(kubeconfig.replace(/^~(?=\/|$)/, process.env.HOME ?? '~'));
  if (!existsSync(path) || !statSync(path).isFile()) throw new InputError(`--kubeconfig ${kubeconfig}: no such file`, { hint: 'give the path of a kubeconfig file (e.g. ~/.kube/config)' });
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new InputError(`--kubeconfig ${kubeconfig}: not a readable kubeconfig (${(e as Error).message.split('\n')[0]})`, { hint: 'check the file with `kubectl config view --kubeconfig FILE`' });
  }
  const names = kc.getContexts().map((c) => c.name);
  const chosen = context ?? kc.getCurrentContext();
  if (!chosen) throw new InputError(`--kubeconfig ${kubeconfig}: no current context and no --context given`, { hint: `pass --context, one of: ${names.join(', ') || '(the file has no contexts)'}` });
  const ctx = kc.getContextObject(chosen);
  if (!ctx) throw new InputError(`--context ${chosen}: not in ${kubeconfig}`, { hint: `contexts in that file: ${names.join(', ') || '(none)'}` });
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new InputError(`--context ${chosen}: its cluster "${ctx.cluster}" is not in ${kubeconfig}`, { hint: 'fix the context entry or pick another --context' });
  return { kubeconfigPath: path, context: chosen, clusterName: ctx.cluster, server: cluster.server };
}

/** kubectl against the target: always with its kubeconfig and context, never the user's default. */
export function targetKubectlArgs(t: ExistingTarget): string[] {
  return ['--kubeconfig', t.kubeconfigPath, '--context', t.context];
}

/** Does the API server answer (readyz) within the timeout? The reason when it does not. */
export async function reachable(t: ExistingTarget, kubectlBinary: string, timeoutMs = 20_000): Promise<{ ok: true; version: string } | { ok: false; why: string }> {
  const r = await run(kubectlBinary, [...targetKubectlArgs(t), 'version', '-o', 'json', `--request-timeout=${Math.ceil(timeoutMs / 1000)}s`], { reject: false, timeoutMs: timeoutMs + 5000 }).catch((e: Error) => ({ exitCode: -1, stdout: '', stderr: e.message }));
  if (r.exitCode !== 0) return { ok: false, why: (r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300) || `kubectl exited ${r.exitCode}` };
  try {
    const v = JSON.parse(r.stdout) as { serverVersion?: { gitVersion?: string } };
    if (!v.serverVersion?.gitVersion) return { ok: false, why: 'the server sent no version' };
    return { ok: true, version: v.serverVersion.gitVersion };
  } catch {
    return { ok: false, why: 'kubectl version printed no JSON' };
  }
}

/**
 * A Cluster handle for the target, for the scenario modules (they take a
 * Cluster). Its kubectl is the RAW one: callers wrap it in the guard
 * (harness/existing/guard.ts) before anything may write.
 */
export function targetCluster(t: ExistingTarget, images: ImageSource, name: string): Cluster {
  const kubeClient = new KubeConfig();
  kubeClient.loadFromFile(t.kubeconfigPath);
  kubeClient.setCurrentContext(t.context);
  return {
    name,
    kubeconfigPath: t.kubeconfigPath,
    kubeClient,
    kubectl: (args, opts) => run(images.kubectlBinary, [...targetKubectlArgs(t), ...args], opts),
    images,
    workDir: '',
  };
}
