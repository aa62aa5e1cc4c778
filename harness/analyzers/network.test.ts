import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { networkAnalyzer, predictReachability, renderMatrix } from './network.ts';
import { build, deployment, find, netpol, toSet, goodDocs, ns, type Doc } from './network/fixtures.test-helper.ts';
import { parsePolicy } from './network/policy.ts';
import { matchesSelector } from '../k8s/label-selector.ts';
import { isStrictSubset, parseCidr } from './network/cidr.ts';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { loadManifestDir } from '../manifests/load.ts';
import { MUTANTS_NETWORK_REJECTED } from '../../suites/offline/mutants/network.ts';
import { SHIPPED } from '../../suites/offline/cli.ts';
import { setFromTexts } from '../manifests/load.ts';
import { generateLargeSet, type GenerateOptions } from '../../scripts/bench/generate.ts';
import { disagreements, referenceEgress, referenceIngress } from './network/reference.test-helper.ts';

const run = (set: ReturnType<typeof build>) => networkAnalyzer.run(set, {}) as CheckResult[];
const fails = (rs: CheckResult[]) => rs.filter((r) => r.status === 'fail');
const FRONT = 'cluster/netpol-frontend.yaml';
const PROC = 'cluster/netpol-processing.yaml';

describe('network analyzer on a correct set', () => {
  const rs = run(build());
  it('has no failures', () => expect(fails(rs)).toEqual([]));
  it('proves every declared flow and default deny in both directions per namespace', () => {
    const flows = rs.filter((r) => r.check === 'network.reachability' && r.message.startsWith('declared flow'));
    expect(flows).toHaveLength(6);
    const dd = rs.filter((r) => r.check === 'network.default-deny' && r.status === 'pass');
    expect(dd.map((r) => `${r.object}:${r.requirement}`).sort()).toEqual([
      'NetworkPolicy/cde-frontend/default-deny-all:1.3.1',
      'NetworkPolicy/cde-frontend/default-deny-all:1.3.2',
      'NetworkPolicy/cde-processing/default-deny-all:1.3.1',
      'NetworkPolicy/cde-processing/default-deny-all:1.3.2',
    ]);
    const undeclared = rs.filter((r) => r.check === 'network.reachability' && r.message.startsWith('every undeclared'));
    expect(undeclared).toHaveLength(4);
  });
  it('renders a truth table with both allowed and denied cells', () => {
    const table = renderMatrix(predictReachability(build()));
    expect(table).toContain('cde-frontend/payment-api');
    expect(table).toMatch(/ \. /);
    expect(table).toMatch(/ X /);
  });
});

describe('each weakening fails naming its requirement', () => {
  it('default-deny-all missing in one namespace (guide defect 8)', () => {
    const f = fails(run(build((d) => (d[PROC] = (d[PROC] as Doc[]).filter((x) => x.metadata.name !== 'default-deny-all')))));
    const dd = f.filter((r) => r.check === 'network.default-deny');
    expect(dd.map((r) => r.requirement).sort()).toEqual(['1.3.1', '1.3.2']);
    expect(dd[0]?.message).toContain('cde-processing has no NetworkPolicy named default-deny-all');
    expect(dd[0]?.object).toBe('Namespace/cde-processing');
  });

  it('default-deny-all without policyTypes denies ingress only (defaulting)', () => {
    const f = fails(run(build((d) => delete find(d, FRONT, 'default-deny-all').spec.policyTypes)));
    const dd = f.filter((r) => r.check === 'network.default-deny');
    expect(dd).toHaveLength(1);
    expect(dd[0]?.requirement).toBe('1.3.2');
    expect(dd[0]?.message).toContain('omitted policyTypes');
  });

  it('ingress half missing (guide defect 9)', () => {
    const f = fails(run(build((d) => (d[PROC] = (d[PROC] as Doc[]).filter((x) => x.metadata.name !== 'card-processor')))));
    const r = f.find((x) => x.check === 'network.reachability' && x.message.includes('blocked'));
    expect(r?.requirement).toBe('1.3.1');
    expect(r?.message).toContain('cde-processing has no ingress rule admitting cde-frontend/payment-api on 9443/TCP');
    expect(r?.file).toBe(PROC);
  });

  it('egress half missing', () => {
    const f = fails(run(build((d) => delete find(d, FRONT, 'payment-api').spec.egress)));
    const r = f.find((x) => x.check === 'network.reachability');
    expect(r?.message).toContain('cde-frontend has no egress rule admitting cde-processing/card-processor on 9443/TCP');
    expect(r?.requirement).toBe('1.3.1');
  });

  it('AND peer turned into two OR peers makes the policy too broad', () => {
    const f = fails(
      run(
        build((d) => {
          const rule = find(d, PROC, 'card-processor').spec.ingress[0];
          const [peer] = rule.from;
          rule.from = [{ namespaceSelector: peer.namespaceSelector }, { podSelector: peer.podSelector }];
        }),
      ),
    );
    const r = f.find((x) => x.check === 'network.reachability');
    expect(r?.requirement).toBe('1.3.1');
    // the namespaceSelector-only peer admits every pod of cde-frontend, e.g. the unlabelled attacker pod
    expect(r?.message).toContain('cde-frontend/(unlabelled) → cde-processing/card-processor');
    expect(r?.object).toBe('NetworkPolicy/cde-processing/card-processor');
    expect(r?.file).toBe(PROC);
    expect(r?.line).toBeGreaterThan(1);
  });

  it('named port that does not resolve on the destination matches nothing', () => {
    const f = fails(run(build((d) => (find(d, PROC, 'card-processor').spec.ingress[0].ports = [{ port: 'grpcs' }]))));
    expect(f.some((x) => x.message.includes('cde-processing has no ingress rule admitting cde-frontend/payment-api on 9443/TCP'))).toBe(true);
  });

  it('endPort range: inside admits, outside blocks, with a named port is rejected', () => {
    const withPorts = (ports: Doc[]) => run(build((d) => (find(d, PROC, 'card-processor').spec.ingress[0].ports = ports)));
    // inside the range: the flow is allowed; the other 500 ports of the range are over-permission (1.3.1), not a reachability failure
    const inside = fails(withPorts([{ port: 9000, endPort: 9500 }]));
    expect(inside.map((x) => `${x.check}[${x.requirement}]`)).toEqual(['netpol.over-permission[1.3.1]']);
    expect(inside[0]?.message).toContain('port range 9000-9500/TCP admits 500 port(s) no declared flow uses (declared: 9443)');
    expect(inside[0]?.file).toBe(PROC);
    expect(fails(withPorts([{ port: 9000, endPort: 9400 }])).some((x) => x.message.includes('no ingress rule'))).toBe(true);
    const bad = fails(withPorts([{ port: 'grpc', endPort: 9500 }]));
    expect(bad.find((x) => x.check === 'network.policy-valid')?.message).toContain('endPort may only be set with a numeric port');
  });

  it('UDP rule does not admit TCP (protocol defaults to TCP)', () => {
    const f = fails(run(build((d) => (find(d, PROC, 'card-processor').spec.ingress[0].ports = [{ port: 9443, protocol: 'UDP' }]))));
    expect(f.some((x) => x.message.includes('no ingress rule'))).toBe(true);
  });

  it('ipBlock except outside cidr is invalid (and the policy does not exist)', () => {
    const f = fails(
      run(
        build((d) =>
          d[FRONT]?.push(
            netpol('cde-frontend', 'egress-psp', {
              podSelector: { matchLabels: { app: 'payment-api' } },
              policyTypes: ['Egress'],
              egress: [{ to: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['203.0.113.0/24'] } }], ports: [{ port: 443 }] }],
            }),
          ),
        ),
      ),
    );
    const r = f.find((x) => x.check === 'network.ipblock');
    expect(r?.requirement).toBe('1.2.1');
    expect(r?.message).toContain('not a strict subset');
    expect(r?.object).toBe('NetworkPolicy/cde-frontend/egress-psp');
  });

  it('ipBlock egress to the internet is an undeclared outbound flow (1.3.2); except covering it is not', () => {
    const egressTo = (ipBlock: Doc) =>
      run(
        build((d) =>
          d[FRONT]?.push(
            netpol('cde-frontend', 'egress-internet', { podSelector: { matchLabels: { app: 'payment-api' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock }], ports: [{ port: 443 }] }] }),
          ),
        ),
      );
    const open = fails(egressTo({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }));
    const r = open.find((x) => x.check === 'network.reachability');
    expect(r?.requirement).toBe('1.3.2');
    expect(r?.message).toContain('cde-frontend/payment-api → external:203.0.113.10');
    expect(r?.message).toContain('NetworkPolicy cde-frontend/egress-internet');
    // excepting the internet address but not the pod network still reaches every pod (Calico matches pod IPs; the model keeps that wider reading)
    const podsToo = fails(egressTo({ cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] }));
    expect(podsToo.find((x) => x.check === 'network.reachability')?.message).toContain('cde-frontend/payment-api → default/attacker');
    // excepting both: no undeclared flow exists today; the rule itself is still an undeclared destination (over-permission, 1.3.2)
    const closed = egressTo({ cidr: '0.0.0.0/0', except: ['203.0.113.0/24', '10.0.0.0/8'] });
    expect(fails(closed).map((x) => `${x.check}[${x.requirement}]`)).toEqual(['netpol.over-permission[1.3.2]']);
    expect(closed.some((x) => x.check === 'network.ipblock' && x.status === 'pass' && x.message.includes('holds no pod or Service address'))).toBe(true);
  });

  it('policyTypes omitted with egress rules still isolates egress (defaulting adds Egress)', () => {
    // replace the frontend default-deny with one whose egress half comes only from defaulting
    const f = fails(
      run(
        build((d) => {
          const p = find(d, FRONT, 'payment-api');
          delete p.spec.policyTypes;
          d[FRONT] = (d[FRONT] as Doc[]).filter((x) => x.metadata.name !== 'allow-dns');
        }),
      ),
    );
    // egress still isolated by payment-api's own (defaulted) Egress type: DNS is now blocked, nothing else opens
    expect(f.every((x) => x.check === 'network.reachability')).toBe(true);
    expect(f.some((x) => x.message.includes('kube-system/kube-dns:53/UDP is blocked'))).toBe(true);
    expect(f.some((x) => x.message.startsWith('undeclared'))).toBe(false);
  });

  it('allowed but undeclared flow names the policy and line', () => {
    const f = fails(
      run(
        build((d) =>
          d[PROC]?.push(netpol('cde-processing', 'oops', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }] }] })),
        ),
      ),
    );
    const r = f.find((x) => x.check === 'network.reachability' && x.message.includes('default/attacker'));
    expect(r?.requirement).toBe('1.3.1');
    expect(r?.object).toBe('NetworkPolicy/cde-processing/oops');
    expect(r?.message).toMatch(/NetworkPolicy cde-processing\/oops \(ingress\.0, cluster\/netpol-processing\.yaml:\d+\)/);
  });

  it('missing FlowTable fails clearly instead of crashing', () => {
    const f = fails(run(build((d) => delete d['spec/flows.yaml'])));
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('no FlowTable');
  });

  it('a flow naming an unknown workload fails', () => {
    const f = fails(run(build((d) => (d['spec/flows.yaml']?.[0] as Doc).spec.flows.push({ from: { namespace: 'cde-frontend', workload: 'nope' }, to: { namespace: 'cde-processing', workload: 'card-processor' }, port: 9443, requirement: '1.3.1' }))));
    expect(f[0]?.message).toContain('cde-frontend/nope, which is no workload');
  });
});

describe('NetworkPolicy validation: selectors as the apiserver validates them', () => {
  const withSelector = (where: 'pod' | 'peer', sel: Doc) =>
    fails(
      run(
        build((d) => {
          const p = find(d, PROC, 'card-processor');
          if (where === 'pod') p.spec.podSelector = sel;
          else p.spec.ingress[0].from[0].podSelector = sel;
        }),
      ),
    ).filter((x) => x.check === 'network.policy-valid');
  it.each([
    ['pod', { matchLabels: { 'bad key': 'card-processor' } }, 'label key "bad key"'],
    ['pod', { matchLabels: { 'Example.com/app': 'x' } }, 'prefix part must be a lowercase RFC 1123 subdomain'],
    ['pod', { matchLabels: { 'a/b/c': 'x' } }, 'at most one "/"'],
    ['peer', { matchLabels: { app: 'payment api' } }, 'label value "payment api"'],
    ['peer', { matchLabels: { app: 'x'.repeat(64) } }, 'no more than 63 characters'],
    ['peer', { matchExpressions: [{ key: 'app', operator: 'In' }] }, "values must be specified when operator is 'In' or 'NotIn'"],
    ['peer', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }, 'may not be specified'],
    ['peer', { matchExpressions: [{ key: 'app', operator: 'in', values: ['x'] }] }, 'is not a valid selector operator'],
    ['peer', { matchExpressions: [{ key: 'app', operator: 'In', values: ['-x'] }] }, 'values[0]: label value "-x"'],
    ['pod', { matchLabels: { app: 1 } }, 'is not a string'],
  ] as const)('%s selector %j is rejected', (where, sel, text) => {
    const f = withSelector(where, sel);
    expect(f).toHaveLength(1);
    expect(f[0]?.requirement).toBe('1.2.1');
    expect(f[0]?.message).toContain(text);
    expect(f[0]?.file).toBe(PROC);
    expect(f[0]?.line).toBeGreaterThan(1);
  });
  it('valid keys and values are accepted (prefix, dots, underscores, empty value)', () => {
    expect(withSelector('peer', { matchLabels: { app: 'payment-api', 'app.kubernetes.io/part-of': 'a_b.c', 'x.example.com/empty': '' } })).toEqual([]);
  });
  it('an omitted podSelector is the empty selector (networking/v1 1.34: optional), not an error', () => {
    const set = toSet({ 'a.yaml': [ns('x', false), netpol('x', 'p', { policyTypes: ['Ingress'] })] });
    const r = parsePolicy(set.objects[1]!, 0);
    expect(r.errors).toEqual([]);
    expect(r.policy?.podSelector).toEqual({});
  });
});

describe('ipBlock and the cluster network (pod and Service CIDRs)', () => {
  const egress = (ipBlock: Doc, ports: Doc[] | undefined = [{ port: 80 }], extra?: (d: Record<string, Doc[]>) => void) =>
    run(
      build((d) => {
        d[FRONT]?.push(netpol('cde-frontend', 'egress-block', { podSelector: { matchLabels: { app: 'payment-api' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock }], ...(ports ? { ports } : {}) }] }));
        extra?.(d);
      }),
    );
  it('egress to ipBlock 10.0.0.0/8 reaches the pods in the pod network (was: reaches nothing)', () => {
    const f = fails(egress({ cidr: '10.0.0.0/8' }));
    const r = f.find((x) => x.check === 'network.reachability');
    expect(r?.requirement).toBe('1.3.2');
    expect(r?.message).toContain('cde-frontend/payment-api → default/attacker');
    expect(r?.message).toContain('NetworkPolicy cde-frontend/egress-block');
  });
  it('an ipBlock holding only the outside world reaches no pod', () => {
    const f = fails(egress({ cidr: '203.0.113.0/24' }, [{ port: 443 }]));
    expect(f.find((x) => x.check === 'network.reachability')?.message).toContain('external:203.0.113.10');
    expect(f.some((x) => x.check === 'network.reachability' && x.message.includes('default/attacker'))).toBe(false);
  });
  it('an ipBlock holding part of the pod network cannot be proven (network.ipblock)', () => {
    const r = fails(egress({ cidr: '10.244.3.0/24' })).find((x) => x.check === 'network.ipblock');
    expect(r?.requirement).toBe('1.2.1');
    expect(r?.message).toContain('holds part of the pod network 10.244.0.0/16');
  });
  it('except that removes the whole pod and Service networks removes the pods', () => {
    const rs = egress({ cidr: '10.0.0.0/8', except: ['10.244.0.0/16', '10.96.0.0/16'] });
    expect(fails(rs).some((x) => x.check === 'network.reachability')).toBe(false);
  });
  it('the ScopeDeclaration spec.clusterNetwork overrides kind: a pod network elsewhere', () => {
    const declare = (d: Record<string, Doc[]>) => ((d['spec/scope.yaml']?.[0] as Doc).spec.clusterNetwork = { podCIDRs: ['172.20.0.0/16'], serviceCIDRs: ['172.21.0.0/16'] });
    expect(fails(egress({ cidr: '10.0.0.0/8' }, [{ port: 80 }], declare)).some((x) => x.check === 'network.reachability')).toBe(false);
    expect(fails(egress({ cidr: '172.16.0.0/12' }, [{ port: 80 }], declare)).some((x) => x.check === 'network.reachability' && x.message.includes('default/attacker'))).toBe(true);
  });
  it('a declared cluster network holding the outside-world address is reported', () => {
    const f = fails(run(build((d) => ((d['spec/scope.yaml']?.[0] as Doc).spec.clusterNetwork = { podCIDRs: ['203.0.113.0/24'] }))));
    expect(f.find((x) => x.check === 'network.ipblock')?.message).toContain('holds 203.0.113.10');
  });
  it('the cluster network comes from the kind config (podSubnet; serviceSubnet defaulted by kind)', () => {
    const m = predictReachability(build((d) => (d['kind/cluster.yaml'] = [{ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', networking: { podSubnet: '10.200.0.0/16' } }])));
    expect(m.model.network.podCIDRs.map((c) => c.text)).toEqual(['10.200.0.0/16']);
    expect(m.model.network.serviceCIDRs.map((c) => c.text)).toEqual(['10.96.0.0/16']);
  });
});

describe('netpol.over-permission: rules wider than the flow table, even where no pod listens', () => {
  const over = (mutate: (d: Record<string, Doc[]>) => void) => fails(run(build(mutate))).filter((x) => x.check === 'netpol.over-permission');
  it('passes on the correct set, both directions of every CDE namespace', () => {
    const ok = run(build()).filter((x) => x.check === 'netpol.over-permission');
    expect(ok.every((x) => x.status === 'pass')).toBe(true);
    expect(ok.map((x) => x.requirement).sort()).toEqual(['1.3.1', '1.3.1', '1.3.2', '1.3.2']);
  });
  it('all ports (no ports list) on an ingress rule into the CDE: 1.3.1, and reachability stays green', () => {
    const set = build((d) => delete find(d, PROC, 'card-processor').spec.ingress[0].ports);
    const f = fails(run(set));
    expect(f.map((x) => `${x.check}[${x.requirement}]`)).toEqual(['netpol.over-permission[1.3.1]']);
    expect(f[0]?.message).toContain('every port of every protocol');
  });
  it('a protocol without a port on egress out of the CDE: 1.3.2', () => {
    const f = over((d) => (find(d, FRONT, 'payment-api').spec.egress[0].ports = [{ protocol: 'TCP' }]));
    expect(f[0]?.requirement).toBe('1.3.2');
    expect(f[0]?.message).toContain('every TCP port');
  });
  it('a peer in every namespace with the right pod labels (no such pod elsewhere today)', () => {
    const f = over((d) => (find(d, PROC, 'card-processor').spec.ingress[0].from[0].namespaceSelector = {}));
    expect(f[0]?.message).toContain('chooses namespaces by labels other than kubernetes.io/metadata.name');
  });
  it('a peer selecting a workload that does not exist yet', () => {
    const f = over((d) => find(d, PROC, 'card-processor').spec.ingress[0].from.push({ podSelector: { matchLabels: { app: 'debug-shell' } } }));
    expect(f[0]?.message).toContain('matches no declared source of this rule');
  });
  it('an egress rule serving no declared flow', () => {
    const f = over((d) => find(d, FRONT, 'payment-api').spec.egress.push({ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } }, podSelector: { matchLabels: { app: 'ingress-controller' } } }], ports: [{ port: 8080 }] }));
    expect(f[0]?.message).toContain('it serves no declared flow');
    expect(f[0]?.requirement).toBe('1.3.2');
  });
});

describe('semantics units', () => {
  it('label selector operators', () => {
    const l = { app: 'a', tier: 'x' };
    expect(matchesSelector({}, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] }, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['a'] }] }, l)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(matchesSelector({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['y'] }] }, l)).toBe(false);
  });

  it('cidr strict subset', () => {
    const c = (s: string) => parseCidr(s) as NonNullable<ReturnType<typeof parseCidr>>;
    expect(isStrictSubset(c('10.1.0.0/16'), c('10.0.0.0/8'))).toBe(true);
    expect(isStrictSubset(c('10.0.0.0/8'), c('10.0.0.0/8'))).toBe(false);
    expect(isStrictSubset(c('11.0.0.0/16'), c('10.0.0.0/8'))).toBe(false);
    expect(isStrictSubset(c('fd00:1::/32'), c('fd00::/16'))).toBe(true);
    expect(parseCidr('300.0.0.0/8')).toBeUndefined();
  });

  it('policyTypes defaulting: Egress only with egress rules', () => {
    const set = toSet({
      'a.yaml': [ns('x', false), netpol('x', 'p1', { podSelector: {}, egress: [{}] }), netpol('x', 'p2', { podSelector: {}, egress: [] })],
    });
    const [p1, p2] = set.objects.slice(1).map((o, i) => parsePolicy(o, i).policy);
    expect(p1?.effectiveTypes).toEqual(['Ingress', 'Egress']);
    expect(p2?.effectiveTypes).toEqual(['Ingress']);
  });

  it('fast verdicts agree with the rule-by-rule explanation on every cell', () => {
    const m = predictReachability(build());
    let n = 0;
    for (const c of m.cells()) {
      const e = m.explain(c.from.id, c.to.id, { port: c.port, protocol: c.protocol as 'TCP', ...(c.portName ? { name: c.portName } : {}) });
      expect(e.allowed, `${c.from.label} → ${c.to.label}:${c.port}`).toBe(c.allowed);
      n++;
    }
    expect(n).toBe(m.cellCount);
    expect(m.allowedCells().length).toBe([...m.cells()].filter((c) => c.allowed).length);
  });

  // Speed at 5,000 pods / 1,000 policies is measured by scripts/bench.ts, not asserted here.
  it('groups identical pods into one equivalence class', () => {
    const docs: Record<string, Doc[]> = goodDocs();
    const extra: Doc[] = [ns('team-a', false)];
    for (let i = 0; i < 300; i++) {
      const d = deployment('team-a', `w${i}`, [{ containerPort: 8000 + ((i % 10) % 3), name: 'http' }]);
      d.spec.template.metadata.labels = { app: `app-${i % 10}` };
      extra.push(d);
    }
    docs['cluster/scale.yaml'] = extra;
    const m = predictReachability(toSet(docs));
    // app-k always gets port 8000 + (k mod 3): 10 distinct (labels, ports) combinations.
    const teamClasses = m.endpoints.filter((e) => e.namespace === 'team-a' && e.members.some((x) => x.kind === 'workload'));
    expect(teamClasses).toHaveLength(10);
    expect(teamClasses.reduce((n, e) => n + e.members.length, 0)).toBe(300);
  });
});

// Mutants the apiserver rejects cannot be replayed live (kubectl fails), so they run here, on a copy of the shipped set.
describe('mutants the apiserver rejects (suites/offline/mutants/network.ts MUTANTS_NETWORK_REJECTED)', () => {
  it.each(MUTANTS_NETWORK_REJECTED.map((m) => [m.id, m] as const))('%s is KILLED naming its requirement and file:line', (_id, m) => {
    const dir = mkdtempSync(join(tmpdir(), `pci-mutant-${m.id}-`));
    try {
      cpSync(SHIPPED, dir, { recursive: true });
      const path = join(dir, m.file);
      const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS()).filter((d) => d != null);
      writeFileSync(path, m.mutate(structuredClone(docs)).map((d) => stringify(d)).join('---\n'));
      const f = fails(networkAnalyzer.run(loadManifestDir(dir), {}) as CheckResult[]);
      const hit = f.find((r) => r.check === m.check && r.requirement === m.requirement);
      expect(hit, f.map((r) => `${r.check}[${r.requirement}] ${r.message}`).join('\n')).toBeDefined();
      expect(hit?.file).toBe(m.file);
      expect(hit?.line).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The fast engine (classes, cached peers, bitsets, per-group memo) against the naive reference
// (network/reference.test-helper.ts: every cell, rule by rule) on the shipped set and generated clusters.
describe('network: the fast engine agrees with the naive reference engine', () => {
  const generated = (o: Partial<GenerateOptions>) => setFromTexts(generateLargeSet({ pods: 300, policies: 60, bindings: 0, apps: 30, namespaces: 20, ...o }));
  const cases: Array<[string, () => ReturnType<typeof build>]> = [
    ['the shipped set', () => loadManifestDir(SHIPPED)],
    ['the fixture set', () => build()],
    ['a generated cluster (300 pods, 60 policies)', () => generated({})],
    ['a generated cluster, other seed, more policies than apps', () => generated({ seed: 7, policies: 100, apps: 20 })],
  ];
  it.each(cases)('every cell of %s: ingress half, egress half and verdict identical', (_name, load) => {
    const m = predictReachability(load());
    const { cells, diffs } = disagreements(m);
    expect(diffs).toEqual([]);
    expect(cells).toBe(m.cellCount);
    expect(cells).toBeGreaterThan(100);
  });

  it('undeclared pod pairs are counted as the pod × pod loop counts them, declared pairs (and a pod with itself) excluded', () => {
    const texts = generateLargeSet({ pods: 300, policies: 60, bindings: 0, apps: 30, namespaces: 20 });
    // Declare a few flows between replicas so the subtraction is exercised: svc-k-r → svc-j-r on the destination's port.
    const docs = parseAllDocuments(texts['pods.yaml'] as string).map((d) => d.toJS() as Doc);
    const pods = docs.map((p) => ({ ns: p.metadata.namespace as string, name: p.metadata.name as string, port: (p.spec.containers[0].ports[0].containerPort as number) }));
    const flows = [0, 1, 2, 3, 30, 31, 60, 90].map((k) => ({ from: { namespace: pods[k]!.ns, workload: pods[k]!.name }, to: { namespace: pods[k + 1]!.ns, workload: pods[k + 1]!.name }, port: pods[k + 1]!.port, requirement: '1.3.1' }));
    texts['spec.yaml'] = (texts['spec.yaml'] as string).replace('flows: []', `flows: ${JSON.stringify(flows)}`);
    const set = setFromTexts(texts);
    const m = predictReachability(set);
    const declared = new Set(flows.map((f) => `${f.from.namespace}/${f.from.workload}>${f.to.namespace}/${f.to.workload}:${f.port}/TCP`));
    // Reference: every cell the analyzer looks at (into or out of the CDE, the CDE-side half admitting), pod by pod.
    const cells = new Set<string>();
    let want = 0;
    const count = (s: (typeof m.endpoints)[number], d: (typeof m.endpoints)[number], i: number) => {
      if ((s.external && d.external) || cells.has(`${s.id}>${d.id}:${i}`)) return;
      cells.add(`${s.id}>${d.id}:${i}`);
      const p = d.ports[i]!;
      for (const a of s.members) for (const b of d.members) if (a !== b && !declared.has(`${a.namespace}/${a.name}>${b.namespace}/${b.name}:${p.port}/${p.protocol}`)) want++;
    };
    for (const d of m.endpoints) if (d.inScope) d.ports.forEach((_, i) => m.endpoints.forEach((s) => referenceIngress(m, s.id, d.id, i) && count(s, d, i)));
    for (const s of m.endpoints) if (s.inScope) m.endpoints.forEach((d) => d.ports.forEach((_, i) => referenceEgress(m, s.id, d.id, i) && count(s, d, i)));
    const rs = (networkAnalyzer.run(set, {}) as CheckResult[]).filter((r) => r.check === 'network.reachability' && r.status === 'fail' && /^(undeclared flow allowed|(ingress|egress) rule too broad) on /.test(r.message));
    let got = 0;
    for (const r of rs) {
      const start = r.message.indexOf(': ') + 2; // the head may hold parentheses, the pairs do not
      const listed = r.message.slice(start, r.message.indexOf(' (', start));
      const more = /, and (\d+) more$/.exec(listed);
      const shown = (more ? listed.slice(0, more.index) : listed).split(', ');
      for (const pair of shown) expect(declared.has(pair.replace(' → ', '>')), pair).toBe(false);
      got += shown.length + (more ? Number(more[1]) : 0);
    }
    expect(declared.size).toBe(8);
    expect(want).toBeGreaterThan(1000);
    expect(got).toBe(want);
  });
});
