import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../tools/locate.ts';

/**
 * The image build's supply-chain record ($CACHE/images/record.json), as the
 * harness reads it: which images and files exist locally. The build
 * (scripts/images) writes it and re-exports these types; the harness never
 * imports from scripts/.
 */
const IMAGE_RECORD_SCHEMA = 'pci-harness.dev/image-record/v1';

interface RecordedImage {
  /** What the image is for: node, calico-node, calico-cni, kyverno, probe, server, ... */
  role: string;
  /** Exact reference the cluster uses. */
  ref: string;
  /** Docker image ID (sha256:...). */
  digest: string;
  goModules?: Array<{ module: string; version: string }>;
  debianPackages?: Array<{ name: string; version: string }>;
  /** Recipe that built it, and that recipe's cache key. */
  recipe: string;
  key: string;
}

export interface BuildRecord {
  schema: typeof IMAGE_RECORD_SCHEMA;
  generatedAt: string;
  kubernetesVersion: string;
  /** Every image, with the recipe that built it. */
  images: RecordedImage[];
  /** Every named file (binaries, manifests): name → path + producing recipe. */
  files: Record<string, { path: string; recipe: string; goModules?: Array<{ module: string; version: string }> }>;
  recipes: Array<{ name: string; key: string; builtAt: string; seconds: number; go?: string }>;
}

export function imageRecordPath(): string {
  return join(cacheDir(), 'images', 'record.json');
}

/** The last written record, or undefined when no build has run on this machine. */
export function loadRecord(path = imageRecordPath()): BuildRecord | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as BuildRecord;
}
