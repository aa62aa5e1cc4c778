import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { setFromTexts } from '../manifests/load.ts';
import { auditAnalyzer, decodeAuditPolicy, evaluateAuditPolicy } from './audit.ts';

const fx = (name: string) => readFileSync(new URL(`./audit/fixtures/${name}`, import.meta.url), 'utf8');
const good = fx('good-audit-policy.yaml');
const guide = fx('guide-audit-policy.yaml');
const expectations = fx('audit-expectations.yaml');
const kind = fx('kind-cluster.yaml');

function set(policy: string, kindText = kind) {
  return setFromTexts({ 'control-plane/audit-policy.yaml': policy, 'spec/audit-expectations.yaml': expectations, 'kind/cluster.yaml': kindText });
}
async function run(policy: string, kindText = kind): Promise<CheckResult[]> {
  return auditAnalyzer.run(set(policy, kindText), {});
}
const fails = (rs: CheckResult[], check: string) => rs.filter((r) => r.check === check && r.status === 'fail');

describe('evaluateAuditPolicy (upstream checker.go semantics)', () => {
  const p = decodeAuditPolicy({
    rules: [
      { level: 'None', users: ['system:kube-proxy'] },
      { level: 'Request', verbs: ['*'] },
      { level: 'RequestResponse', resources: [{ group: '', resources: ['pods/*'] }], omitStages: ['ResponseStarted'] },
      { level: 'Request', resources: [{ group: '', resources: ['*/status'] }] },
      { level: 'Metadata', resources: [{ group: 'apps' }], namespaces: [''] },
      { level: 'Request', nonResourceURLs: ['/metrics*'] },
      { level: 'Metadata', namespaces: ['x'] },
    ],
    omitStages: ['RequestReceived'],
  });
  it('first match wins, verbs are literal, users need a user', () => {
    expect(evaluateAuditPolicy(p, { user: 'system:kube-proxy', verb: 'get', resource: 'pods', namespace: 'a' })).toMatchObject({ level: 'None', ruleIndex: 0 });
    // verbs ["*"] never matches; 401 (no user) skips the users rule
    expect(evaluateAuditPolicy(p, { verb: 'get', resource: 'pods', namespace: 'a' }).ruleIndex).toBe(2);
  });
  it('pods/* matches subresources and the bare resource; */status matches any status; stages union', () => {
    const d = evaluateAuditPolicy(p, { user: 'u', verb: 'get', resource: 'pods', subresource: 'log', namespace: 'a' });
    expect(d).toMatchObject({ level: 'RequestResponse', ruleIndex: 2 });
    expect(d.omitStages.sort()).toEqual(['RequestReceived', 'ResponseStarted']);
    expect(d.stages).toEqual(['ResponseComplete', 'Panic']);
    expect(evaluateAuditPolicy(p, { user: 'u', verb: 'get', resource: 'pods', namespace: 'a' }).ruleIndex).toBe(2);
    expect(evaluateAuditPolicy(p, { user: 'u', verb: 'patch', resource: 'nodes', subresource: 'status' }).ruleIndex).toBe(3);
  });
  it('empty resources list in a group = every resource of the group; namespaces [""] = cluster-scoped only', () => {
    expect(evaluateAuditPolicy(p, { user: 'u', verb: 'list', apiGroup: 'apps', resource: 'deployments' }).ruleIndex).toBe(4);
    expect(evaluateAuditPolicy(p, { user: 'u', verb: 'list', apiGroup: 'apps', resource: 'deployments', namespace: 'y' }).ruleIndex).toBe(-1);
  });
  it('non-resource URLs: trailing * prefix; resource rules never match them; no match = None', () => {
    expect(evaluateAuditPolicy(p, { user: 'u', verb: 'get', nonResourceURL: '/metrics/slis' }).ruleIndex).toBe(5);
    expect(evaluateAuditPolicy(p, { user: 'u', verb: 'get', nonResourceURL: '/healthz' })).toMatchObject({ level: 'None', ruleIndex: -1, omitStages: ['RequestReceived'] });
  });
  it('resourceNames restrict only inside resources[]', () => {
    const q = decodeAuditPolicy({ rules: [{ level: 'RequestResponse', resources: [{ group: '', resources: ['configmaps'], resourceNames: ['a'] }] }] });
    expect(evaluateAuditPolicy(q, { user: 'u', verb: 'update', resource: 'configmaps', namespace: 'n', name: 'a' }).level).toBe('RequestResponse');
    expect(evaluateAuditPolicy(q, { user: 'u', verb: 'update', resource: 'configmaps', namespace: 'n', name: 'b' }).level).toBe('None');
  });
});

describe('auditAnalyzer on a good policy', () => {
  it('passes every check, states the retention cap', async () => {
    const rs = await run(good);
    expect(rs.filter((r) => r.status === 'fail')).toEqual([]);
    for (const c of ['audit.levels', 'audit.no-secret-bodies', 'audit.strict-decoding', 'audit.dead-rules', 'audit.wired']) {
      expect(rs.some((r) => r.check === c && r.status === 'pass'), c).toBe(true);
    }
    expect(rs.filter((r) => r.check === 'audit.levels' && r.status === 'pass' && r.message.startsWith('case '))).toHaveLength(11);
    // the table covers admins and components; every admin request shape is logged
    expect(rs.filter((r) => r.check === 'audit.levels' && r.requirement === '10.2.1.2' && r.message.startsWith('the audit expectations cover'))).toHaveLength(3);
    expect(rs.find((r) => r.message.startsWith('every administrative request tried is logged'))?.message).toMatch(/covering \d+ privileged identities: cluster admin in system:masters/);
    expect(rs.find((r) => r.check === 'audit.wired')?.message).toContain('= 1100 MB');
  });
});

describe('auditAnalyzer on the guide policy catches defects 1-4', () => {
  it('defect 1: secrets at RequestResponse fail no-secret-bodies and the secret-read level case', async () => {
    const rs = await run(guide);
    const leak = fails(rs, 'audit.no-secret-bodies');
    expect(leak.length).toBeGreaterThan(0);
    expect(leak[0]).toMatchObject({ requirement: '8.3.2', file: 'control-plane/audit-policy.yaml' });
    expect(leak.some((r) => r.message.startsWith('rule 0 logs Secret values at RequestResponse'))).toBe(true);
    // tokens fall through to the Metadata catch-all in the guide: only secrets leak, and only via rule 0
    expect(leak).toHaveLength(1);
    const lv = fails(rs, 'audit.levels').find((r) => r.message.includes('secret read in CDE'));
    expect(lv).toMatchObject({ requirement: '10.2.1.1' });
    expect(lv?.message).toContain('rule 0');
  });
  it('defect 2: verbs ["*"] rule matches nothing; anonymous 403 case fails', async () => {
    const rs = await run(guide);
    const dead = fails(rs, 'audit.dead-rules').find((r) => r.message.startsWith('rule 3 matches NO request'));
    expect(dead).toMatchObject({ requirement: '10.2.1.4' });
    const lv = fails(rs, 'audit.levels').find((r) => r.message.includes('no token (403 system:anonymous)'));
    expect(lv).toMatchObject({ requirement: '10.2.1.4' });
    expect(lv?.message).toContain('logged at Metadata, expected Request');
  });
  it('defect 3: rule-level resourceNames is an unknown field, and the kube-system configmap case fails', async () => {
    const rs = await run(guide);
    const strict = fails(rs, 'audit.strict-decoding');
    expect(strict).toHaveLength(1);
    expect(strict[0]?.message).toContain('unknown field "resourceNames" in rule 5');
    const policyLines = guide.split('\n');
    expect(policyLines[(strict[0]?.line ?? 0) - 1]).toContain('resourceNames:');
    const lv = fails(rs, 'audit.levels').find((r) => r.message.includes('other kube-system configmap write'));
    expect(lv?.message).toContain('logged at RequestResponse, expected Metadata; rule 5');
  });
  it('defect 4: exec rule limited to create misses WebSocket exec; bind/escalate are dead verbs', async () => {
    const rs = await run(guide);
    const dead = fails(rs, 'audit.dead-rules');
    expect(dead.find((r) => r.message.startsWith('rule 1 logs pods/exec'))).toMatchObject({ requirement: '10.2.1.2' });
    expect(dead.find((r) => r.message.startsWith('rule 2 lists "bind", "escalate"'))).toBeTruthy();
    expect(fails(rs, 'audit.levels').some((r) => r.message.includes('exec over WebSocket'))).toBe(true);
    expect(fails(rs, 'audit.levels').some((r) => r.message.includes('exec over SPDY'))).toBe(false);
  });
});

describe('auditAnalyzer catches other weakenings', () => {
  it('a catch-all RequestResponse leaks tokens and secrets', async () => {
    const rs = await run(good.replace(/  # Credentials[\s\S]*?tokenreviews"\]\n/, '').replace(/- level: Metadata\n$/, '- level: RequestResponse\n'));
    const leak = fails(rs, 'audit.no-secret-bodies');
    // the catch-all (now rule 4) logs secrets AND tokens at RequestResponse; the anonymous rule (now 2),
    // placed before it, logs anonymous secret writes at Request: order matters
    expect(leak.map((r) => r.message.split(' (')[0]).sort()).toEqual(['rule 2 logs Secret values at Request', 'rule 4 logs Secret values at RequestResponse']);
  });
  it('a group-wide rule (resources: [{group: ""}]) at Request leaks secret bodies', async () => {
    const rs = await run(good.replace('rules:\n', 'rules:\n  - level: Request\n    verbs: [create]\n    resources: [{ group: "" }]\n'));
    expect(fails(rs, 'audit.no-secret-bodies')[0]?.message).toMatch(/^rule 0 logs Secret values at Request \(/);
  });
  it('unknown level, unknown stage, missing level, bad URL are strict-decoding failures', async () => {
    const bad = good.replace('  - RequestReceived\nrules:', '  - RequestRecieved\nrules:').replace('  - level: Metadata\n    resources:', '  - level: Verbose\n    resources:') + '  - nonResourceURLs: ["healthz"]\n';
    const rs = await run(bad);
    const msgs = fails(rs, 'audit.strict-decoding').map((r) => r.message);
    expect(msgs.some((m) => m.includes('unknown stage "RequestRecieved"'))).toBe(true);
    expect(msgs.some((m) => m.includes('level "Verbose"'))).toBe(true);
    expect(msgs.some((m) => m.includes('has no level'))).toBe(true);
    expect(msgs.some((m) => m.includes('must begin with "/"'))).toBe(true);
  });
  it('missing AuditExpectations or Policy fails', async () => {
    const noExp = await auditAnalyzer.run(setFromTexts({ 'control-plane/audit-policy.yaml': good, 'kind/cluster.yaml': kind }), {});
    expect(fails(noExp, 'audit.levels')[0]?.message).toContain('no AuditExpectations');
    const noPolicy = await auditAnalyzer.run(setFromTexts({ 'kind/cluster.yaml': kind }), {});
    expect(fails(noPolicy, 'audit.levels')[0]?.message).toContain('no audit.k8s.io/v1 Policy');
  });
});

describe('audit.levels: administrators\' actions (10.2.1.2)', () => {
  const adminFails = (rs: CheckResult[]) => fails(rs, 'audit.levels').filter((r) => r.requirement === '10.2.1.2' && r.message.startsWith("administrators' actions are not logged"));
  const first = (rule: string) => good.replace('rules:\n', `rules:\n${rule}`);
  it('a None rule for system:masters fails, naming the rule and the identity', async () => {
    const rs = await run(first('  - level: None\n    userGroups: ["system:masters"]\n'));
    const f = adminFails(rs);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('cluster admin in system:masters');
    expect(f[0]?.message).toContain('rule 0 (control-plane/audit-policy.yaml:');
    expect(f[0]?.line).toBe(6);
    // and the table case for the system:masters admin fails too
    expect(fails(rs, 'audit.levels').some((r) => r.message.startsWith('case "cluster admin (system:masters) deletes a secret"'))).toBe(true);
  });
  it('a None rule naming a human user fails even when the table never mentions them', async () => {
    const f = adminFails(await run(first('  - level: None\n    users: ["carol"]\n    verbs: ["delete"]\n')));
    expect(f[0]?.message).toMatch(/request shape\(s\) by user carol, named by a rule get level None, e\.g\. user carol \[system:authenticated\] delete /);
  });
  it('a None rule for every authenticated user outside health endpoints fails; health endpoints may be dropped', async () => {
    expect(adminFails(await run(first('  - level: None\n    userGroups: ["system:authenticated"]\n    resources: [{ group: "" , resources: ["events"] }]\n')))[0]?.message).toContain('an admin known only as authenticated');
    expect(adminFails(await run(first('  - level: None\n    userGroups: ["system:authenticated"]\n    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version"]\n')))).toEqual([]);
  });
  it('an omitStages that leaves no event for admins fails', async () => {
    const f = adminFails(await run(good.replace(/- level: Metadata\n$/, '- level: Metadata\n    omitStages: [ResponseComplete]\n')));
    expect(f[0]?.message).toContain('omitStages [RequestReceived, ResponseComplete] leave no event');
  });
  it('a None rule keyed on a component identity does not silence an admin impersonating it (matched as the impersonator)', async () => {
    expect(adminFails(await run(first('  - level: None\n    users: ["system:kube-controller-manager"]\n')))).toEqual([]);
  });
  it('a cluster-admin binding in the set adds its group to the identities probed and to the table coverage', async () => {
    const binding = 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: { name: ops-admin }\nsubjects: [{ kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io }]\nroleRef: { kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io }\n';
    const s2 = setFromTexts({ 'control-plane/audit-policy.yaml': first('  - level: None\n    userGroups: ["ops"]\n'), 'spec/audit-expectations.yaml': expectations, 'kind/cluster.yaml': kind, 'cluster/rbac.yaml': binding });
    const f = adminFails(await auditAnalyzer.run(s2, {}));
    expect(f[0]?.message).toContain('member of ops (ClusterRoleBinding/ops-admin → cluster-admin)');
  });
  it('a table without admin or component cases fails coverage', async () => {
    const bare = expectations.split('    - name: cluster admin (system:masters)')[0]!;
    const rs = await auditAnalyzer.run(setFromTexts({ 'control-plane/audit-policy.yaml': good, 'spec/audit-expectations.yaml': bare, 'kind/cluster.yaml': kind }), {});
    const msgs = fails(rs, 'audit.levels').map((r) => r.message);
    expect(msgs).toEqual([
      expect.stringContaining('no logged case for a cluster admin in system:masters'),
      expect.stringContaining('no logged case for a member of a group bound to cluster-admin (kubeadm:cluster-admins)'),
    ]);
    // the remaining component case (controller-manager's kube-system configmap write, Metadata) still counts; without it:
    const noComponent = bare.replace(/    - name: other kube-system configmap write[\s\S]*?expectLevel: Metadata\n/, '');
    const rs2 = await auditAnalyzer.run(setFromTexts({ 'control-plane/audit-policy.yaml': good, 'spec/audit-expectations.yaml': noComponent, 'kind/cluster.yaml': kind }), {});
    expect(fails(rs2, 'audit.levels').map((r) => r.message)).toContainEqual(expect.stringContaining('no logged case for a component identity'));
  });
});

describe('audit.wired', () => {
  it('fails without --audit-policy-file, naming the line', async () => {
    const rs = await run(good, kind.replace('            audit-policy-file: /etc/kubernetes/pci/audit-policy.yaml\n', ''));
    expect(fails(rs, 'audit.wired').map((r) => r.message)).toEqual([expect.stringContaining('no --audit-policy-file')]);
  });
  it('fails when the policy is not mounted into the node, or the log dir not into the apiserver', async () => {
    const noNodeMount = kind.replace(/    extraMounts:[\s\S]*?readOnly: true\n  - role: worker/, '  - role: worker');
    expect(fails(await run(good, noNodeMount), 'audit.wired')[0]?.message).toContain('no extraMounts entry');
    const noLogVol = kind.replace(/            - name: audit-log[\s\S]*?DirectoryOrCreate\n    extraMounts/, '    extraMounts');
    const f = fails(await run(good, noLogVol), 'audit.wired');
    expect(f[0]?.message).toContain('--audit-log-path directory /var/log/kubernetes/audit');
    expect(f[0]?.line).toBe(11); // the audit-log-path line inside the patch block
  });
  it('fails when rotation bounds are missing, supports kubeadm v1beta4 list extraArgs', async () => {
    expect(fails(await run(good, kind.replace('            audit-log-maxbackup: "10"\n', '')), 'audit.wired')[0]?.message).toContain('--audit-log-maxbackup is not set');
    const v1beta4 = kind
      .replace('          extraArgs:\n', '          extraArgs:\n            - { name: audit-policy-file, value: /etc/kubernetes/pci/audit-policy.yaml }\n            - { name: audit-log-path, value: /var/log/kubernetes/audit/audit.log }\n            - { name: audit-log-maxsize, value: "50" }\n            - { name: audit-log-maxbackup, value: "3" }\n            - { name: audit-log-maxage, value: "7" }\n')
      .replace(/            audit-[\s\S]*?encryption-provider-config: \S+\n/, '');
    const rs = await run(good, v1beta4);
    expect(fails(rs, 'audit.wired')).toEqual([]);
    expect(rs.find((r) => r.check === 'audit.wired')?.message).toContain('= 200 MB');
  });
  it('fails with no kind config', async () => {
    const rs = await auditAnalyzer.run(setFromTexts({ 'control-plane/audit-policy.yaml': good, 'spec/a.yaml': expectations }), {});
    expect(fails(rs, 'audit.wired')[0]?.message).toContain('no kind Cluster config');
  });
});
