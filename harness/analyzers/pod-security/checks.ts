import { containersOf, getIn, type Json, type PodTemplate } from '../workloads.ts';

/**
 * Pod Security Standards as the PodSecurity admission plugin evaluates them,
 * ported from k8s.io/pod-security-admission/policy/check_*.go at the latest
 * check versions that apply to v1.34 (enforce-version pins are assumed
 * >= v1.25; older versions had small differences, e.g. no Windows exemptions).
 * Every check visits containers, initContainers AND ephemeralContainers,
 * as the plugin does (visitContainers).
 */
export type Level = 'baseline' | 'restricted';

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

type Check = (t: PodTemplate) => Violation[];

const sc = (o: Json): Json => (getIn(o, ['securityContext']) as Json) ?? {};
const isWindows = (t: PodTemplate) => getIn(t.spec, ['os', 'name']) === 'windows';

// check_capabilities_baseline.go
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
// check_sysctls.go: v1.0 set, + ip_local_reserved_ports (1.27), tcp_keepalive_*/tcp_fin_timeout (1.29), tcp_rmem/tcp_wmem (1.32)
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);
// check_restrictedVolumes.go
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
// check_seLinuxOptions.go (container_engine_t allowed since 1.31)
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

function v(t: PodTemplate, id: string, level: Level, where: string, path: (string | number)[], message: string): Violation {
  return { id, level, where, path, message };
}
const cwhere = (c: { kind: string; name: string }) => `${c.kind}/${c.name}`;

const hostNamespaces: Check = (t) =>
  (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => t.spec[f] === true).map((f) => v(t, 'hostNamespaces', 'baseline', 'pod', [...t.specPath, f], `${f}=true is forbidden`));

const privileged: Check = (t) =>
  containersOf(t)
    .filter((c) => sc(c.c).privileged === true)
    .map((c) => v(t, 'privileged', 'baseline', cwhere(c), [...c.path, 'securityContext', 'privileged'], 'securityContext.privileged=true is forbidden'));

const capabilitiesBaseline: Check = (t) =>
  containersOf(t).flatMap((c) => {
    const add = getIn(sc(c.c), ['capabilities', 'add']);
    return (Array.isArray(add) ? add : []).flatMap((cap, i) =>
      BASELINE_CAPS.has(String(cap)) ? [] : [v(t, 'capabilities_baseline', 'baseline', cwhere(c), [...c.path, 'securityContext', 'capabilities', 'add', i], `capability ${String(cap)} is not in the baseline set`)],
    );
  });

const hostPathVolumes: Check = (t) => {
  const vols = t.spec.volumes;
  return (Array.isArray(vols) ? vols : []).flatMap((vol, i) =>
    vol && typeof vol === 'object' && 'hostPath' in vol ? [v(t, 'hostPathVolumes', 'baseline', 'pod', [...t.specPath, 'volumes', i, 'hostPath'], `hostPath volume ${String((vol as Json).name)} is forbidden`)] : [],
  );
};

const hostPorts: Check = (t) =>
  containersOf(t).flatMap((c) => {
    const ports = c.c.ports;
    return (Array.isArray(ports) ? ports : []).flatMap((p, i) => {
      const hp = (p as Json | undefined)?.hostPort;
      return hp !== undefined && hp !== null && Number(hp) !== 0 ? [v(t, 'hostPorts', 'baseline', cwhere(c), [...c.path, 'ports', i, 'hostPort'], `hostPort ${String(hp)} is forbidden`)] : [];
    });
  });

const appArmor: Check = (t) => {
  const out: Violation[] = [];
  const okType = (x: unknown) => x === undefined || x === 'RuntimeDefault' || x === 'Localhost';
  const podType = getIn(t.spec, ['securityContext', 'appArmorProfile', 'type']);
  if (!okType(podType)) out.push(v(t, 'appArmorProfile', 'baseline', 'pod', [...t.specPath, 'securityContext', 'appArmorProfile', 'type'], `appArmorProfile.type ${String(podType)} is forbidden`));
  for (const c of containersOf(t)) {
    const ct = getIn(sc(c.c), ['appArmorProfile', 'type']);
    if (!okType(ct)) out.push(v(t, 'appArmorProfile', 'baseline', cwhere(c), [...c.path, 'securityContext', 'appArmorProfile', 'type'], `appArmorProfile.type ${String(ct)} is forbidden`));
  }
  for (const [k, val] of Object.entries(t.annotations))
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && val !== 'runtime/default' && !val.startsWith('localhost/'))
      out.push(v(t, 'appArmorProfile', 'baseline', 'pod', [...t.metaPath, 'annotations', k], `annotation ${k}=${val} is forbidden`));
  return out;
};

const seLinux: Check = (t) => {
  const out: Violation[] = [];
  const check = (opts: unknown, where: string, path: (string | number)[]) => {
    if (!opts || typeof opts !== 'object') return;
    const o = opts as Json;
    if (o.type !== undefined && !SELINUX_TYPES.has(String(o.type))) out.push(v(t, 'seLinuxOptions', 'baseline', where, [...path, 'type'], `seLinuxOptions.type ${String(o.type)} is forbidden`));
    for (const f of ['user', 'role'] as const) if (o[f]) out.push(v(t, 'seLinuxOptions', 'baseline', where, [...path, f], `seLinuxOptions.${f} must not be set`));
  };
  check(getIn(t.spec, ['securityContext', 'seLinuxOptions']), 'pod', [...t.specPath, 'securityContext', 'seLinuxOptions']);
  for (const c of containersOf(t)) check(sc(c.c).seLinuxOptions, cwhere(c), [...c.path, 'securityContext', 'seLinuxOptions']);
  return out;
};

const procMount: Check = (t) =>
  containersOf(t)
    .filter((c) => sc(c.c).procMount !== undefined && sc(c.c).procMount !== 'Default')
    .map((c) => v(t, 'procMount', 'baseline', cwhere(c), [...c.path, 'securityContext', 'procMount'], `procMount ${String(sc(c.c).procMount)} is forbidden`));

const seccompBaseline: Check = (t) => {
  const out: Violation[] = [];
  if (getIn(t.spec, ['securityContext', 'seccompProfile', 'type']) === 'Unconfined')
    out.push(v(t, 'seccompProfile_baseline', 'baseline', 'pod', [...t.specPath, 'securityContext', 'seccompProfile', 'type'], 'seccompProfile.type Unconfined is forbidden'));
  for (const c of containersOf(t))
    if (getIn(sc(c.c), ['seccompProfile', 'type']) === 'Unconfined')
      out.push(v(t, 'seccompProfile_baseline', 'baseline', cwhere(c), [...c.path, 'securityContext', 'seccompProfile', 'type'], 'seccompProfile.type Unconfined is forbidden'));
  return out;
};

const sysctls: Check = (t) => {
  const list = getIn(t.spec, ['securityContext', 'sysctls']);
  return (Array.isArray(list) ? list : []).flatMap((s, i) => {
    const name = String((s as Json | undefined)?.name);
    return SAFE_SYSCTLS.has(name) ? [] : [v(t, 'sysctls', 'baseline', 'pod', [...t.specPath, 'securityContext', 'sysctls', i], `sysctl ${name} is not in the safe set`)];
  });
};

const windowsHostProcess: Check = (t) => {
  const out: Violation[] = [];
  if (getIn(t.spec, ['securityContext', 'windowsOptions', 'hostProcess']) === true) out.push(v(t, 'windowsHostProcess', 'baseline', 'pod', [...t.specPath, 'securityContext', 'windowsOptions', 'hostProcess'], 'windowsOptions.hostProcess=true is forbidden'));
  for (const c of containersOf(t))
    if (getIn(sc(c.c), ['windowsOptions', 'hostProcess']) === true) out.push(v(t, 'windowsHostProcess', 'baseline', cwhere(c), [...c.path, 'securityContext', 'windowsOptions', 'hostProcess'], 'windowsOptions.hostProcess=true is forbidden'));
  return out;
};

const restrictedVolumes: Check = (t) => {
  const vols = t.spec.volumes;
  return (Array.isArray(vols) ? vols : []).flatMap((vol, i) => {
    const keys = Object.keys((vol as Json) ?? {}).filter((k) => k !== 'name');
    const bad = keys.filter((k) => !RESTRICTED_VOLUMES.includes(k));
    return bad.length || keys.length === 0
      ? [v(t, 'restrictedVolumes', 'restricted', 'pod', [...t.specPath, 'volumes', i], `volume ${String((vol as Json)?.name)} uses ${bad.join(', ') || 'no'} volume type (allowed: ${RESTRICTED_VOLUMES.join(', ')})`)]
      : [];
  });
};

const allowPrivilegeEscalation: Check = (t) =>
  isWindows(t)
    ? []
    : containersOf(t)
        .filter((c) => sc(c.c).allowPrivilegeEscalation !== false)
        .map((c) => v(t, 'allowPrivilegeEscalation', 'restricted', cwhere(c), [...c.path, 'securityContext', 'allowPrivilegeEscalation'], 'securityContext.allowPrivilegeEscalation must be false'));

// check_runAsNonRoot.go: true at pod level or in every container; a container-level value overrides the pod's; false anywhere is forbidden.
const runAsNonRoot: Check = (t) => {
  const out: Violation[] = [];
  const pod = getIn(t.spec, ['securityContext', 'runAsNonRoot']);
  if (pod === false) out.push(v(t, 'runAsNonRoot', 'restricted', 'pod', [...t.specPath, 'securityContext', 'runAsNonRoot'], 'runAsNonRoot=false is forbidden'));
  for (const c of containersOf(t)) {
    const cv = sc(c.c).runAsNonRoot;
    if (cv === false) out.push(v(t, 'runAsNonRoot', 'restricted', cwhere(c), [...c.path, 'securityContext', 'runAsNonRoot'], 'runAsNonRoot=false is forbidden (it overrides the pod-level value)'));
    else if (cv === undefined && pod !== true) out.push(v(t, 'runAsNonRoot', 'restricted', cwhere(c), [...c.path, 'securityContext'], 'runAsNonRoot must be true (set it at pod level or in this container)'));
  }
  return out;
};

const runAsUser: Check = (t) => {
  const out: Violation[] = [];
  if (getIn(t.spec, ['securityContext', 'runAsUser']) === 0) out.push(v(t, 'runAsUser', 'restricted', 'pod', [...t.specPath, 'securityContext', 'runAsUser'], 'runAsUser=0 (root) is forbidden'));
  for (const c of containersOf(t))
    if (sc(c.c).runAsUser === 0) out.push(v(t, 'runAsUser', 'restricted', cwhere(c), [...c.path, 'securityContext', 'runAsUser'], 'runAsUser=0 (root) is forbidden'));
  return out;
};

// check_seccompProfile_restricted.go: RuntimeDefault or Localhost at pod level, or in every container.
const seccompRestricted: Check = (t) => {
  if (isWindows(t)) return [];
  const out: Violation[] = [];
  const ok = (x: unknown) => x === 'RuntimeDefault' || x === 'Localhost';
  const podType = getIn(t.spec, ['securityContext', 'seccompProfile', 'type']);
  const podSet = getIn(t.spec, ['securityContext', 'seccompProfile']) !== undefined;
  if (podSet && !ok(podType)) out.push(v(t, 'seccompProfile_restricted', 'restricted', 'pod', [...t.specPath, 'securityContext', 'seccompProfile', 'type'], `seccompProfile.type ${String(podType)} is forbidden (RuntimeDefault or Localhost)`));
  for (const c of containersOf(t)) {
    const prof = sc(c.c).seccompProfile;
    if (prof !== undefined) {
      const ct = getIn(prof, ['type']);
      if (!ok(ct)) out.push(v(t, 'seccompProfile_restricted', 'restricted', cwhere(c), [...c.path, 'securityContext', 'seccompProfile', 'type'], `seccompProfile.type ${String(ct)} is forbidden (RuntimeDefault or Localhost)`));
    } else if (!podSet) {
      out.push(v(t, 'seccompProfile_restricted', 'restricted', cwhere(c), [...c.path, 'securityContext'], 'seccompProfile.type must be RuntimeDefault or Localhost (at pod level or in this container)'));
    }
  }
  return out;
};

const capabilitiesRestricted: Check = (t) =>
  isWindows(t)
    ? []
    : containersOf(t).flatMap((c) => {
        const out: Violation[] = [];
        const drop = getIn(sc(c.c), ['capabilities', 'drop']);
        if (!Array.isArray(drop) || !drop.includes('ALL'))
          out.push(v(t, 'capabilities_restricted', 'restricted', cwhere(c), [...c.path, 'securityContext', 'capabilities', 'drop'], 'capabilities.drop must include ALL'));
        const add = getIn(sc(c.c), ['capabilities', 'add']);
        (Array.isArray(add) ? add : []).forEach((cap, i) => {
          if (cap !== 'NET_BIND_SERVICE')
            out.push(v(t, 'capabilities_restricted', 'restricted', cwhere(c), [...c.path, 'securityContext', 'capabilities', 'add', i], `capability ${String(cap)} may not be added (only NET_BIND_SERVICE)`));
        });
        return out;
      });

const BASELINE: Check[] = [hostNamespaces, privileged, capabilitiesBaseline, hostPathVolumes, hostPorts, appArmor, seLinux, procMount, seccompBaseline, sysctls, windowsHostProcess];
const RESTRICTED: Check[] = [restrictedVolumes, allowPrivilegeEscalation, runAsNonRoot, runAsUser, seccompRestricted, capabilitiesRestricted];

/** Violations of a level (restricted includes baseline). `privileged` allows everything. */
export function evaluatePodSecurity(t: PodTemplate, level: Level | 'privileged'): Violation[] {
  if (level === 'privileged') return [];
  const checks = level === 'restricted' ? [...BASELINE, ...RESTRICTED] : BASELINE;
  return checks.flatMap((c) => c(t));
}
