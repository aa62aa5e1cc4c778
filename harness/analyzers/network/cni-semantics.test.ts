import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cluster/paths.ts';
import { loadManifestDir } from '../../manifests/load.ts';
import { MUTANTS } from '../../../suites/offline/mutants.ts';
import { predictReachability, type Reachability } from './matrix.ts';

/** Every allowed (from, to, port) triple: the whole matrix, to compare two readings of the same set. */
function allowedCells(r: Reachability): string[] {
  const out: string[] = [];
  r.endpoints.forEach((from, i) => r.endpoints.forEach((to, j) => to.ports.forEach((p, k) => r.allowed(i, j, k) && out.push(`${from.id}>${to.id}:${p.port}/${p.protocol}`))));
  return out.sort();
}

function mutated(id: string): string {
  const m = MUTANTS.find((x) => x.id === id)!;
  const dir = mkdtempSync(join(tmpdir(), 'pci-cni-semantics-'));
  cpSync(join(REPO_ROOT, 'manifests'), dir, { recursive: true });
  const file = join(dir, m.file);
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
  writeFileSync(file, m.mutate(docs).map((d) => stringify(d)).join('---\n'));
  return dir;
}

describe("the CNI's reading of ipBlock over pod addresses (implementation-defined in the API)", () => {
  it('the shipped set means the same on Calico and Cilium (no ipBlock holds pod addresses)', () => {
    const set = loadManifestDir(join(REPO_ROOT, 'manifests'));
    expect(allowedCells(predictReachability(set, { ipBlockSelectsPods: false }))).toEqual(allowedCells(predictReachability(set)));
  });

  it('an ipBlock over the pod network admits pods on Calico (the default, the offline reading) and none on Cilium', () => {
    const set = loadManifestDir(mutated('net-ipblock-pod-network'));
    const shipped = allowedCells(predictReachability(loadManifestDir(join(REPO_ROOT, 'manifests'))));
    const calico = allowedCells(predictReachability(set));
    const cilium = allowedCells(predictReachability(set, { ipBlockSelectsPods: false }));
    expect(calico.filter((c) => !shipped.includes(c)).length).toBeGreaterThan(0);
    // 10.0.0.0/8 holds no outside address either: on Cilium the mutant opens nothing at all.
    expect(cilium).toEqual(shipped);
  });
});
