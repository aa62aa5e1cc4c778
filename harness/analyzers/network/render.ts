import type { Endpoint } from './model.ts';
import type { Reachability } from './matrix.ts';

/**
 * A compact truth table in the style of the upstream netpol e2e output:
 * rows are sources, columns destination ports, "." allowed, "X" denied,
 * "-" a pod class talking to itself (ignored). Endpoints are numbered; the
 * legend maps numbers to pod classes.
 */
export function renderMatrix(m: Reachability, opts: { onlyInScope?: boolean; maxEndpoints?: number } = {}): string {
  const max = opts.maxEndpoints ?? 60;
  const eps = m.endpoints;
  // With onlyInScope, keep in-scope classes plus everything that talks to them (attackers, dns, external...).
  const shown = (opts.onlyInScope ? eps.filter((e) => e.inScope || e.external || e.members.some((x) => x.kind !== 'workload')) : eps).slice(0, max);
  const tag = (e: Endpoint) => `e${e.id}`;
  const cols: Array<{ d: Endpoint; i: number; head: string }> = [];
  for (const d of shown) d.ports.forEach((p, i) => cols.push({ d, i, head: `${tag(d)}:${p.port}${p.protocol === 'TCP' ? '' : `/${p.protocol}`}` }));
  const w0 = Math.max(...shown.map((e) => tag(e).length), 4);
  const lines: string[] = [];
  lines.push('legend:');
  for (const e of shown) {
    const members = e.members.map((x) => (x.kind === 'external' ? `external:${x.name}` : `${x.namespace}/${x.name}`));
    lines.push(`  ${tag(e).padEnd(w0)} ${members.join(', ')}${e.inScope ? '  [in scope]' : ''}`);
  }
  if (shown.length < (opts.onlyInScope ? shown.length : eps.length)) lines.push(`  ... ${eps.length - shown.length} more classes not shown`);
  lines.push('');
  lines.push(`${'from\\to'.padEnd(w0)} ${cols.map((c) => c.head).join(' ')}`);
  for (const s of shown) {
    const cells = cols.map((c) => {
      let v: string;
      if (s.external && c.d.external) v = ' ';
      else if (s.id === c.d.id && s.members.length === 1) v = '-';
      else v = m.allowed(s.id, c.d.id, c.i) ? '.' : 'X';
      return v.padEnd(c.head.length);
    });
    lines.push(`${tag(s).padEnd(w0)} ${cells.join(' ')}`);
  }
  lines.push('("." allowed, "X" denied, "-" self, ignored)');
  return lines.join('\n');
}
