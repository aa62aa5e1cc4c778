import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CheckResult } from '../check/types.ts';
import { setFromTexts } from '../manifests/load.ts';
import { podSecurityAnalyzer } from './pod-security.ts';

type Doc = Record<string, any>;
const PSA = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'v1.34',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'v1.34',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'v1.34',
};
const goodContainer = (name: string) => ({
  name,
  image: 'registry.local/x:1',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
});

function docs(): Record<string, Doc[]> {
  return {
    'ns.yaml': [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cde-processing', labels: { 'pci-scope': 'in-scope', ...PSA } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } },
    ],
    'w.yaml': [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'card-processor', namespace: 'cde-processing' },
        spec: {
          selector: { matchLabels: { app: 'card-processor' } },
          template: {
            metadata: { labels: { app: 'card-processor' } },
            spec: {
              securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
              initContainers: [goodContainer('init')],
              containers: [{ ...goodContainer('app'), ports: [{ containerPort: 9443 }] }],
              volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'debug-target', namespace: 'cde-processing' },
        spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [goodContainer('app')] },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'report', namespace: 'tools' },
        spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'r', image: 'registry.local/r:1' }] } } } } },
      },
    ],
    'spec.yaml': [
      {
        apiVersion: 'pci-harness.dev/v1alpha1',
        kind: 'ScopeDeclaration',
        metadata: { name: 'scope' },
        spec: { scopeLabel: { 'pci-scope': 'in-scope' }, namespaces: ['cde-processing'], podSecurityVersion: 'v1.34', cdeNodes: { label: { 'pci-scope': 'in-scope' }, taint: { key: 'k', value: 'v', effect: 'NoSchedule' } } },
      },
    ],
  };
}

function run(mutate?: (d: Record<string, Doc[]>) => void): CheckResult[] {
  const d = docs();
  mutate?.(d);
  const set = setFromTexts(Object.fromEntries(Object.entries(d).map(([f, ds]) => [f, ds.map((x) => stringify(x)).join('---\n')])));
  return podSecurityAnalyzer.run(set, {}) as CheckResult[];
}
const fails = (rs: CheckResult[]) => rs.filter((r) => r.status === 'fail');
const deploy = (d: Record<string, Doc[]>) => (d['w.yaml'] as Doc[])[0] as Doc;
const podSpec = (d: Record<string, Doc[]>) => deploy(d).spec.template.spec;
const ns = (d: Record<string, Doc[]>) => (d['ns.yaml'] as Doc[])[0] as Doc;

describe('pod-security analyzer', () => {
  it('passes a restricted-compliant set', () => {
    const rs = run();
    expect(fails(rs)).toEqual([]);
    expect(rs.filter((r) => r.check === 'pod-security.restricted' && r.status === 'pass')).toHaveLength(2);
    expect(rs.filter((r) => r.check === 'pod-security.namespace-labels' && r.status === 'pass')).toHaveLength(4) // scope label + enforce, audit, warn;
    expect(rs.find((r) => r.check === 'pod-security.enforced')?.status).toBe('pass'); // baseline in tools
  });

  it('privileged ephemeral container (kubectl debug --profile=sysadmin, guide defect 15)', () => {
    const f = fails(
      run((d) => {
        ((d['w.yaml'] as Doc[])[1] as Doc).spec.ephemeralContainers = [{ ...goodContainer('debugger'), securityContext: { ...goodContainer('x').securityContext, privileged: true } }];
      }),
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ check: 'pod-security.restricted', requirement: '2.2.1', object: 'Pod/cde-processing/debug-target', file: 'w.yaml' });
    expect(f[0]?.message).toContain('ephemeralContainers/debugger: securityContext.privileged=true is forbidden');
  });

  it('runAsNonRoot only at pod level, overridden false in a container', () => {
    const f = fails(run((d) => (podSpec(d).containers[0].securityContext.runAsNonRoot = false)));
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('containers/app: runAsNonRoot=false is forbidden');
    expect(f[0]?.line).toBeGreaterThan(1);
  });

  it('runAsNonRoot missing at pod level flags every container, init containers included (guide defect 14)', () => {
    const f = fails(run((d) => delete podSpec(d).securityContext.runAsNonRoot));
    expect(f.map((r) => r.message.split(': ')[0]?.split(' ').pop()).sort()).toEqual(['containers/app', 'initContainers/init']);
  });

  it('init container running as root', () => {
    const f = fails(run((d) => (podSpec(d).initContainers[0].securityContext.runAsUser = 0)));
    expect(f[0]?.message).toContain('initContainers/init: runAsUser=0');
  });

  it('seccomp missing', () => {
    const f = fails(run((d) => delete podSpec(d).securityContext.seccompProfile));
    expect(f.map((r) => r.message)).toEqual(expect.arrayContaining([expect.stringContaining('seccompProfile.type must be RuntimeDefault or Localhost')]));
    expect(f).toHaveLength(2);
  });

  it('seccomp Unconfined in one container despite pod-level RuntimeDefault', () => {
    const f = fails(run((d) => (podSpec(d).containers[0].securityContext.seccompProfile = { type: 'Unconfined' })));
    expect(f.map((r) => r.message).join('\n')).toContain('seccompProfile.type Unconfined is forbidden');
  });

  it('capabilities: drop ALL missing, NET_ADMIN added; allowPrivilegeEscalation unset', () => {
    const f = fails(
      run((d) => {
        podSpec(d).containers[0].securityContext = { capabilities: { add: ['NET_ADMIN'] } };
      }),
    );
    const text = f.map((r) => r.message).join('\n');
    expect(text).toContain('capabilities.drop must include ALL');
    expect(text).toContain('capability NET_ADMIN may not be added');
    // From v1.22 capabilities_restricted replaces capabilities_baseline (registry.go OverrideCheckIDs): reported once.
    expect(text).not.toContain('is not in the baseline set');
    expect(text).toContain('allowPrivilegeEscalation must be false');
  });

  it('hostPath volume, hostNetwork, hostPort, unsafe sysctl', () => {
    const f = fails(
      run((d) => {
        const s = podSpec(d);
        s.volumes.push({ name: 'logs', hostPath: { path: '/var/log' } });
        s.hostNetwork = true;
        s.containers[0].ports[0].hostPort = 9443;
        s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }];
      }),
    );
    const ids = f.map((r) => /check (\w+)\)/.exec(r.message)?.[1]).sort();
    // restrictedVolumes replaces hostPathVolumes at restricted, as upstream reports it.
    expect(ids).toEqual(['hostNamespaces', 'hostPorts', 'restrictedVolumes', 'sysctls']);
  });

  it('PSA version latest fails namespace-labels', () => {
    const f = fails(run((d) => (ns(d).metadata.labels['pod-security.kubernetes.io/enforce-version'] = 'latest')));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ check: 'pod-security.namespace-labels', requirement: '2.2.1', object: 'Namespace/cde-processing' });
    expect(f[0]?.message).toContain('enforce-version is "latest"');
  });

  it('a malformed version label (v1.034) is not a pin: admission reads it as latest', () => {
    const f = fails(run((d) => (ns(d).metadata.labels['pod-security.kubernetes.io/audit-version'] = 'v1.034')));
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('audit-version is "v1.034" (malformed, so admission uses latest');
  });

  it('enforce baseline, audit label missing', () => {
    const f = fails(
      run((d) => {
        ns(d).metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
        delete ns(d).metadata.labels['pod-security.kubernetes.io/audit'];
      }),
    );
    expect(f.map((r) => r.message).sort()).toEqual([
      'namespace cde-processing: pod-security.kubernetes.io/audit is missing (must be restricted)',
      'namespace cde-processing: pod-security.kubernetes.io/enforce is "baseline" (must be restricted)',
    ]);
  });

  it('a namespace labelled in scope (not listed in the ScopeDeclaration) is in scope', () => {
    const f = fails(run((d) => (d['ns.yaml'] as Doc[])[1]!.metadata.labels['pci-scope'] = 'in-scope'));
    expect(f.some((r) => r.check === 'pod-security.namespace-labels' && r.message.startsWith('namespace tools'))).toBe(true);
    expect(f.some((r) => r.check === 'pod-security.restricted' && r.object === 'CronJob/tools/report')).toBe(true);
  });

  it('out-of-scope workload violating the level its namespace enforces', () => {
    const f = fails(run((d) => ((d['w.yaml'] as Doc[])[2] as Doc).spec.jobTemplate.spec.template.spec.containers[0].securityContext = { privileged: true }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ check: 'pod-security.enforced', object: 'CronJob/tools/report' });
  });
});

describe('scope label', () => {
  it('a declared CDE namespace without the scope label fails namespace-labels naming 2.2.1', () => {
    const rs = run((d) => {
      for (const doc of Object.values(d).flat() as Doc[]) if (doc.kind === 'Namespace' && doc.metadata.labels?.['pci-scope']) delete doc.metadata.labels['pci-scope'];
    });
    const f = fails(rs).filter((r) => r.check === 'pod-security.namespace-labels');
    expect(f.some((r) => r.requirement === '2.2.1' && /lacks the scope label pci-scope=in-scope/.test(r.message))).toBe(true);
  });
});

describe('upstream semantics (k8s.io/pod-security-admission v0.34)', () => {
  const tools = (d: Record<string, Doc[]>) => ((d['w.yaml'] as Doc[])[2] as Doc).spec.jobTemplate.spec.template.spec;
  const toolsNs = (d: Record<string, Doc[]>) => (d['ns.yaml'] as Doc[])[1] as Doc;

  it('hostProbesAndHostLifecycle (v1.34): a probe or lifecycle handler aimed at a host fails baseline', () => {
    const f = fails(
      run((d) => {
        const c = podSpec(d).containers[0];
        c.livenessProbe = { httpGet: { host: '169.254.169.254', path: '/latest/meta-data/', port: 80 } };
        c.lifecycle = { preStop: { tcpSocket: { host: '10.0.0.1', port: 22 } } };
      }),
    );
    expect(f.map((r) => r.message)).toEqual([
      expect.stringContaining('livenessProbe.httpGet.host 169.254.169.254 is forbidden'),
      expect.stringContaining('lifecycle.preStop.tcpSocket.host 10.0.0.1 is forbidden'),
    ]);
    expect(f[0]?.message).toContain('check hostProbesAndHostLifecycle');
    expect(f[0]?.line).toBeGreaterThan(1);
    // An empty host is the pod's own IP: allowed.
    expect(fails(run((d) => (podSpec(d).containers[0].readinessProbe = { httpGet: { host: '', port: 9443 } })))).toEqual([]);
  });

  it('the probe host check exists only from v1.34: a namespace pinned at v1.33 admits it', () => {
    const probe = (d: Record<string, Doc[]>) => (tools(d).containers[0].livenessProbe = { tcpSocket: { host: '169.254.169.254', port: 80 } });
    expect(fails(run(probe)).map((r) => r.check)).toEqual(['pod-security.enforced']);
    const f = fails(
      run((d) => {
        probe(d);
        toolsNs(d).metadata.labels['pod-security.kubernetes.io/enforce-version'] = 'v1.33';
      }),
    );
    expect(f).toEqual([]);
  });

  it('a volume with no source is defaulted to emptyDir by the apiserver: allowed under restricted', () => {
    expect(fails(run((d) => podSpec(d).volumes.push({ name: 'scratch' })))).toEqual([]);
    // ... but a real source is still judged (nfs is not in the restricted list).
    const f = fails(run((d) => podSpec(d).volumes.push({ name: 'share', nfs: { server: 'nfs', path: '/' } })));
    expect(f[0]?.message).toContain('volume share uses nfs volume type');
  });

  it('image volumes are allowed under restricted', () => {
    expect(fails(run((d) => podSpec(d).volumes.push({ name: 'model', image: { reference: 'registry.local/model:1' } })))).toEqual([]);
  });

  it('an empty AppArmor annotation is allowed; unconfined is not', () => {
    const ann = (v: string) => (d: Record<string, Doc[]>) => (deploy(d).spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': v });
    expect(fails(run(ann('')))).toEqual([]);
    expect(fails(run(ann('unconfined')))[0]?.message).toContain('check appArmorProfile');
  });

  it('enforce-version decides the rules: a sysctl safe from v1.29 is rejected in a namespace pinned at v1.28', () => {
    const sysctl = (d: Record<string, Doc[]>) => (tools(d).securityContext = { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }] });
    expect(fails(run(sysctl))).toEqual([]); // tools has no version label: latest = v1.34
    const f = fails(
      run((d) => {
        sysctl(d);
        toolsNs(d).metadata.labels['pod-security.kubernetes.io/enforce-version'] = 'v1.28';
      }),
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ check: 'pod-security.enforced', requirement: '2.2.1', object: 'CronJob/tools/report' });
    expect(f[0]?.message).toContain('enforces baseline v1.28');
  });

  it('restricted at v1.21 has no capabilities rule, v1.22 has; runAsUser arrives in v1.23', () => {
    const setup = (version: string) => (d: Record<string, Doc[]>) => {
      toolsNs(d).metadata.labels['pod-security.kubernetes.io/enforce'] = 'restricted';
      toolsNs(d).metadata.labels['pod-security.kubernetes.io/enforce-version'] = version;
      tools(d).securityContext = { runAsNonRoot: true, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } };
      tools(d).containers[0].securityContext = { allowPrivilegeEscalation: false };
    };
    const ids = (version: string) => fails(run(setup(version))).map((r) => /\(check (\w+)\)/.exec(r.message)?.[1]);
    expect(ids('v1.21')).toEqual([]);
    expect(ids('v1.22')).toEqual(['capabilities_restricted']);
    expect(ids('v1.23').sort()).toEqual(['capabilities_restricted', 'runAsUser']);
  });

  it('latest, a malformed version and a version newer than v1.34 all mean v1.34; a malformed level means restricted', () => {
    const probe = (version: string) => (d: Record<string, Doc[]>) => {
      tools(d).containers[0].livenessProbe = { tcpSocket: { host: '169.254.169.254', port: 80 } };
      toolsNs(d).metadata.labels['pod-security.kubernetes.io/enforce-version'] = version;
    };
    for (const v of ['latest', 'v1.40', '1.34', 'v1.034']) expect(fails(run(probe(v))).map((r) => r.check), v).toEqual(['pod-security.enforced']);
    const f = fails(run((d) => (toolsNs(d).metadata.labels['pod-security.kubernetes.io/enforce'] = 'Baseline')));
    expect(f.length).toBeGreaterThan(0);
    expect(f[0]?.message).toContain('admission enforces restricted');
  });
});

