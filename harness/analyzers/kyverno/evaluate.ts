/**
 * Judge one Kyverno CLI run against the fixtures' expected verdicts.
 * Every failure points at the rule at fault (policy file:line) when there is
 * one, otherwise at the fixture.
 */
import { at, type CheckResult } from '../../check/types.ts';
import type { K8sObject, LoadedObject } from '../../manifests/types.ts';
import type { CliRun, RuleResult } from './cli-run.ts';
import { AUTOGEN_KINDS, fixtureId, reportedRuleName, type Fixture } from './fixtures.ts';
import { placementText, type PlacedFixture } from './placement.ts';
import { isBoundaryRule, ruleIndex, ruleLine, sitesNamed, type RuleSite } from './policy.ts';

type Result = Omit<CheckResult, 'object' | 'file' | 'line'>;

function checkFor(f: Fixture): string {
  if (f.check) return f.check;
  if (f.object.kind === 'Namespace') return 'kyverno.generate';
  return AUTOGEN_KINDS.has(f.object.kind) || f.object.kind === 'CronJob' ? 'kyverno.autogen' : 'kyverno.policies';
}

/** Autogen rules are reported as autogen-<rule>: find the rule they come from. */
function baseRuleName(name: string): string {
  return name.replace(/^autogen-(cronjob-)?/, '');
}

function atRule(site: RuleSite, r: Result): CheckResult {
  return { ...at(site.policy, r), line: ruleLine(site) };
}

function atFixture(f: Fixture, r: Result): CheckResult {
  return { ...r, object: fixtureId(f.object), file: f.file, line: f.line };
}

/** The site of a reported result, if it names a rule of the set. */
function siteOf(index: ReturnType<typeof ruleIndex>, r: RuleResult): RuleSite | undefined {
  return index.get(r.policy)?.get(baseRuleName(r.rule));
}

function label(f: PlacedFixture): string {
  const placed = placementText(f);
  return `fixture ${fixtureId(f.object)} (${f.file}: ${f.description}${placed ? `; ${placed}` : ''})`;
}

/** " (placed in namespace X (from Y))" after a pass message; empty on the shipped set. */
function placedNote(f: PlacedFixture): string {
  const placed = placementText(f);
  return placed ? ` (${placed})` : '';
}

/**
 * A placed fixture (the set is not the shipped one) may name a rule the set
 * calls differently: then any rule of the set may decide it.
 */
function ruleUnknownToSet(f: PlacedFixture, index: ReturnType<typeof ruleIndex>): boolean {
  return !!f.placement && !!f.rule && sitesNamed(index, f.rule).length === 0;
}

export function evaluate(run: CliRun, fixtures: PlacedFixture[], policies: LoadedObject[]): CheckResult[] {
  const index = ruleIndex(policies);
  const byResource = new Map<string, RuleResult[]>();
  for (const r of run.results) byResource.set(r.resource, [...(byResource.get(r.resource) ?? []), r]);
  const isBoundary = (x: RuleResult) => {
    const site = siteOf(index, x);
    return !!site && isBoundaryRule(site.rule);
  };
  const out: CheckResult[] = [];
  const errors = new Map<string, { first: RuleResult; fixture: Fixture; check: string; requirement: string; on: string[] }>();
  for (const f of fixtures) {
    const check = checkFor(f);
    const base: Pick<Result, 'check' | 'requirement'> = { check, requirement: f.requirement };
    const results = byResource.get(fixtureId(f.object)) ?? [];
    const blame = (r: RuleResult, message: string): CheckResult => {
      const site = siteOf(index, r);
      return site ? atRule(site, { ...base, status: 'fail', message }) : atFixture(f, { ...base, status: 'fail', message });
    };
    // A rule that errors blocks (or silently skips) every request it matches: never acceptable (defects 12, 13).
    // Reported once per rule below, with every fixture it errored on.
    for (const r of results.filter((x) => x.result === 'error')) {
      const key = `${r.policy}/${r.rule}`;
      const e = errors.get(key) ?? { first: r, fixture: f, check, requirement: f.requirement, on: [] as string[] };
      e.on.push(fixtureId(f.object));
      errors.set(key, e);
    }
    if (f.expect === 'admit') {
      const denied = results.filter((x) => x.result === 'fail');
      for (const r of denied) out.push(blame(r, `rule ${r.policy}/${r.rule} wrongly denies ${label(f)}: ${r.message}`));
      // A boundary rule passing a resource proves nothing about the CDE policies; it counts only for a
      // fixture that names it (pci-harness.dev/rule), i.e. one written to show the boundary is not blanket.
      const anyBoundary = ruleUnknownToSet(f, index);
      const evaluated = results.filter((x) => x.result === 'pass' && (!isBoundary(x) || baseRuleName(x.rule) === f.rule || anyBoundary));
      if (denied.length === 0 && evaluated.length === 0 && !results.some((x) => x.result === 'error')) {
        out.push(atFixture(f, { ...base, status: 'fail', message: `no Kyverno rule evaluated ${label(f)}: the policies do not select it (check the namespace's scope label and the rules' match blocks)` }));
      } else if (denied.length === 0 && !results.some((x) => x.result === 'error')) {
        out.push(atFixture(f, { ...base, status: 'pass', message: `admitted by all ${evaluated.length} applicable rule(s): ${f.description}${placedNote(f)}` }));
      }
    } else if (f.expect === 'deny') {
      const want = reportedRuleName(f.rule!, f.object.kind);
      const sites = sitesNamed(index, f.rule!);
      const hits = results.filter((x) => x.rule === want);
      const fail = hits.find((x) => x.result === 'fail');
      if (!fail && ruleUnknownToSet(f, index)) {
        out.push(...deniedByAnyRule(f, base, results, index));
      } else if (fail) {
        out.push(atRule(siteOf(index, fail) ?? sites[0]!, { ...base, status: 'pass', message: `${fail.policy}/${fail.rule} denies ${fixtureId(f.object)}: ${f.description}${placedNote(f)}` }));
      } else if (sites.length === 0) {
        out.push(atFixture(f, { ...base, status: 'fail', message: `no rule named ${f.rule} in the set's Kyverno policies, so nothing denies ${label(f)}; add the rule (or fix the fixture's pci-harness.dev/rule)` }));
      } else if (!hits.some((x) => x.result === 'error')) {
        const got = hits.length ? hits.map((x) => x.result).join(', ') : want !== f.rule ? `no ${want} result: autogen is off or does not cover ${f.object.kind}` : 'not evaluated (match block does not select it)';
        for (const s of sites) {
          out.push(atRule(s, { ...base, status: 'fail', message: `rule ${s.policy.object.metadata.name}/${want} does not deny ${label(f)} (result: ${got}); tighten the rule` }));
        }
      }
    } else if (f.expect === 'not-matched') {
      // A boundary rule (matches everywhere but the CDE) may evaluate an out-of-scope resource and pass it;
      // any denial, and any CDE-scoped rule evaluating it at all, is a scoping fault.
      const applied = results.filter((x) => (x.result === 'pass' || x.result === 'fail' || x.result === 'warn') && !(x.result === 'pass' && isBoundary(x)));
      const gen = generatedFor(run.generated, f.object);
      for (const r of applied) out.push(blame(r, `rule ${r.policy}/${r.rule} applies to out-of-scope ${label(f)} (result ${r.result}); scope it with the pci-scope label selector`));
      for (const g of gen) out.push(atFixture(f, { ...base, status: 'fail', message: `a ${g.kind} ${g.metadata.name} was generated for out-of-scope ${label(f)}` }));
      if (applied.length === 0 && gen.length === 0 && !results.some((x) => x.result === 'error')) {
        out.push(atFixture(f, { ...base, status: 'pass', message: `not affected by the CDE policies: ${f.description}${placedNote(f)}` }));
      }
    } else {
      out.push(...generateResults(f, base, results, run.generated, index));
    }
  }
  for (const [key, e] of errors) {
    const site = siteOf(index, e.first);
    const message =
      `rule ${key} ERRORS (Kyverno result "error") on ${e.on.length} fixture(s): ${e.on.join(', ')}. First error: ${e.first.message}. ` +
      'At admission this rejects (failurePolicy Fail) or silently admits every matching request; fix the rule so it evaluates: guard absent fields with =() anchors (guide defect 13), call only functions Kyverno has (defect 12: there is no networkpolicies())';
    const r: Result = { check: e.check, requirement: e.requirement, status: 'fail', message };
    out.push(site ? atRule(site, r) : atFixture(e.fixture, r));
  }
  return out;
}

/** A placed deny case whose named rule the set does not have: it passes when any rule of the set denies it. */
function deniedByAnyRule(f: PlacedFixture, base: Pick<Result, 'check' | 'requirement'>, results: RuleResult[], index: ReturnType<typeof ruleIndex>): CheckResult[] {
  const fails = results.filter((x) => x.result === 'fail');
  const where = placementText(f);
  if (fails.length === 0) {
    const got = results.length ? `${new Set(results.map((x) => `${x.policy}/${x.rule}`)).size} rule(s) evaluated it, none failed it` : 'no rule of the set evaluated it: its namespace or kind is not selected';
    return [
      atFixture(f, {
        ...base,
        status: 'fail',
        message: `nothing in the set denies ${label(f)} (${got}); the set has no rule named ${f.rule} and no other rule fails it: add a rule that denies it`,
      }),
    ];
  }
  const r = fails[0]!;
  const site = siteOf(index, r);
  const res: Result = { ...base, status: 'pass', message: `${r.policy}/${r.rule} denies ${fixtureId(f.object)} (the fixture names ${f.rule}, which the set does not have; ${where}): ${f.description}` };
  return [site ? atRule(site, res) : atFixture(f, res)];
}

function generatedFor(generated: K8sObject[], ns: K8sObject): K8sObject[] {
  return ns.kind === 'Namespace' ? generated.filter((g) => g.metadata?.namespace === ns.metadata.name) : [];
}

/** A default-deny-all NetworkPolicy: every pod selected, both directions, no allow rule. */
function isDefaultDenyAll(o: K8sObject): string | undefined {
  if (o.kind !== 'NetworkPolicy' || o.apiVersion !== 'networking.k8s.io/v1') return `is ${o.apiVersion} ${o.kind}, not a networking.k8s.io/v1 NetworkPolicy`;
  const spec = (o.spec ?? {}) as { podSelector?: Record<string, unknown>; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] };
  if (!spec.podSelector || Object.keys(spec.podSelector).some((k) => Object.keys((spec.podSelector as Record<string, object>)[k] ?? {}).length > 0)) {
    return 'podSelector does not select every pod (must be {})';
  }
  const types = spec.policyTypes ?? [];
  if (!types.includes('Ingress') || !types.includes('Egress')) return `policyTypes is [${types.join(', ')}], must include Ingress and Egress`;
  if ((spec.ingress?.length ?? 0) > 0 || (spec.egress?.length ?? 0) > 0) return 'it has ingress/egress allow rules (default-deny must have none)';
  return undefined;
}

function generateResults(
  f: Fixture,
  base: Pick<Result, 'check' | 'requirement'>,
  results: RuleResult[],
  generated: K8sObject[],
  index: ReturnType<typeof ruleIndex>,
): CheckResult[] {
  const out: CheckResult[] = [];
  const ns = f.object.metadata.name;
  const genSites = [...index.values()].flatMap((m) => [...m.values()]).filter((s) => s.rule.generate !== undefined);
  if (genSites.length === 0) {
    return [atFixture(f, { ...base, status: 'fail', message: `no Kyverno generate rule in the set: nothing creates default-deny-all in new in-scope namespaces like ${ns} (guide defect 12: use a generate rule with synchronize: true)` })];
  }
  const made = generatedFor(generated, f.object).filter((g) => g.metadata.name === 'default-deny-all');
  const firing = results.filter((r) => r.result === 'pass' && siteOf(index, r)?.rule.generate !== undefined);
  const sites = firing.map((r) => siteOf(index, r)!);
  const blameSites = sites.length ? sites : genSites;
  if (made.length === 0) {
    for (const s of blameSites) out.push(atRule(s, { ...base, status: 'fail', message: `no NetworkPolicy default-deny-all generated for in-scope ${label(f)}; the generate rule must match Namespaces with the scope label` }));
    return out;
  }
  for (const g of made) {
    const why = isDefaultDenyAll(g);
    if (why) for (const s of blameSites) out.push(atRule(s, { ...base, status: 'fail', message: `generated default-deny-all in ${ns} ${why}` }));
  }
  for (const s of sites) {
    const gen = s.rule.generate as Record<string, unknown>;
    if (gen.synchronize !== true) {
      out.push({
        ...at(s.policy, { ...base, status: 'fail', message: `rule ${s.rule.name}: generate.synchronize is not true, so a deleted or edited default-deny-all is never restored; set synchronize: true` }, ['spec', 'rules', s.index, 'generate']),
      });
    }
  }
  if (out.length === 0) {
    for (const s of sites) out.push(atRule(s, { ...base, status: 'pass', message: `generates NetworkPolicy ${ns}/default-deny-all (deny all ingress and egress, synchronize: true) for ${fixtureId(f.object)}: ${f.description}` }));
  }
  return out;
}
