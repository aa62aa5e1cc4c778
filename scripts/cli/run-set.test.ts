import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './paths.ts';

let cache: string | undefined;
afterEach(() => {
  if (cache) rmSync(cache, { recursive: true, force: true });
});

// A process that lays out a user's set and is interrupted before it disposes of it (as Ctrl-C during
// the live lane would): the set — possibly holding the user's encryption key — must not stay behind.
const SCRIPT = `
import { layOut, loadUserSet } from ${JSON.stringify(join(REPO_ROOT, 'scripts/cli/run-set.ts'))};
const u = loadUserSet(${JSON.stringify(join(REPO_ROOT, 'manifests'))}, {});
const live = layOut(u, 'interrupted');
process.stdout.write(live.dir + '\\n');
setInterval(() => {}, 1000);
`;

describe('run --manifests: the laid-out set', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`is deleted when the run gets ${signal} before it finishes`, async () => {
      cache = mkdtempSync(join(tmpdir(), 'pci-liveset-'));
      const child = execa(process.execPath, ['--input-type=module', '-e', SCRIPT], { env: { PCI_HARNESS_CACHE: cache }, reject: false, all: true });
      const dir = await new Promise<string>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => resolve(d.toString().trim()));
        void child.then((r) => reject(new Error(`exited early: ${r.all}`)));
      });
      expect(existsSync(join(dir, 'cluster'))).toBe(true);
      child.kill(signal);
      const r = await child;
      expect(r.exitCode).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(r.all).toContain(`${signal} received — deleting your laid-out set ${dir}`);
      expect(existsSync(dir)).toBe(false);
      expect(readdirSync(join(cache, 'runs', 'live-sets'))).toEqual([]);
    }, 60_000);
  }
});
