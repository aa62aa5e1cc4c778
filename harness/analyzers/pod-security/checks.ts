import { containersOf, getIn, type ContainerRef, type Json, type PodTemplate } from '../workloads.ts';

/**
 * Pod Security Standards as the PodSecurity admission plugin evaluates them,
 * ported from k8s.io/pod-security-admission v0.34 (policy/check_*.go and
 * policy/registry.go) with every versioned variant of every check, so a
 * namespace pinned at v1.0 … v1.34 is judged by the rules of its version:
 *
 * - a check applies from its MinimumVersion; the newest variant not newer than
 *   the requested version is used (registry.go inflateVersions);
 * - restricted = its own checks + every baseline check not overridden by an
 *   active restricted one (capabilities_restricted ⊃ capabilities_baseline from
 *   1.22, seccompProfile_restricted ⊃ seccompProfile_baseline from 1.19,
 *   restrictedVolumes ⊃ hostPathVolumes);
 * - versions newer than the newest policy version (and `latest`) use the newest,
 *   v1.34 — the apiserver this harness targets (Kubernetes 1.34).
 *
 * The pod is judged as admission sees it: after the apiserver's defaulting
 * (`admittedPodSpec`: a volume without a source becomes emptyDir; a hostNetwork
 * pod's ports get hostPort = containerPort). Every check visits
 * initContainers, containers AND ephemeralContainers (visitor.go).
 * Not modelled: the UserNamespacesPodSecurityStandards relaxation (an alpha
 * feature gate, off by default in 1.34) and emulated versions.
 * Proven against upstream's own fixtures: suites/offline/upstream-psa.test.ts.
 */
export type Level = 'baseline' | 'restricted';

/** Newest policy version with changes (the `hostProbesAndHostLifecycle` check) and what `latest` means on a 1.34 apiserver. */
export const LATEST_MINOR = 34;

export interface Violation {
  /** PSA policy check id, e.g. "runAsNonRoot". */
  id: string;
  level: Level;
  /** Path from the document root to the offending field (or the closest existing parent). */
  path: (string | number)[];
  /** Container "<kind>/<name>" or "pod". */
  where: string;
  message: string;
}

/** A pod-security.kubernetes.io/<mode>-version label resolved as api.ParseVersion does. */
export interface PolicyVersion {
  /** Minor version actually evaluated (clamped to LATEST_MINOR). */
  minor: number;
  /** Label as written, or "latest" when absent. */
  label: string;
  /** Set when the label is malformed (admission then uses latest, and reports the error). */
  error?: string;
}

/** api.ParseVersion + registry clamping: "latest", absent or malformed → latest; "v1.N" → N, at most LATEST_MINOR. */
export function parseVersion(label: string | undefined): PolicyVersion {
  if (label === undefined || label === 'latest') return { minor: LATEST_MINOR, label: label ?? 'latest' };
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(label);
  if (!m) return { minor: LATEST_MINOR, label, error: `must be "latest" or "v1.x"` };
  return { minor: Math.min(Number(m[1]), LATEST_MINOR), label };
}

// ---------------------------------------------------------------------------
// The pod as admission sees it

/**
 * VolumeSource fields of core/v1 (1.34). A volume none of which is set (non-null)
 * is defaulted to emptyDir by the apiserver before admission (SetDefaults_Volume).
 */
const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
];
const isSet = (x: unknown) => x !== undefined && x !== null;

/** Volume sources a volume sets, after defaulting (none → ["emptyDir"]). */
export function volumeSources(vol: unknown): string[] {
  const o = vol && typeof vol === 'object' ? (vol as Json) : {};
  const set = VOLUME_SOURCES.filter((k) => isSet(o[k]));
  return set.length ? set : ['emptyDir'];
}

/** Effective hostPort of a container port: hostNetwork pods get hostPort = containerPort when unset (SetDefaults_Pod). */
function hostPortOf(t: PodTemplate, c: ContainerRef, p: Json | undefined): unknown {
  const hp = p?.hostPort;
  if ((hp === undefined || hp === null || Number(hp) === 0) && t.spec.hostNetwork === true && c.kind !== 'ephemeralContainers') return p?.containerPort;
  return hp;
}

// ---------------------------------------------------------------------------
// Checks

type CheckFn = (t: PodTemplate) => Violation[];
interface VersionedCheck {
  min: number;
  fn: CheckFn;
  /** Baseline checks this restricted variant replaces (registry.go OverrideCheckIDs). */
  overrides?: string[];
}
interface CheckDef {
  id: string;
  level: Level;
  versions: VersionedCheck[];
}

const sc = (o: Json): Json => (getIn(o, ['securityContext']) as Json) ?? {};
const isWindows = (t: PodTemplate) => getIn(t.spec, ['os', 'name']) === 'windows';
const cwhere = (c: { kind: string; name: string }) => `${c.kind}/${c.name}`;
const podSC = (t: PodTemplate): Json => (getIn(t.spec, ['securityContext']) as Json) ?? {};
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const windowsExempt = (fn: CheckFn): CheckFn => (t) => (isWindows(t) ? [] : fn(t));

function mk(id: string, level: Level) {
  return (where: string, path: (string | number)[], message: string): Violation => ({ id, level, where, path, message });
}

// check_hostNamespaces.go
const hostNamespaces: CheckFn = (t) => {
  const v = mk('hostNamespaces', 'baseline');
  return (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => t.spec[f] === true).map((f) => v('pod', [...t.specPath, f], `${f}=true is forbidden`));
};

// check_privileged.go
const privileged: CheckFn = (t) => {
  const v = mk('privileged', 'baseline');
  return containersOf(t)
    .filter((c) => sc(c.c).privileged === true)
    .map((c) => v(cwhere(c), [...c.path, 'securityContext', 'privileged'], 'securityContext.privileged=true is forbidden'));
};

// check_capabilities_baseline.go
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const capabilitiesBaseline: CheckFn = (t) => {
  const v = mk('capabilities_baseline', 'baseline');
  return containersOf(t).flatMap((c) =>
    list(getIn(sc(c.c), ['capabilities', 'add'])).flatMap((cap, i) =>
      BASELINE_CAPS.has(String(cap)) ? [] : [v(cwhere(c), [...c.path, 'securityContext', 'capabilities', 'add', i], `capability ${String(cap)} is not in the baseline set`)],
    ),
  );
};

// check_hostPathVolumes.go
const hostPathVolumes: CheckFn = (t) => {
  const v = mk('hostPathVolumes', 'baseline');
  return list(t.spec.volumes).flatMap((vol, i) =>
    isSet((vol as Json | null)?.hostPath) ? [v('pod', [...t.specPath, 'volumes', i, 'hostPath'], `hostPath volume ${String((vol as Json).name)} is forbidden`)] : [],
  );
};

// check_hostPorts.go
const hostPorts: CheckFn = (t) => {
  const v = mk('hostPorts', 'baseline');
  return containersOf(t).flatMap((c) =>
    list(c.c.ports).flatMap((p, i) => {
      const hp = hostPortOf(t, c, p as Json | undefined);
      return isSet(hp) && Number(hp) !== 0
        ? [v(cwhere(c), [...c.path, 'ports', i, ...(isSet((p as Json | undefined)?.hostPort) ? ['hostPort'] : [])], `hostPort ${String(hp)} is forbidden${isSet((p as Json | undefined)?.hostPort) ? '' : ' (hostNetwork defaults hostPort to containerPort)'}`)]
        : [];
    }),
  );
};

// check_hostProbesAndhostLifecycle.go (1.34): probes and lifecycle handlers must not aim at a host (e.g. 169.254.169.254).
const hostProbesAndHostLifecycle: CheckFn = (t) => {
  const v = mk('hostProbesAndHostLifecycle', 'baseline');
  const out: Violation[] = [];
  for (const c of containersOf(t)) {
    const handlers: [string[], unknown][] = [
      ...(['livenessProbe', 'readinessProbe', 'startupProbe'] as const).map((p): [string[], unknown] => [[p], c.c[p]]),
      ...(['postStart', 'preStop'] as const).map((h): [string[], unknown] => [['lifecycle', h], getIn(c.c, ['lifecycle', h])]),
    ];
    for (const [path, h] of handlers)
      for (const kind of ['httpGet', 'tcpSocket'] as const) {
        const host = getIn(h, [kind, 'host']);
        if (isSet(host) && host !== '')
          out.push(v(cwhere(c), [...c.path, ...path, kind, 'host'], `${path.join('.')}.${kind}.host ${String(host)} is forbidden (probes and lifecycle handlers may only target the pod itself)`));
      }
  }
  return out;
};

// check_appArmorProfile.go: field type RuntimeDefault or Localhost when a profile is set;
// annotation value empty, runtime/default or localhost/*.
const appArmorProfile: CheckFn = (t) => {
  const v = mk('appArmorProfile', 'baseline');
  const out: Violation[] = [];
  const okType = (x: unknown) => x === 'RuntimeDefault' || x === 'Localhost';
  const podProfile = podSC(t).appArmorProfile;
  if (isSet(podProfile) && !okType(getIn(podProfile, ['type'])))
    out.push(v('pod', [...t.specPath, 'securityContext', 'appArmorProfile', 'type'], `appArmorProfile.type ${String(getIn(podProfile, ['type']))} is forbidden`));
  for (const c of containersOf(t)) {
    const prof = sc(c.c).appArmorProfile;
    if (isSet(prof) && !okType(getIn(prof, ['type'])))
      out.push(v(cwhere(c), [...c.path, 'securityContext', 'appArmorProfile', 'type'], `appArmorProfile.type ${String(getIn(prof, ['type']))} is forbidden`));
  }
  for (const [k, val] of Object.entries(t.annotations))
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && val !== '' && val !== 'runtime/default' && !val.startsWith('localhost/'))
      out.push(v('pod', [...t.metaPath, 'annotations', k], `annotation ${k}=${val} is forbidden`));
  return out;
};

// check_seLinuxOptions.go (container_engine_t allowed since 1.31)
const SELINUX_1_0 = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const SELINUX_1_31 = new Set([...SELINUX_1_0, 'container_engine_t']);
const seLinuxOptions =
  (allowed: Set<string>): CheckFn =>
  (t) => {
    const v = mk('seLinuxOptions', 'baseline');
    const out: Violation[] = [];
    const check = (opts: unknown, where: string, path: (string | number)[]) => {
      if (!opts || typeof opts !== 'object') return;
      const o = opts as Json;
      const type = isSet(o.type) ? String(o.type) : '';
      if (!allowed.has(type)) out.push(v(where, [...path, 'type'], `seLinuxOptions.type ${type} is forbidden`));
      for (const f of ['user', 'role'] as const) if (isSet(o[f]) && String(o[f]) !== '') out.push(v(where, [...path, f], `seLinuxOptions.${f} must not be set`));
    };
    check(podSC(t).seLinuxOptions, 'pod', [...t.specPath, 'securityContext', 'seLinuxOptions']);
    for (const c of containersOf(t)) check(sc(c.c).seLinuxOptions, cwhere(c), [...c.path, 'securityContext', 'seLinuxOptions']);
    return out;
  };

// check_procMount.go
const procMount: CheckFn = (t) => {
  const v = mk('procMount', 'baseline');
  return containersOf(t)
    .filter((c) => isSet(sc(c.c).procMount) && sc(c.c).procMount !== 'Default')
    .map((c) => v(cwhere(c), [...c.path, 'securityContext', 'procMount'], `procMount ${String(sc(c.c).procMount)} is forbidden`));
};

// check_seccompProfile_baseline.go
const validSeccomp = (x: unknown) => x === 'RuntimeDefault' || x === 'Localhost';
const SECCOMP_POD_ANN = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANN = 'container.seccomp.security.alpha.kubernetes.io/';
const validSeccompAnnotation = (x: string) => x === 'runtime/default' || x === 'docker/default' || x.startsWith('localhost/');
/** v1.0 – v1.18: the alpha annotations (pod, and per visited container). */
const seccompBaseline_1_0: CheckFn = (t) => {
  const v = mk('seccompProfile_baseline', 'baseline');
  const out: Violation[] = [];
  const ann = (k: string, where: string) => {
    const val = t.annotations[k];
    if (val !== undefined && !validSeccompAnnotation(val)) out.push(v(where, [...t.metaPath, 'annotations', k], `annotation ${k}=${val} is forbidden (runtime/default, docker/default or localhost/*)`));
  };
  ann(SECCOMP_POD_ANN, 'pod');
  for (const c of containersOf(t)) ann(SECCOMP_CONTAINER_ANN + c.name, cwhere(c));
  return out;
};
/** v1.19+: the seccompProfile fields; when set, the type must be RuntimeDefault or Localhost. */
const seccompBaseline_1_19: CheckFn = (t) => {
  const v = mk('seccompProfile_baseline', 'baseline');
  const out: Violation[] = [];
  const pod = podSC(t).seccompProfile;
  if (isSet(pod) && !validSeccomp(getIn(pod, ['type'])))
    out.push(v('pod', [...t.specPath, 'securityContext', 'seccompProfile', 'type'], `seccompProfile.type ${String(getIn(pod, ['type']))} is forbidden`));
  for (const c of containersOf(t)) {
    const prof = sc(c.c).seccompProfile;
    if (isSet(prof) && !validSeccomp(getIn(prof, ['type'])))
      out.push(v(cwhere(c), [...c.path, 'securityContext', 'seccompProfile', 'type'], `seccompProfile.type ${String(getIn(prof, ['type']))} is forbidden`));
  }
  return out;
};

// check_sysctls.go: the safe set grows with the version.
const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const sysctls =
  (safe: string[]): CheckFn =>
  (t) => {
    const v = mk('sysctls', 'baseline');
    return list(podSC(t).sysctls).flatMap((s, i) => {
      const name = String((s as Json | undefined)?.name);
      return safe.includes(name) ? [] : [v('pod', [...t.specPath, 'securityContext', 'sysctls', i], `sysctl ${name} is not in the safe set`)];
    });
  };

// check_windowsHostProcess.go
const windowsHostProcess: CheckFn = (t) => {
  const v = mk('windowsHostProcess', 'baseline');
  const out: Violation[] = [];
  if (getIn(podSC(t), ['windowsOptions', 'hostProcess']) === true) out.push(v('pod', [...t.specPath, 'securityContext', 'windowsOptions', 'hostProcess'], 'windowsOptions.hostProcess=true is forbidden'));
  for (const c of containersOf(t))
    if (getIn(sc(c.c), ['windowsOptions', 'hostProcess']) === true) out.push(v(cwhere(c), [...c.path, 'securityContext', 'windowsOptions', 'hostProcess'], 'windowsOptions.hostProcess=true is forbidden'));
  return out;
};

// check_restrictedVolumes.go (image is allowed: an OCI artifact mounted read-only)
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
const restrictedVolumes: CheckFn = (t) => {
  const v = mk('restrictedVolumes', 'restricted');
  return list(t.spec.volumes).flatMap((vol, i) => {
    const types = volumeSources(vol);
    if (types.some((k) => RESTRICTED_VOLUMES.includes(k))) return [];
    return [v('pod', [...t.specPath, 'volumes', i], `volume ${String((vol as Json | null)?.name)} uses ${types.join(', ')} volume type (allowed: ${RESTRICTED_VOLUMES.join(', ')})`)];
  });
};

// check_allowPrivilegeEscalation.go (1.8; Windows pods exempt from 1.25)
const allowPrivilegeEscalation: CheckFn = (t) => {
  const v = mk('allowPrivilegeEscalation', 'restricted');
  return containersOf(t)
    .filter((c) => sc(c.c).allowPrivilegeEscalation !== false)
    .map((c) => v(cwhere(c), [...c.path, 'securityContext', 'allowPrivilegeEscalation'], 'securityContext.allowPrivilegeEscalation must be false'));
};

// check_runAsNonRoot.go: true at pod level or in every container; a container-level value overrides the pod's; false anywhere is forbidden.
const runAsNonRoot: CheckFn = (t) => {
  const v = mk('runAsNonRoot', 'restricted');
  const out: Violation[] = [];
  const pod = podSC(t).runAsNonRoot;
  if (pod === false) out.push(v('pod', [...t.specPath, 'securityContext', 'runAsNonRoot'], 'runAsNonRoot=false is forbidden'));
  for (const c of containersOf(t)) {
    const cv = sc(c.c).runAsNonRoot;
    if (cv === false) out.push(v(cwhere(c), [...c.path, 'securityContext', 'runAsNonRoot'], 'runAsNonRoot=false is forbidden (it overrides the pod-level value)'));
    else if (!isSet(cv) && pod !== true) out.push(v(cwhere(c), [...c.path, 'securityContext'], 'runAsNonRoot must be true (set it at pod level or in this container)'));
  }
  return out;
};

// check_runAsUser.go (1.23)
const runAsUser: CheckFn = (t) => {
  const v = mk('runAsUser', 'restricted');
  const out: Violation[] = [];
  if (podSC(t).runAsUser === 0) out.push(v('pod', [...t.specPath, 'securityContext', 'runAsUser'], 'runAsUser=0 (root) is forbidden'));
  for (const c of containersOf(t)) if (sc(c.c).runAsUser === 0) out.push(v(cwhere(c), [...c.path, 'securityContext', 'runAsUser'], 'runAsUser=0 (root) is forbidden'));
  return out;
};

// check_seccompProfile_restricted.go (1.19; Windows pods exempt from 1.25): RuntimeDefault or Localhost at pod level, or in every container.
const seccompRestricted: CheckFn = (t) => {
  const v = mk('seccompProfile_restricted', 'restricted');
  const out: Violation[] = [];
  const pod = podSC(t).seccompProfile;
  const podOk = isSet(pod) && validSeccomp(getIn(pod, ['type']));
  if (isSet(pod) && !podOk)
    out.push(v('pod', [...t.specPath, 'securityContext', 'seccompProfile', 'type'], `seccompProfile.type ${String(getIn(pod, ['type']))} is forbidden (RuntimeDefault or Localhost)`));
  for (const c of containersOf(t)) {
    const prof = sc(c.c).seccompProfile;
    if (isSet(prof)) {
      if (!validSeccomp(getIn(prof, ['type'])))
        out.push(v(cwhere(c), [...c.path, 'securityContext', 'seccompProfile', 'type'], `seccompProfile.type ${String(getIn(prof, ['type']))} is forbidden (RuntimeDefault or Localhost)`));
    } else if (!podOk) {
      out.push(v(cwhere(c), [...c.path, 'securityContext'], 'seccompProfile.type must be RuntimeDefault or Localhost (at pod level or in this container)'));
    }
  }
  return out;
};

// check_capabilities_restricted.go (1.22; Windows pods exempt from 1.25)
const capabilitiesRestricted: CheckFn = (t) => {
  const v = mk('capabilities_restricted', 'restricted');
  return containersOf(t).flatMap((c) => {
    const out: Violation[] = [];
    const drop = getIn(sc(c.c), ['capabilities', 'drop']);
    if (!list(drop).includes('ALL')) out.push(v(cwhere(c), [...c.path, 'securityContext', 'capabilities', 'drop'], 'capabilities.drop must include ALL'));
    list(getIn(sc(c.c), ['capabilities', 'add'])).forEach((cap, i) => {
      if (cap !== 'NET_BIND_SERVICE')
        out.push(v(cwhere(c), [...c.path, 'securityContext', 'capabilities', 'add', i], `capability ${String(cap)} may not be added (only NET_BIND_SERVICE)`));
    });
    return out;
  });
};

/** Every check with its versions, as policy.DefaultChecks() registers them. */
export const CHECKS: CheckDef[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [{ min: 0, fn: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ min: 0, fn: capabilitiesBaseline }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ min: 0, fn: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ min: 0, fn: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ min: 0, fn: hostPorts }] },
  { id: 'hostProbesAndHostLifecycle', level: 'baseline', versions: [{ min: 34, fn: hostProbesAndHostLifecycle }] },
  { id: 'privileged', level: 'baseline', versions: [{ min: 0, fn: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ min: 0, fn: procMount }] },
  { id: 'seLinuxOptions', level: 'baseline', versions: [{ min: 0, fn: seLinuxOptions(SELINUX_1_0) }, { min: 31, fn: seLinuxOptions(SELINUX_1_31) }] },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [{ min: 0, fn: seccompBaseline_1_0 }, { min: 19, fn: seccompBaseline_1_19 }] },
  { id: 'sysctls', level: 'baseline', versions: [{ min: 0, fn: sysctls(SYSCTLS_1_0) }, { min: 27, fn: sysctls(SYSCTLS_1_27) }, { min: 29, fn: sysctls(SYSCTLS_1_29) }, { min: 32, fn: sysctls(SYSCTLS_1_32) }] },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ min: 0, fn: windowsHostProcess }] },
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [{ min: 8, fn: allowPrivilegeEscalation }, { min: 25, fn: windowsExempt(allowPrivilegeEscalation) }] },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [
      { min: 22, fn: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
      { min: 25, fn: windowsExempt(capabilitiesRestricted), overrides: ['capabilities_baseline'] },
    ],
  },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ min: 0, fn: restrictedVolumes, overrides: ['hostPathVolumes'] }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ min: 0, fn: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ min: 23, fn: runAsUser }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [
      { min: 19, fn: seccompRestricted, overrides: ['seccompProfile_baseline'] },
      { min: 25, fn: windowsExempt(seccompRestricted), overrides: ['seccompProfile_baseline'] },
    ],
  },
];

/** The checks (id + variant) that run for a level at a policy minor version, baseline first, each sorted by id (registry.go populate). */
export function checksFor(level: Level, minor: number): { id: string; level: Level; check: VersionedCheck }[] {
  const v = Math.min(Math.max(0, minor), LATEST_MINOR);
  const active = (d: CheckDef) => [...d.versions].reverse().find((x) => x.min <= v);
  const pick = (lvl: Level) =>
    CHECKS.filter((d) => d.level === lvl)
      .map((d) => ({ id: d.id, level: d.level, check: active(d) }))
      .filter((x): x is { id: string; level: Level; check: VersionedCheck } => x.check !== undefined)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const baseline = pick('baseline');
  if (level === 'baseline') return baseline;
  const restricted = pick('restricted');
  const overridden = new Set(restricted.flatMap((r) => r.check.overrides ?? []));
  return [...baseline.filter((b) => !overridden.has(b.id)), ...restricted];
}

/**
 * Violations of a level at a policy version (minor of v1.<minor>, default
 * latest = 1.34). Restricted includes the baseline checks it does not override;
 * `privileged` allows everything.
 */
export function evaluatePodSecurity(t: PodTemplate, level: Level | 'privileged', minor: number = LATEST_MINOR): Violation[] {
  if (level === 'privileged') return [];
  return checksFor(level, minor).flatMap((c) => c.check.fn(t));
}
