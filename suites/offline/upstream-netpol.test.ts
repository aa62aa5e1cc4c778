import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePolicy } from '../../harness/analyzers/network/policy.ts';
import { setFromTexts } from '../../harness/manifests/load.ts';
import { moduleDirOrSkip } from '../../scripts/upstream-testdata.ts';

/**
 * Upstream's own NetworkPolicy validation and defaulting table cases
 * (k8s.io/kubernetes pkg/apis/networking/validation/validation_test.go
 * TestValidateNetworkPolicy, pkg/apis/networking/v1/defaults_test.go
 * TestSetDefaultNetworkPolicy), replayed by scripts/upstream/netpol-cases/
 * extract.sh: it runs upstream's test functions unchanged but for a recorder
 * hook, so every case is recorded as networking.k8s.io/v1 JSON with upstream's
 * verdict under the apiserver's create configuration (feature gates at their
 * v1.34 defaults, ValidationOptionsForNetworking(np, nil)). Each case goes
 * through the harness's own parser (harness/analyzers/network/policy.ts, what
 * `pci-harness check` runs): accepted iff upstream accepts; for defaulting,
 * the policyTypes and the port protocols upstream's round trip produces.
 */
const K8S = { module: 'k8s.io/kubernetes', version: 'v1.34.12' };
const HERE = dirname(fileURLToPath(import.meta.url));
const EXTRACT = join(HERE, '..', '..', 'scripts', 'upstream', 'netpol-cases', 'extract.sh');

interface ValidationCase {
  name: string;
  source: string;
  policy: Record<string, unknown>;
  errors: string[];
  apiserverErrors: string[];
  strictIPCIDRValidation: boolean;
  allowInvalidLabelValueInSelector: boolean;
}
interface DefaultCase {
  name: string;
  original: Record<string, any>;
  got: Record<string, any>;
}

const resolved = moduleDirOrSkip(K8S.module, K8S.version);
const skip = 'skip' in resolved ? resolved.skip : undefined;
let validation: ValidationCase[] = [];
let defaults: DefaultCase[] = [];
let out: string;
const rows = new Map<string, { cases: number; agreed: number; disagreed: string[] }>();
const tally = (row: string, ok: boolean, name: string) => {
  const r = rows.get(row) ?? { cases: 0, agreed: 0, disagreed: [] };
  r.cases++;
  if (ok) r.agreed++;
  else r.disagreed.push(name);
  rows.set(row, r);
};

function goEnv(): NodeJS.ProcessEnv {
  const goDir = process.env.GO ? dirname(process.env.GO) : '/usr/local/go/bin';
  return { ...process.env, PATH: `${goDir}:${process.env.PATH ?? ''}`, K8S_DIR: 'dir' in resolved ? resolved.dir : '', K8S_VERSION: K8S.version };
}

function harnessVerdict(policy: Record<string, unknown>) {
  const namespace = String((policy.metadata as { namespace?: string } | undefined)?.namespace ?? 'default');
  const set = setFromTexts({ 'upstream/namespace.yaml': stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }), 'upstream/case.yaml': stringify(policy) });
  const lo = set.objects.find((o) => o.object.kind === 'NetworkPolicy');
  if (!lo) throw new Error('case did not load');
  return parsePolicy(lo, 0);
}

describe.skipIf(skip !== undefined)(`upstream NetworkPolicy cases (${K8S.module}@${K8S.version})${skip ? ` SKIPPED: ${skip}` : ''}`, () => {
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'upstream-netpol-'));
    // First run compiles the upstream packages (minutes on 2 cores); later runs hit Go's build cache.
    const r = spawnSync('sh', [EXTRACT, out], { env: goEnv(), encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) throw new Error(`scripts/upstream/netpol-cases/extract.sh failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-8).join('\n')}`);
    validation = JSON.parse(readFileSync(join(out, 'validation.json'), 'utf8')) as ValidationCase[];
    defaults = JSON.parse(readFileSync(join(out, 'defaults.json'), 'utf8')) as DefaultCase[];
  }, 900_000);
  afterAll(() => {
    if (out && existsSync(out)) rmSync(out, { recursive: true, force: true });
    if (!rows.size) return;
    const lines = [...rows].map(([k, r]) => `  ${k.padEnd(58)} ${String(r.cases).padStart(5)} ${String(r.agreed).padStart(7)} ${String(r.disagreed.length).padStart(10)}`);
    const total = [...rows.values()].reduce((a, r) => ({ cases: a.cases + r.cases, agreed: a.agreed + r.agreed, dis: a.dis + r.disagreed.length }), { cases: 0, agreed: 0, dis: 0 });
    console.log(
      [`upstream NetworkPolicy agreement (${K8S.module}@${K8S.version}):`, `  ${'source'.padEnd(58)} ${'cases'.padStart(5)} ${'agreed'.padStart(7)} ${'disagreed'.padStart(10)}`, ...lines, `  ${'total'.padEnd(58)} ${String(total.cases).padStart(5)} ${String(total.agreed).padStart(7)} ${String(total.dis).padStart(10)}`].join('\n'),
    );
  });

  it('recorded every table case upstream validates and defaults', () => {
    // v1.34.12: 17 success + 1 legacy + 31 error cases in TestValidateNetworkPolicy (49), 5 in TestSetDefaultNetworkPolicy.
    expect(validation.filter((c) => c.source === 'validation_test.go').length).toBeGreaterThanOrEqual(45);
    expect(defaults.length).toBeGreaterThanOrEqual(5);
  });

  it('validation: the harness accepts exactly what the v1.34 apiserver accepts on create', () => {
    const disagreements: string[] = [];
    for (const c of validation) {
      const upstreamOk = c.apiserverErrors.length === 0;
      const { errors } = harnessVerdict(c.policy);
      const oursOk = errors.length === 0;
      const row = c.source === 'validation_test.go' ? `validation_test.go TestValidateNetworkPolicy (${upstreamOk ? 'accepted' : 'rejected'})` : `${c.source.replace(' (upstream verdict)', '')} (${upstreamOk ? 'accepted' : 'rejected'})`;
      tally(row, oursOk === upstreamOk, c.name);
      if (oursOk !== upstreamOk)
        disagreements.push(`${c.name}: upstream ${upstreamOk ? 'accepts' : `rejects (${c.apiserverErrors.join('; ')})`}, the harness ${oursOk ? 'accepts' : `rejects (${errors.map((e) => e.message).join('; ')})`}\n    ${JSON.stringify(c.policy.spec)}`);
    }
    expect(disagreements, disagreements.join('\n')).toEqual([]);
  });

  it('defaulting: policyTypes and port protocols as upstream defaults them', () => {
    const disagreements: string[] = [];
    for (const c of defaults) {
      const { policy, errors } = harnessVerdict({ ...c.original, metadata: { name: 'case', namespace: 'upstream' } });
      const want = (c.got.spec?.policyTypes ?? []) as string[];
      const gotTypes = policy?.effectiveTypes ?? [];
      const wantProtocols = (['ingress', 'egress'] as const).flatMap((d) => ((c.got.spec?.[d] ?? []) as any[]).flatMap((r) => (r.ports ?? []).map((p: any) => `${d}:${p.protocol}`)));
      const gotProtocols = (['ingress', 'egress'] as const).flatMap((d) => (policy?.[d] ?? []).flatMap((r) => (r.ports ?? []).map((p) => `${d}:${p.protocol}`)));
      // A direction the policy does not isolate has no rules in the model: compare protocols only where upstream keeps the type.
      const kept = wantProtocols.filter((p) => want.includes(p.startsWith('ingress') ? 'Ingress' : 'Egress'));
      const ok = errors.length === 0 && JSON.stringify([...gotTypes].sort()) === JSON.stringify([...want].sort()) && JSON.stringify(gotProtocols) === JSON.stringify(kept);
      tally('defaults_test.go TestSetDefaultNetworkPolicy', ok, c.name);
      if (!ok) disagreements.push(`${c.name}: upstream policyTypes ${JSON.stringify(want)} protocols ${JSON.stringify(kept)}; the harness ${JSON.stringify(gotTypes)} ${JSON.stringify(gotProtocols)}${errors.length ? ` errors ${errors.map((e) => e.message).join('; ')}` : ''}`);
    }
    expect(disagreements, disagreements.join('\n')).toEqual([]);
  });
});
