/**
 * Build parameters shared by recipes. Recipes read them inside inputs()/build(), so a
 * changed parameter changes the cache key of every recipe that uses it.
 */
export interface ImageBuildConfig {
  /** Kubernetes release for the node image and component images (v1.34.x fits this kernel: cgroup v1). */
  kubernetesVersion: string;
}

// v1.34.12 is the newest 1.34 patch the Go module proxy serves (checked 2026-11).
export const DEFAULT_KUBERNETES_VERSION = "v1.34.12";

let current: ImageBuildConfig = {
  kubernetesVersion: process.env.PCI_K8S_VERSION || DEFAULT_KUBERNETES_VERSION,
};

export function imageConfig(): ImageBuildConfig {
  return current;
}

export function setImageConfig(patch: Partial<ImageBuildConfig>): void {
  const next = { ...current, ...patch };
  if (!/^v1\.\d+\.\d+$/.test(next.kubernetesVersion)) {
    throw new Error(`kubernetes version must look like v1.34.12, got "${next.kubernetesVersion}"`);
  }
  current = next;
}

/** "v1.34.12" → { major: "1", minor: "34", staging: "v0.34.12" } (staging modules track v0.<minor>.<patch>). */
export function kubernetesParts(version: string): { major: string; minor: string; patch: string; staging: string } {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`bad kubernetes version ${version}`);
  const [, major = "", minor = "", patch = ""] = m;
  return { major, minor, patch, staging: `v0.${minor}.${patch}` };
}
