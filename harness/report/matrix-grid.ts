import type { LiveResult } from '../scenario/result.ts';
import { MATRIX_CHECK } from './live.ts';

/**
 * The reachability matrix as a grid of sources × targets, rebuilt from the
 * recorded results alone (harness/scenario/matrix.ts records each cell as a
 * `live.network.matrix` LiveResult: adversary = the source position, action =
 * `<proto> → <target label> (<host>:<port>)`).
 */
export type CellKind = 'allowed' | 'blocked' | 'mismatch' | 'inconclusive' | 'not-applicable';

export interface GridCell {
  kind: CellKind;
  result: LiveResult;
}

export interface MatrixGrid {
  scenario: string;
  sources: string[];
  targets: string[];
  /** cells[source index][target index]; undefined where the pair was not planned (a source never probes itself). */
  cells: Array<Array<GridCell | undefined>>;
  counts: Record<CellKind, number>;
}

/** The target label of a matrix cell's action; the whole action when it has another shape. */
export function targetOf(action: string): string {
  const m = /^\S+ → (.*) \([^()]*\)$/.exec(action);
  return m ? (m[1] as string) : action;
}

export function cellKind(r: LiveResult): CellKind {
  if (r.status === 'skip') return 'not-applicable';
  if (r.status === 'fail') return 'mismatch';
  if (r.status === 'inconclusive' || r.observed === 'check-failed') return 'inconclusive';
  return r.observed === 'allowed' ? 'allowed' : 'blocked';
}

/** One grid per scenario that recorded matrix cells, in recording order (rows and columns in first-seen order). */
export function matrixGrids(results: readonly LiveResult[]): MatrixGrid[] {
  const byScenario = new Map<string, LiveResult[]>();
  for (const r of results) {
    if (r.check !== MATRIX_CHECK) continue;
    const list = byScenario.get(r.scenario) ?? [];
    list.push(r);
    byScenario.set(r.scenario, list);
  }
  return [...byScenario.entries()].map(([scenario, rs]) => {
    const sources: string[] = [];
    const targets: string[] = [];
    const si = new Map<string, number>();
    const ti = new Map<string, number>();
    for (const r of rs) {
      if (!si.has(r.adversary)) si.set(r.adversary, sources.push(r.adversary) - 1);
      const t = targetOf(r.action);
      if (!ti.has(t)) ti.set(t, targets.push(t) - 1);
    }
    const cells: MatrixGrid['cells'] = sources.map(() => Array.from({ length: targets.length }, () => undefined));
    const counts: Record<CellKind, number> = { allowed: 0, blocked: 0, mismatch: 0, inconclusive: 0, 'not-applicable': 0 };
    for (const r of rs) {
      const kind = cellKind(r);
      counts[kind]++;
      // A re-recorded cell (same source and target) keeps the last result, as the sink's reader does.
      (cells[si.get(r.adversary) as number] as Array<GridCell | undefined>)[ti.get(targetOf(r.action)) as number] = { kind, result: r };
    }
    return { scenario, sources, targets, cells, counts };
  });
}
