import { describe, expect, it } from 'vitest';
import { cell, live, runReport } from './fixtures.ts';
import { htmlEscape, renderHtml } from './html.ts';
import { matrixGrids, targetOf } from './matrix-grid.ts';
import { requirementVerdicts } from './run-report.ts';

const rowOf = (html: string, req: string) => new RegExp(`<tr data-requirement="${req.replace(/\./g, '\\.')}" data-verdict="([a-z-]+)"`).exec(html)?.[1];

describe('report.html renderer', () => {
  it('shows each requirement with its verdict: pass, fail, inconclusive, and NOT TESTED for what no check covers', () => {
    const ok = renderHtml(runReport());
    expect(rowOf(ok, '1.3.1')).toBe('pass');
    expect(rowOf(ok, '7.2.1')).toBe('pass');
    expect(rowOf(ok, '4.2.1')).toBe('not-tested'); // in the requirement table, no check names it
    expect(ok).toContain('id="run-verdict" data-verdict="pass" data-exit="0"');
    const bad = renderHtml(runReport({ failing: true }));
    expect(rowOf(bad, '1.3.1')).toBe('fail');
    expect(rowOf(bad, '1.2.1')).toBe('inconclusive');
    expect(bad).toContain('id="run-verdict" data-verdict="fail" data-exit="1"');
    expect(bad).toContain('datastore-ingress admits cde-frontend'); // the finding
    expect(bad).toContain('kubectl exec -n cde-frontend attacker -- probe tcp 10.244.1.7:5432'); // its replay
  });

  it('with both CNIs, a section lists the attempts they judged differently as a finding; with one, no section', () => {
    expect(renderHtml(runReport())).not.toContain('id="cni"');
    const r = runReport();
    r.live = [
      live({ cni: 'calico', action: 'tcp → ledger 6379', observed: 'blocked', status: 'pass' }),
      live({ cni: 'cilium', action: 'tcp → ledger 6379', observed: 'allowed', status: 'fail' }),
    ];
    const html = renderHtml(r);
    expect(html).toContain('<section id="cni"><h2>Calico and Cilium compared</h2>');
    expect(html).toMatch(/Finding:<\/b> 1 attempt\(s\) got different verdicts/);
    expect(html).toContain('<td>allowed (fail)</td>');
  });

  it('a requirement whose every result was skipped is NOT TESTED, never a pass', () => {
    const r = runReport();
    r.offline.push({ check: 'tls.in-transit', requirement: '4.2.1', status: 'skip', message: 'no TLS configuration in the set' });
    const v = requirementVerdicts(r).find((x) => x.requirement === '4.2.1');
    expect(v?.verdict).toBe('not-tested');
    expect(v?.why).toMatch(/every result was skipped/);
    expect(rowOf(renderHtml(r), '4.2.1')).toBe('not-tested');
  });

  it('escapes every piece of run data: evidence cannot inject markup or script', () => {
    const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
    const r = runReport();
    r.live!.push(live({ evidence: hostile, adversary: `<b>${hostile}</b>`, replay: `echo '${hostile}'`, finding: hostile, status: 'fail', observed: 'allowed' }));
    r.context.commit = hostile;
    const html = renderHtml(r);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b><script');
    expect(html.match(/<script>/g)).toHaveLength(1); // ours only (the print helper, pinned by the CSP hash)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(htmlEscape('a\u0000b\u001b[31m')).toBe('ab[31m');
  });

  it('is self-contained: no external URL loaded, no font, a CSP that forbids fetching anything', () => {
    const r = runReport();
    r.live!.push(live({ evidence: 'GET https://evil.example/x.css' })); // text, not a load
    const html = renderHtml(r);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|@font-face|url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-`);
    expect(html).toContain('@media print');
  });

  it('shows the run context: commit, manifest digest, Kubernetes, CNI, Kyverno, images, timings', () => {
    const html = renderHtml(runReport());
    for (const s of ['1726b7f744bbd86d8db90261e48d4b9e0d81e07b', 'sha256:5d41402abc', 'v1.34.12', 'Calico v3.30.1', 'v1.16.3', 'reg.kyverno.io/kyverno/kyverno:v1.16.3', 'live suites', '214.0 s']) expect(html).toContain(s);
  });

  it('per scenario: predicted vs observed, deciding layer, evidence excerpt, replay', () => {
    const r = runReport();
    const long = `PCI_PROBE ${'x'.repeat(1000)}`;
    r.live!.push(live({ check: 'live.audit.events', requirement: '10.2.1', scenario: 'control-plane', predicted: 'logged', observed: 'logged', layer: { kind: 'audit', names: ['audit-policy'] }, evidence: long, replay: 'kubectl get --raw /audit' }));
    const html = renderHtml(r);
    const section = html.slice(html.indexOf('id="req-10-2-1"'));
    expect(section).toContain('scenario <code>control-plane</code>');
    expect(section).toContain('<td>logged</td><td class="">logged</td><td>audit audit-policy</td>');
    expect(section).toContain('(1010 characters; full text in live.json)');
    expect(section).not.toContain('x'.repeat(401));
    expect(section).toContain('kubectl get --raw /audit');
  });

  it('the live lane not run is said as such', () => {
    const html = renderHtml(runReport({ offlineOnly: true }));
    expect(html).toContain('live lane: not run (--offline-only)');
    expect(html).not.toContain('id="matrix"');
    expect(html).toContain('The live lane did not run.');
  });

  it('renders the same bytes for the same run', () => {
    expect(renderHtml(runReport({ failing: true }))).toBe(renderHtml(runReport({ failing: true })));
  });
});

describe('reachability grid from recorded cells', () => {
  it('rebuilds sources × targets with allowed / blocked / mismatch / inconclusive / not applicable', () => {
    const rs = [
      cell('a', 't1', { observed: 'blocked' }),
      cell('a', 't2', { predicted: 'allowed', observed: 'allowed' }),
      cell('b', 't1', { status: 'fail', observed: 'allowed' }),
      cell('b', 't3', { status: 'inconclusive', observed: 'check-failed' }),
      cell('c', 't2', { status: 'skip', observed: 'check-failed' }),
      live({ check: 'live.admission.psa' }), // not a matrix cell
    ];
    const [g] = matrixGrids(rs);
    expect(g?.sources).toEqual(['a', 'b', 'c']);
    expect(g?.targets).toEqual(['t1', 't2', 't3']);
    expect(g?.cells.map((row) => row.map((c) => c?.kind ?? null))).toEqual([
      ['blocked', 'allowed', null],
      ['mismatch', null, 'inconclusive'],
      [null, 'not-applicable', null],
    ]);
    expect(g?.counts).toEqual({ allowed: 1, blocked: 1, mismatch: 1, inconclusive: 1, 'not-applicable': 1 });
    const html = renderHtml({ ...runReport(), live: rs });
    expect(html.match(/data-cell="mismatch"/g)).toHaveLength(1);
    expect(html.match(/data-cell="inconclusive"/g)).toHaveLength(1);
  });

  it('parses the target from the recorded action, as the matrix writes it', () => {
    expect(targetOf('http → ingress/ingress-controller 8080/TCP via service-dns (ingress-controller.ingress.svc.cluster.local:8080)')).toBe('ingress/ingress-controller 8080/TCP via service-dns');
    expect(targetOf('dns-udp → kube-system/kube-dns 53/UDP via pod-ip (10.244.0.3:53)')).toBe('kube-system/kube-dns 53/UDP via pod-ip');
    expect(targetOf('something else')).toBe('something else');
  });
});
