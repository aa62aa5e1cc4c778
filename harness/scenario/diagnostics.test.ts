import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunOptions, RunResult } from '../cluster/exec.ts';
import type { Cluster } from '../cluster/provider.ts';
import { collectDiagnostics, defaultDiagnosticsDir, filterEventsByNamespace, parseAuditLog, readAuditTail, slugify, stripAnsi, tailAuditLines } from './diagnostics.ts';

const ev = (i: number) => JSON.stringify({ kind: 'Event', auditID: `a${i}`, verb: 'get', requestURI: `/api/v1/x/${i}` });

/** A cluster whose kubectl answers from a table (args joined by spaces → result); records every call. */
function fakeCluster(answers: Array<[RegExp, Partial<RunResult> | Error]>, workDir = ''): Cluster & { calls: string[][]; opts: (RunOptions | undefined)[] } {
  const calls: string[][] = [];
  const opts: (RunOptions | undefined)[] = [];
  return {
    name: 'pci-fake',
    kubeconfigPath: '/dev/null',
    kubeClient: undefined as never,
    images: undefined as never,
    workDir,
    calls,
    opts,
    async kubectl(args: string[], o?: RunOptions): Promise<RunResult> {
      calls.push(args);
      opts.push(o);
      const hit = answers.find(([re]) => re.test(args.join(' ')));
      if (!hit) return { stdout: '', stderr: 'error: the server doesn\'t have a resource type', exitCode: 1 };
      if (hit[1] instanceof Error) throw hit[1];
      return { stdout: '', stderr: '', exitCode: 0, ...hit[1] };
    },
  };
}

describe('pure parts', () => {
  it('slug and default dir: <PCI_LIVE_RESULTS>/diagnostics/<timestamp>-<slug>', () => {
    expect(slugify('lateral: payment-api REACHED datastore:5432!')).toBe('lateral-payment-api-reached-datastore-5432');
    expect(slugify('***')).toBe('diagnostics');
    expect(slugify('x'.repeat(100))).toHaveLength(60);
    expect(defaultDiagnosticsDir('Canary failed', new Date('2026-12-01T08:12:40.123Z'), '/ev/live-results')).toBe('/ev/live-results/diagnostics/2026-12-01T08-12-40-123Z-canary-failed');
  });

  it('strips terminal colour escapes (Kyverno logs)', () => {
    expect(stripAnsi('\x1b[90m2026-12-01T09:06:14Z\x1b[0m \x1b[34mTRC\x1b[0m version')).toBe('2026-12-01T09:06:14Z TRC version');
  });

  it('events: header and the given namespaces only; every row without a filter', () => {
    const table = ['NAMESPACE      LAST SEEN   TYPE     REASON', 'cde-frontend   5s          Normal   Scheduled', 'kube-system    4s          Normal   Pulled', 'cde-storage    3s          Warning  Failed'].join('\n');
    expect(filterEventsByNamespace(table, ['cde-frontend', 'cde-storage']).split('\n')).toEqual([
      'NAMESPACE      LAST SEEN   TYPE     REASON',
      'cde-frontend   5s          Normal   Scheduled',
      'cde-storage    3s          Warning  Failed',
    ]);
    expect(filterEventsByNamespace(table, [])).toBe(table);
  });

  it('audit tail: a partially written last line is skipped, not fatal; the last n complete events', () => {
    const text = `${[1, 2, 3].map(ev).join('\n')}\n{"kind":"Event","auditID":"a4","ver`;
    expect(tailAuditLines(text, 200).map((l) => JSON.parse(l).auditID)).toEqual(['a1', 'a2', 'a3']);
    expect(tailAuditLines(text, 2).map((l) => JSON.parse(l).auditID)).toEqual(['a2', 'a3']);
    expect(tailAuditLines('', 5)).toEqual([]);
    expect(tailAuditLines(text, 0)).toEqual([]);
  });

  it('parseAuditLog: a torn last line is reported and skipped, an interior bad line is corrupt, nothing throws', () => {
    expect(parseAuditLog(`${ev(1)}\n${ev(2)}\n`)).toMatchObject({ torn: false, corrupt: [] });
    const torn = parseAuditLog(`${ev(1)}\n${ev(2)}\n{"kind":"Ev`);
    expect(torn).toMatchObject({ torn: true, corrupt: [] });
    expect(torn.events.map((e) => e.auditID)).toEqual(['a1', 'a2']);
    expect(parseAuditLog(`${ev(1)}\nnot json\n${ev(3)}`)).toMatchObject({ torn: false, corrupt: [2] });
    expect(parseAuditLog('')).toEqual({ events: [], lines: [], torn: false, corrupt: [] });
  });

  it('audit tail spans the rotated backup when the live file is short', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pci-audit-'));
    writeFileSync(join(dir, 'audit-2026-12-01T08-00-00.000.log'), `${[1, 2, 3].map(ev).join('\n')}\n`);
    utimesSync(join(dir, 'audit-2026-12-01T08-00-00.000.log'), new Date(1000), new Date(1000));
    writeFileSync(join(dir, 'audit.log'), `${[4, 5].map(ev).join('\n')}\n{"torn`);
    expect(readAuditTail(dir, 4).map((l) => JSON.parse(l).auditID)).toEqual(['a2', 'a3', 'a4', 'a5']);
    expect(readAuditTail(join(dir, 'nope'), 4)).toEqual([]);
  });
});

describe('collectDiagnostics with a fake cluster', () => {
  const jwt = `eyJhbGciOiJSUzI1NiJ9.${'a'.repeat(40)}.${'b'.repeat(40)}`;
  const answers: Array<[RegExp, Partial<RunResult> | Error]> = [
    [/^get events -A/, { stdout: 'NAMESPACE LAST SEEN TYPE REASON\ncde-frontend 1s Normal Started\ndefault 1s Normal Other' }],
    [/^describe pod -n cde-frontend attacker$/, { stdout: `Name: attacker\nNode: pci-x-worker2\nEnvironment:\n  TOKEN: ${jwt}` }],
    [/^get pod -n cde-frontend attacker -o jsonpath=\{\.spec\.nodeName\}$/, { stdout: 'pci-x-worker2' }],
    [/^logs -n kube-system -l k8s-app=calico-node -c calico-node --tail=300 --prefix/, { stdout: '[pod/calico-node-a/calico-node] felix: policy programmed' }],
    [/^get pods -n kube-system -l k8s-app=calico-node --field-selector spec\.nodeName=pci-x-worker2/, { stdout: 'calico-node-b' }],
    [/^logs -n kube-system calico-node-b -c calico-node --tail=1000$/, { stdout: '\x1b[31mfelix: dropped packet\x1b[0m' }],
    [/^logs -n kyverno -l app\.kubernetes\.io\/component=admission-controller --tail=200/, new Error('connection refused')],
  ];

  it('writes each part into dir, redacted; kubectl is never allowed to throw or hang; failures become a note file', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pci-diag-work-'));
    mkdirSync(join(work, 'audit'));
    writeFileSync(join(work, 'audit', 'audit.log'), `${ev(1)}\n{"kind":"Event","user":{"token":"${'t'.repeat(30)}"}}\n{"part`);
    const cluster = fakeCluster(answers, work);
    const dir = join(mkdtempSync(join(tmpdir(), 'pci-diag-')), 'out');
    const files = await collectDiagnostics(cluster, { dir, reason: 'lateral: attacker reached datastore', pods: [{ namespace: 'cde-frontend', name: 'attacker' }] });
    expect(files.map((f) => basename(f))).toEqual([
      'reason.txt',
      'events.txt',
      'describe-cde-frontend-attacker.txt',
      'calico-node.txt',
      'calico-node-pci-x-worker2.txt',
      'audit-tail.jsonl',
      'collect-errors.txt',
    ]);
    const read = (n: string) => readFileSync(join(dir, n), 'utf8');
    expect(read('reason.txt')).toContain('reason: lateral: attacker reached datastore');
    expect(read('events.txt')).toBe('NAMESPACE LAST SEEN TYPE REASON\ncde-frontend 1s Normal Started\n');
    expect(read('describe-cde-frontend-attacker.txt')).not.toContain(jwt);
    expect(read('describe-cde-frontend-attacker.txt')).toContain('TOKEN: [REDACTED]');
    expect(read('calico-node-pci-x-worker2.txt')).toContain('felix: dropped packet');
    expect(read('audit-tail.jsonl').trim().split('\n')).toHaveLength(2);
    expect(read('audit-tail.jsonl')).not.toContain('t'.repeat(30));
    expect(read('collect-errors.txt')).toMatch(/^kyverno: kubectl logs -n kyverno .* threw: connection refused$/m);
    for (const o of cluster.opts) expect(o).toMatchObject({ reject: false, timeoutMs: expect.any(Number) });
  });

  it('never throws: a cluster where everything fails still yields reason.txt and the note file', async () => {
    const cluster = fakeCluster([[/./, new Error('kubectl: no such file')]]);
    const dir = join(mkdtempSync(join(tmpdir(), 'pci-diag-')), 'out');
    const files = await collectDiagnostics(cluster, { dir, reason: 'canary', pods: [{ namespace: 'n', name: 'p' }] });
    expect(files.map((f) => basename(f))).toEqual(['reason.txt', 'collect-errors.txt']);
    const notes = readFileSync(join(dir, 'collect-errors.txt'), 'utf8');
    for (const part of ['events', 'describe n/p', 'calico-node', 'kyverno', 'audit log: no audit log dir']) expect(notes).toContain(part);
  });

  it('defaults its dir under PCI_LIVE_RESULTS', async () => {
    const base = mkdtempSync(join(tmpdir(), 'pci-diag-base-'));
    const saved = process.env.PCI_LIVE_RESULTS;
    process.env.PCI_LIVE_RESULTS = base;
    try {
      const files = await collectDiagnostics(fakeCluster([]), { reason: 'Audit event missing' });
      expect(files[0]).toMatch(new RegExp(`^${base}/diagnostics/\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z-audit-event-missing/reason\\.txt$`));
    } finally {
      if (saved === undefined) delete process.env.PCI_LIVE_RESULTS;
      else process.env.PCI_LIVE_RESULTS = saved;
    }
  });
});
