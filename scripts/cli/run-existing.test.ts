import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NEVER_ON_EXISTING, notTestedResults, renderCoverage } from '../../harness/existing/coverage.ts';
import { LIVE_CHECKS } from '../../harness/scenario/checks.ts';
import { InputError } from '../../harness/errors.ts';
import { runCommand } from './run.ts';

/**
 * `pci-harness run --kubeconfig`: what is decided before any cluster call —
 * a missing file or context is exit 2 with what to do, a cluster that does
 * not answer is exit 3 — and the coverage rows' shape. The mode itself runs
 * against a real cluster in suites/live-harness/existing-cluster.test.ts.
 */
const dir = mkdtempSync(join(tmpdir(), 'pci-run-existing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** In process (a CLI child costs 30 s of start-up on a loaded machine); main.ts prints an InputError as `reason + hint` and exits 2. */
async function cli(...args: string[]): Promise<{ exitCode: number; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { exitCode: await runCommand(args), stderr };
  } catch (e) {
    if (e instanceof InputError) return { exitCode: 2, stderr: `${stderr}${e.describe()}` };
    throw e;
  } finally {
    process.stderr.write = write;
  }
}

// A kubeconfig whose server nobody listens on (port 1), with a fake token that must never be printed.
const TOKEN = 'fake-token-must-not-be-printed-0123456789';
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true }
users:
- name: someone
  user: { token: ${TOKEN} }
contexts:
- name: my-eks
  context: { cluster: nowhere, user: someone }
current-context: my-eks
`,
);

describe('run --kubeconfig: input and reachability are checked first', () => {
  it('a missing kubeconfig is exit 2 naming the file', async () => {
    const r = await cli('--kubeconfig', join(dir, 'absent'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--kubeconfig .*absent: no such file/);
  });

  it('an unknown context is exit 2 listing the contexts of the file', async () => {
    const r = await cli('--kubeconfig', kubeconfig, '--context', 'prod');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--context prod: not in .*\n\s+hint: contexts in that file: my-eks/);
  });

  it('--context without --kubeconfig is exit 2', async () => {
    const r = await cli('--context', 'my-eks');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--context needs --kubeconfig/);
  });

  it('a cluster that does not answer is exit 3 (environment), naming context and server, never the token', async () => {
    const r = await cli('--kubeconfig', kubeconfig, '--context', 'my-eks', '--out', join(dir, 'out'));
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/context "my-eks" \(https:\/\/127\.0\.0\.1:1\) does not answer/);
    expect(r.stderr).not.toContain(TOKEN);
  });
});

describe('coverage rows', () => {
  it('every NOT TESTED row becomes a skip saying NOT TESTED and why, under a requirement its check declares', () => {
    const results = notTestedResults(NEVER_ON_EXISTING);
    expect(results.length).toBe(NEVER_ON_EXISTING.reduce((n, r) => n + r.requirements.length, 0));
    for (const r of results) {
      expect(r.status).toBe('skip');
      expect(r.message).toMatch(/^NOT TESTED — .+: .{20,}/);
      expect(LIVE_CHECKS['live.existing.not-tested'] as readonly string[]).toContain(r.requirement);
    }
    const text = renderCoverage([{ area: 'canary', requirements: ['1.2.1'], state: 'ran', detail: '1 results: 1 pass' }, ...NEVER_ON_EXISTING]);
    expect(text.split('\n').filter((l) => l.startsWith('NOT TESTED'))).toHaveLength(NEVER_ON_EXISTING.length);
    expect(text).toMatch(/^ran +\| 1\.2\.1/m);
  });
});
