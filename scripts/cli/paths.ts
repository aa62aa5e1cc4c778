import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (scripts/cli/ is two levels down). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shipped manifest set, shown relative to the cwd when possible. */
export const DEFAULT_MANIFESTS = relative(process.cwd(), join(REPO_ROOT, 'manifests')) || '.';

export const VERSION: string = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
