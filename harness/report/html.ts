import { createHash } from 'node:crypto';
import { cniDisagreements, cniKnownDifferences, comparesCnis } from './cni-comparison.ts';
import type { CheckResult } from '../check/types.ts';
import type { LiveResult } from '../scenario/result.ts';
import { layerText, MATRIX_CHECK } from './live.ts';
import { matrixGrids, type CellKind, type MatrixGrid } from './matrix-grid.ts';
import { requirementVerdicts, type RequirementVerdict, type RequirementVerdictKind, type RunReport } from './run-report.ts';

/**
 * report.html: the evidence package's front page, one self-contained file
 * (inline CSS, no network, no fonts, a CSP that forbids any fetch). Pure:
 * RunReport in, HTML string out. Every piece of run data is escaped —
 * evidence is what a probe or an API server printed, so it is untrusted.
 */

/** Escape text for HTML content and double-quoted attributes; drops control characters HTML forbids. */
export function htmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '');
}

const e = htmlEscape;

const VERDICT_LABEL: Record<RequirementVerdictKind, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', 'not-tested': 'NOT TESTED' };
const STATUS_LABEL: Record<CheckResult['status'], string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', skip: 'SKIP' };
const CELL: Record<CellKind, { mark: string; label: string }> = {
  allowed: { mark: 'A', label: 'allowed (as predicted)' },
  blocked: { mark: 'B', label: 'blocked (as predicted)' },
  mismatch: { mark: '!', label: 'MISMATCH: observed differs from the prediction' },
  inconclusive: { mark: '?', label: 'inconclusive: the probe broke or the target had no proof of life' },
  'not-applicable': { mark: '–', label: 'not applicable from this source' },
};

/** Characters of evidence shown inline; the full text is in live.json. */
export const EVIDENCE_EXCERPT = 400;

const EXIT_MEANING: Record<number, string> = {
  0: 'every control holds',
  1: 'a control failed',
  2: 'bad input or usage',
  3: 'inconclusive or environment failure: not a verdict on the manifests',
};

function runVerdictKind(code: number): RequirementVerdictKind {
  return code === 0 ? 'pass' : code === 1 ? 'fail' : 'inconclusive';
}

const anchor = (req: string) => `req-${req.replace(/\./g, '-')}`;

function excerpt(text: string, max = EVIDENCE_EXCERPT): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters; full text in live.json)` : text;
}

function badge(kind: string, label: string): string {
  return `<span class="badge v-${e(kind)}">${e(label)}</span>`;
}

function statusBadge(s: CheckResult['status']): string {
  return badge(s, STATUS_LABEL[s]);
}

function contextSection(r: RunReport): string {
  const c = r.context;
  const v = c.versions;
  const rows: Array<[string, string]> = [
    ['pci-harness', c.version],
    ['run', c.runId],
    ['started / finished', `${c.startedAt} / ${c.finishedAt}`],
    ['commit', c.commit],
    ['manifests', c.manifests],
    ['manifest digest', c.manifestDigest],
    ['image source', c.imageSource],
    ['Kubernetes', v.kubernetes ?? 'not recorded (no supply-chain record)'],
    ['CNI', v.cni ?? 'not recorded'],
    ['Kyverno', v.kyverno ?? 'not recorded'],
    ...(c.shard ? [['shard', `${c.shard.index} of ${c.shard.count}: ${c.shard.files.join(', ')}`] as [string, string]] : []),
    ...(c.merged ? [['merged from', c.merged.map((m) => `shards/${m.name}/ (run ${m.runId}, exit ${m.exitCode})`).join('; ')] as [string, string]] : []),
  ];
  const timings = c.timings.length
    ? `<h3>Timings</h3><table class="kv"><tbody>${c.timings.map((t) => `<tr><th>${e(t.step)}</th><td>${t.seconds.toFixed(1)} s</td></tr>`).join('')}</tbody></table>`
    : '';
  const images = v.images.length
    ? `<details class="images"><summary>${v.images.length} images (supply-chain record: images.json)</summary><table class="list"><thead><tr><th>role</th><th>reference</th><th>image ID</th></tr></thead><tbody>${v.images
        .map((i) => `<tr><td>${e(i.role)}</td><td><code>${e(i.ref)}</code></td><td><code>${e(i.digest)}</code></td></tr>`)
        .join('')}</tbody></table></details>`
    : '<p>No supply-chain record: the images were not built locally in this run.</p>';
  return `<section id="context"><h2>Run context</h2><table class="kv"><tbody>${rows.map(([k, val]) => `<tr><th>${e(k)}</th><td><code>${e(val)}</code></td></tr>`).join('')}</tbody></table>${timings}${images}</section>`;
}

function overviewSection(verdicts: readonly RequirementVerdict[]): string {
  const tally = (k: RequirementVerdictKind) => verdicts.filter((v) => v.verdict === k).length;
  const counts = (rs: readonly CheckResult[]) => (rs.length ? `${rs.filter((x) => x.status === 'pass').length}/${rs.length}` : '—');
  const rows = verdicts
    .map(
      (v) =>
        `<tr data-requirement="${e(v.requirement)}" data-verdict="${v.verdict}"><td><a href="#${anchor(v.requirement)}">${e(v.requirement)}</a></td><td>${e(v.title)}</td><td class="verdict">${badge(v.verdict, VERDICT_LABEL[v.verdict])}</td><td class="num">${counts(v.offline)}</td><td class="num">${counts(v.live)}</td><td>${e(v.why)}</td></tr>`,
    )
    .join('');
  return `<section id="requirements"><h2>PCI DSS v4.0 requirements</h2><p class="tally">${tally('pass')} pass, ${tally('fail')} fail, ${tally('inconclusive')} inconclusive, ${tally('not-tested')} not tested. A requirement no check covers is <b>NOT TESTED</b>: this run says nothing about it.</p><table class="list"><thead><tr><th>requirement</th><th>title</th><th>verdict</th><th>offline passed</th><th>live passed</th><th>why</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function gridTable(g: MatrixGrid): string {
  const head = `<tr><th class="corner">source \\ target</th>${g.targets.map((t, i) => `<th class="col" title="${e(t)}">${i + 1}</th>`).join('')}</tr>`;
  const rows = g.sources
    .map((s, si) => {
      const tds = (g.cells[si] ?? [])
        .map((cell, ti) => {
          if (!cell) return '<td class="c-none" title="not planned (a position never probes itself)"></td>';
          const x = cell.result;
          const tip = `${s} → ${g.targets[ti]}: ${CELL[cell.kind].label}; predicted ${x.predicted}, observed ${x.observed}; layer ${layerText(x.layer)}; requirement ${x.requirement}`;
          return `<td class="c-${cell.kind}" data-cell="${cell.kind}" title="${e(tip)}">${CELL[cell.kind].mark}</td>`;
        })
        .join('');
      return `<tr><th class="row">${e(s)}</th>${tds}</tr>`;
    })
    .join('');
  const legend = `<ol class="targets">${g.targets.map((t) => `<li>${e(t)}</li>`).join('')}</ol>`;
  const counts = (Object.keys(CELL) as CellKind[]).map((k) => `<span class="key c-${k}">${CELL[k].mark}</span> ${e(CELL[k].label)}: <b>${g.counts[k]}</b>`).join(' &nbsp; ');
  return `<figure class="matrix" data-scenario="${e(g.scenario)}"><figcaption>Scenario <code>${e(g.scenario)}</code>: ${g.sources.length} sources × ${g.targets.length} targets</figcaption><p class="legend">${counts}</p><div class="gridwrap"><table class="grid">${head}${rows}</table></div><details class="legend-targets"><summary>Targets (column numbers)</summary>${legend}</details></figure>`;
}

function matrixSection(r: RunReport): string {
  if (!r.live) return '';
  const grids = matrixGrids(r.live);
  if (!grids.length) return '<section id="matrix"><h2>Reachability matrix</h2><p>No matrix cell was recorded.</p></section>';
  return `<section id="matrix"><h2>Reachability matrix</h2><p>Every source position (a compromised workload, an outsider, a rogue pod, the internet) against every target address; each cell was predicted by the offline model and observed on the live cluster.</p>${grids.map(gridTable).join('')}</section>`;
}

function offlineTable(rs: readonly CheckResult[]): string {
  if (!rs.length) return '<p class="none">No offline check.</p>';
  const rows = rs
    .map((x) => `<tr class="s-${x.status}"><td>${statusBadge(x.status)}</td><td><code>${e(x.check)}</code></td><td>${e(x.object ?? '')}</td><td>${x.file ? `<code>${e(x.file)}${x.line ? `:${x.line}` : ''}</code>` : ''}</td><td>${e(x.message)}</td></tr>`)
    .join('');
  return `<table class="list offline"><thead><tr><th>status</th><th>check</th><th>object</th><th>file:line</th><th>what was proven / what is wrong</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function liveRow(x: LiveResult): string {
  const finding = x.finding ? `<div class="finding"><b>finding:</b> ${e(x.finding)}</div>` : '';
  const ev = x.evidence ? `<pre class="evidence">${e(excerpt(x.evidence))}</pre>` : '';
  const replay = x.replay ? `<div class="replay"><b>replay:</b> <code>${e(x.replay)}</code></div>` : '';
  return `<tr class="s-${x.status}" data-status="${x.status}"><td>${statusBadge(x.status)}</td><td>${e(x.adversary)}</td><td>${e(x.action)}</td><td>${e(x.predicted)}</td><td class="${x.predicted === x.observed ? '' : 'differs'}">${e(x.observed)}</td><td>${e(layerText(x.layer))}</td><td class="detail"><div>${e(x.message)}</div>${finding}${ev}${replay}</td></tr>`;
}

function liveTable(rs: readonly LiveResult[]): string {
  return `<table class="list live"><thead><tr><th>status</th><th>adversary</th><th>action</th><th>predicted</th><th>observed</th><th>deciding layer</th><th>evidence, replay</th></tr></thead><tbody>${rs.map(liveRow).join('')}</tbody></table>`;
}

/** The scenario's attack story (ScenarioDef.narrative), once per scenario; scenarios written without the DSL have none. */
function narrativeOf(list: readonly LiveResult[]): string {
  const told = [...new Set(list.map((x) => x.narrative).filter((n): n is string => Boolean(n)))];
  return told.map((n) => `<p class="narrative">${e(n)}</p>`).join('');
}

function liveScenarios(rs: readonly LiveResult[]): string {
  if (!rs.length) return '<p class="none">No live result.</p>';
  const byScenario = new Map<string, LiveResult[]>();
  for (const x of rs) {
    const k = `${x.check} ${x.scenario}`;
    const list = byScenario.get(k);
    if (list) list.push(x);
    else byScenario.set(k, [x]);
  }
  return [...byScenario.values()]
    .map((list) => {
      const first = list[0] as LiveResult;
      const head = `<h4><code>${e(first.check)}</code> — scenario <code>${e(first.scenario)}</code> (${list.length} result${list.length === 1 ? '' : 's'})</h4>${narrativeOf(list)}`;
      if (first.check !== MATRIX_CHECK || list.length <= 12) return `<div class="scenario">${head}${liveTable(list)}</div>`;
      // Matrix scenarios: every cell is in the grid above; what did not pass is listed in full here, the rest folded.
      const notPassed = list.filter((x) => x.status !== 'pass');
      const passed = list.filter((x) => x.status === 'pass');
      return `<div class="scenario">${head}${notPassed.length ? liveTable(notPassed) : '<p>Every probed cell matched the prediction.</p>'}${passed.length ? `<details class="passed"><summary>${passed.length} cells observed as predicted</summary>${liveTable(passed)}</details>` : ''}</div>`;
    })
    .join('');
}

function requirementSection(v: RequirementVerdict, liveRan: boolean): string {
  const live = v.live.length ? liveScenarios(v.live) : `<p class="none">${liveRan ? 'No live scenario covers this requirement.' : 'The live lane did not run.'}</p>`;
  const body = v.verdict === 'not-tested' && !v.offline.length && !v.live.length ? `<p class="not-tested">Not tested: ${e(v.why)}.</p>` : `<h4>Offline checks</h4>${offlineTable(v.offline)}<h4>Live results</h4>${live}`;
  return `<section class="req" id="${anchor(v.requirement)}" data-requirement="${e(v.requirement)}" data-verdict="${v.verdict}"><h3>${e(v.requirement)} ${e(v.title)} ${badge(v.verdict, VERDICT_LABEL[v.verdict])}</h3><p class="why">${e(v.why)}</p>${body}</section>`;
}

/** `run --cni all`: the attempts the two CNIs judged differently (a finding) and the differences the harness accounts for. */
function cniSection(r: RunReport): string {
  if (!r.live || !comparesCnis(r.live)) return '';
  const d = cniDisagreements(r.live);
  const known = cniKnownDifferences(r.live);
  const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`;
  const findings = d.length
    ? `<p class="cni-finding"><b>Finding:</b> ${d.length} attempt(s) got different verdicts from the same manifests on Calico and Cilium: the enforcement depends on the CNI.</p><table class="list"><thead><tr><th>requirement</th><th>attempt</th><th>Calico</th><th>Cilium</th></tr></thead><tbody>${d.map((x) => row([x.requirement, x.key, `${x.verdicts.calico.observed} (${x.verdicts.calico.status})`, `${x.verdicts.cilium.observed} (${x.verdicts.cilium.status})`])).join('')}</tbody></table>`
    : '<p>Calico and Cilium agree on every attempt both ran.</p>';
  const accounted = known.length
    ? `<h3>Known CNI differences the harness accounts for</h3><table class="list"><thead><tr><th>requirement</th><th>attempt</th><th>judged</th><th>not observable</th></tr></thead><tbody>${known.map((x) => row([x.requirement, x.key, `${x.judgedOn}: ${x.verdict.observed} (${x.verdict.status})`, `${x.skippedOn}: ${x.reason}`])).join('')}</tbody></table>`
    : '';
  return `<section id="cni"><h2>Calico and Cilium compared</h2>${findings}${accounted}</section>`;
}

function vitestSection(r: RunReport): string {
  const o = r.vitest;
  if (!o) return '';
  const byFile = new Map<string, { n: number; ms: number; failed: number }>();
  for (const t of o.tests) {
    const f = byFile.get(t.file) ?? { n: 0, ms: 0, failed: 0 };
    byFile.set(t.file, { n: f.n + 1, ms: f.ms + t.ms, failed: f.failed + (t.state === 'failed' ? 1 : 0) });
  }
  const errors = [...o.tests.filter((t) => t.state === 'failed').map((t) => [`${t.file} > ${t.name}`, t.errors.join('\n')]), ...o.suiteErrors.map((s) => [`${s.file} > ${s.name}`, s.errors.join('\n')]), ...o.unhandledErrors.map((m) => ['unhandled error', m])];
  return `<section id="vitest"><h2>What the live lane ran</h2><table class="list"><thead><tr><th>file</th><th>tests</th><th>failed</th><th>time</th></tr></thead><tbody>${[...byFile.entries()]
    .map(([f, x]) => `<tr><td><code>${e(f)}</code></td><td class="num">${x.n}</td><td class="num">${x.failed}</td><td class="num">${(x.ms / 1000).toFixed(1)} s</td></tr>`)
    .join('')}</tbody></table>${errors.length ? `<h3>Failures and errors</h3>${errors.map(([n, m]) => `<div class="vitest-error"><b>${e(n as string)}</b><pre class="evidence">${e(excerpt(m as string, 2000))}</pre></div>`).join('')}` : ''}</section>`;
}

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--inc:#9a6700;--nt:#57606a;--allowed:#2da44e;--blocked:#0969da;--mismatch:#cf222e;--inconclusive:#bf8700;--na:#d0d7de}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0 auto;max-width:1400px;padding:1rem 1.5rem;color:#1f2328;line-height:1.4;font-size:14px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.4rem;margin:.3rem 0;border-radius:4px}
h1{margin:.2rem 0 .5rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
.banner{padding:.8rem 1rem;border-radius:6px;color:#fff;font-size:1.1rem}
.banner.v-pass{background:var(--pass)}.banner.v-fail{background:var(--fail)}.banner.v-inconclusive{background:var(--inc)}
.banner ul{margin:.3rem 0 0;font-size:.9rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.75rem;font-weight:700;color:#fff;white-space:nowrap;vertical-align:middle}
.v-pass{background:var(--pass)}.v-fail{background:var(--fail)}.v-inconclusive{background:var(--inc)}.v-not-tested,.v-skip{background:var(--nt)}
table{border-collapse:collapse}
table.list{width:100%;margin:.4rem 0}
table.list th,table.list td{border:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top}
table.list thead th{background:#f6f8fa}
table.kv th{text-align:left;padding:.15rem 1rem .15rem 0;font-weight:600;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
td.differs{font-weight:700;color:var(--fail)}
tr.s-fail td{background:#ffebe9}tr.s-inconclusive td{background:#fff8c5}
tr[data-verdict=not-tested] td{color:var(--nt)}
.finding{color:var(--fail);margin:.2rem 0}
p.narrative{font-style:italic;margin:.1rem 0 .3rem;max-width:70rem}
.replay code{word-break:break-all}
.gridwrap{overflow-x:auto}
table.grid{font-size:11px;margin:.4rem 0}
table.grid th.row{text-align:right;padding-right:.4rem;white-space:nowrap;font-weight:500}
table.grid th.col{width:16px;font-weight:500;font-size:9px}
table.grid td{width:16px;height:16px;text-align:center;border:1px solid #fff;color:#fff;font-weight:700;padding:0}
.c-allowed{background:var(--allowed);color:#fff}.c-blocked{background:var(--blocked);color:#fff}.c-mismatch{background:var(--mismatch);color:#fff}
.c-inconclusive{background:var(--inconclusive);color:#000}.c-not-applicable{background:var(--na);color:#57606a}.c-none{background:#fff}
.key{display:inline-block;width:16px;text-align:center;font-weight:700;border-radius:2px}
figure.matrix{margin:1rem 0}figcaption{font-weight:600}
ol.targets{columns:2;font-size:12px}
section.req{margin:1.2rem 0;padding-top:.2rem;border-top:1px dashed #d0d7de}
.not-tested{color:var(--nt);font-style:italic}
nav ul{display:flex;flex-wrap:wrap;gap:1rem;padding:0;list-style:none}
footer{margin-top:2rem;color:#57606a;font-size:12px}
@media print{
  @page{size:A4 landscape;margin:12mm}
  body{max-width:none;padding:0;font-size:9pt}
  nav{display:none}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  h2{break-after:avoid}h3,h4{break-after:avoid}
  tr,figure.matrix,.banner{break-inside:avoid}
  section.req{break-inside:auto}
  a{color:inherit;text-decoration:none}
  pre{background:none;border:1px solid #d0d7de}
  .gridwrap{overflow:visible}
  table.grid td{width:11px;height:11px;font-size:7px}
  table.grid th.col{font-size:6px}
}`;

/** Print every folded section: a printout must not hide evidence behind a closed <details>. */
const SCRIPT = "addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true})});";
const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

export function renderHtml(report: RunReport): string {
  const c = report.context;
  const verdicts = requirementVerdicts(report);
  const kind = runVerdictKind(c.verdict.code);
  const liveLine = report.live
    ? `${report.live.length} live results (${report.live.filter((x) => x.status === 'pass').length} passed, ${report.live.filter((x) => x.status === 'fail').length} failed, ${report.live.filter((x) => x.status === 'inconclusive').length} inconclusive, ${report.live.filter((x) => x.status === 'skip').length} not applicable)`
    : `live lane: ${report.liveNotRun ?? 'not run'}`;
  const banner = `<div class="banner v-${kind}" id="run-verdict" data-verdict="${kind}" data-exit="${c.verdict.code}"><b>Run verdict: ${VERDICT_LABEL[kind]}</b> — exit ${c.verdict.code} (${e(EXIT_MEANING[c.verdict.code] ?? 'unknown')}). ${report.offline.length} offline results; ${e(liveLine)}.${c.verdict.reasons.length ? `<ul>${c.verdict.reasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : ''}</div>`;
  const nav = `<nav><ul><li><a href="#context">Run context</a></li><li><a href="#requirements">Requirements</a></li>${report.live ? '<li><a href="#matrix">Reachability matrix</a></li>' : ''}${report.live && comparesCnis(report.live) ? '<li><a href="#cni">Calico and Cilium</a></li>' : ''}<li><a href="#details">Checks and scenarios</a></li>${report.vitest ? '<li><a href="#vitest">Live lane</a></li>' : ''}</ul></nav>`;
  const details = `<section id="details"><h2>Checks and scenarios per requirement</h2>${verdicts.map((v) => requirementSection(v, Boolean(report.live))).join('')}</section>`;
  const footer = `<footer>Evidence package of pci-harness ${e(c.version)}. Check it: <code>pci-harness verify DIR --key PUBLIC-KEY</code> (signature and every file) or <code>sha256sum -c SHA256SUMS</code>. Every text file was redacted of credentials before the checksums were taken. Machine-readable: check.json, live.json, assessment-results.json (OSCAL).</footer>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:">
<title>PCI DSS v4.0 evidence — ${e(c.runId)} — ${VERDICT_LABEL[kind]}</title>
<style>${CSS}</style>
<script>${SCRIPT}</script>
</head>
<body>
<header><h1>PCI DSS v4.0 evidence — pci-harness</h1>${banner}</header>
${nav}
${contextSection(report)}
${overviewSection(verdicts)}
${matrixSection(report)}
${cniSection(report)}
${details}
${vitestSection(report)}
${footer}
</body>
</html>
`;
}
