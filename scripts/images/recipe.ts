/**
 * The image-build contract. Each recipe builds one piece of the air-gapped
 * test cluster (node image, Calico, Kyverno, probe, ...) from Go modules and
 * Debian packages only. The orchestrator (build.ts) hashes every recipe's
 * inputs, skips recipes whose key is unchanged and whose outputs still exist,
 * and writes the supply-chain record.
 */
export interface BuildContext {
  /** This recipe's name (used in labels and log prefixes). [added by the node-image helper] */
  recipe: string;
  /** This recipe's cache key (sha256 hex); images carry it as label pci-harness.dev/key and tag suffix key[0:12]. [added] */
  key: string;
  /** Persistent cache root ($PCI_HARNESS_CACHE or ~/.cache/pci-harness). Survives fresh clones. */
  cacheDir: string;
  /** Scratch dir for this recipe, under cacheDir/work/<recipe>. */
  workDir: string;
  /** Where binaries land: cacheDir/bin. */
  binDir: string;
  /** Outputs of recipes this one depends on, by recipe name. */
  deps: Record<string, RecipeOutput>;
  /** Progress line for long steps (stderr, prefixed with the recipe name). */
  log(line: string): void;
  /** Run a command, streaming output to the recipe's log file; throws with the log tail on failure. */
  run(
    cmd: string,
    args: string[],
    opts?: { cwd?: string; env?: Record<string, string>; input?: string; /** keep stdout out of the log [added] */ quietStdout?: boolean },
  ): Promise<string>;
}

export interface ImageRecord {
  /** What the image is for: node, calico-node, calico-cni, kyverno, kyvernopre, kyverno-background, probe, server, registry, ... */
  role: string;
  /** Exact reference the cluster uses (upstream name where one exists, so manifests need no rewriting). */
  ref: string;
  /** Docker image ID (sha256:...). */
  digest: string;
  /** Go modules built into it, with versions (from go.sum-verified downloads). */
  goModules?: Array<{ module: string; version: string }>;
  /** Debian packages installed in it, with versions. */
  debianPackages?: Array<{ name: string; version: string }>;
}

export interface RecipeOutput {
  images: ImageRecord[];
  /** Named files produced (binaries, rendered manifests): name → absolute path. */
  files: Record<string, string>;
}

export interface Recipe {
  name: string;
  dependsOn?: string[];
  /** False for recipes that only build binaries (no Docker engine needed). Default true. */
  needsDocker?: boolean;
  /** Everything the build depends on, as strings: versions, recipe file contents. Hashed into the cache key. */
  inputs(): string[] | Promise<string[]>;
  build(ctx: BuildContext): Promise<RecipeOutput>;
}
