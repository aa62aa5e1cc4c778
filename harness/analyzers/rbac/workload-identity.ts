import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import { cdeNamespaces } from './scope.ts';

const CHECK = 'rbac.token-automount';

/** The pod spec of a workload and its path inside the object. */
export function podSpecOf(o: LoadedObject): { spec: Record<string, unknown>; path: string[] } | undefined {
  const obj = o.object as Record<string, unknown>;
  const get = (path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), obj);
  let path: string[] | undefined;
  switch (o.object.kind) {
    case 'Pod':
      path = ['spec'];
      break;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      path = ['spec', 'template', 'spec'];
      break;
    case 'CronJob':
      path = ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
      break;
    default:
      return undefined;
  }
  const spec = get(path);
  return spec && typeof spec === 'object' ? { spec: spec as Record<string, unknown>, path } : undefined;
}

/**
 * rbac.token-automount: in CDE namespaces every ServiceAccount opts out of token automount and
 * no pod template opts back in (the pod field overrides the ServiceAccount's) → 7.2.5; every
 * workload runs as its own ServiceAccount, never `default` and never shared → 8.2.2.
 */
export function tokenAutomount(set: ManifestSet): CheckResult[] {
  const cde = cdeNamespaces(set);
  const out: CheckResult[] = [];
  const accounts = new Map<string, LoadedObject>();
  for (const o of set.objects) {
    if (o.object.apiVersion !== 'v1' || o.object.kind !== 'ServiceAccount') continue;
    const ns = o.object.metadata.namespace ?? '';
    accounts.set(`${ns}/${o.object.metadata.name}`, o);
    if (!cde.has(ns)) continue;
    const v = (o.object as Record<string, unknown>).automountServiceAccountToken;
    out.push(
      v === false
        ? at(o, { check: CHECK, requirement: '7.2.5', status: 'pass', message: `ServiceAccount ${ns}/${o.object.metadata.name} does not automount its API token` })
        : at(o, { check: CHECK, requirement: '7.2.5', status: 'fail', message: `ServiceAccount ${ns}/${o.object.metadata.name} ${v === undefined ? 'leaves automountServiceAccountToken unset (default true)' : `sets automountServiceAccountToken: ${String(v)}`}: every pod gets an API token it does not need. Set automountServiceAccountToken: false` }, v === undefined ? undefined : ['automountServiceAccountToken']),
    );
  }

  const users = new Map<string, LoadedObject[]>();
  for (const o of set.objects) {
    const ns = o.object.metadata.namespace ?? '';
    if (!cde.has(ns)) continue;
    const ps = podSpecOf(o);
    if (!ps) continue;
    const id = `${o.object.kind} ${ns}/${o.object.metadata.name}`;
    if (ps.spec.automountServiceAccountToken === true) {
      out.push(at(o, { check: CHECK, requirement: '7.2.5', status: 'fail', message: `${id} sets automountServiceAccountToken: true in its pod template, overriding the ServiceAccount; remove it (project a token volume explicitly if the workload truly calls the API)` }, [...ps.path, 'automountServiceAccountToken']));
    }
    const named = ps.spec.serviceAccountName ?? ps.spec.serviceAccount;
    const sa = typeof named === 'string' && named !== '' ? named : 'default';
    const saPath = [...ps.path, 'serviceAccountName'];
    if (sa === 'default') {
      out.push(at(o, { check: CHECK, requirement: '8.2.2', status: 'fail', message: `${id} runs as the namespace's "default" ServiceAccount, which every unconfigured pod shares; give it its own ServiceAccount` }, ps.path));
      continue;
    }
    if (!accounts.has(`${ns}/${sa}`)) {
      out.push(at(o, { check: CHECK, requirement: '8.2.2', status: 'fail', message: `${id} runs as ServiceAccount "${sa}", which the set does not define in ${ns}; the pod will be rejected, or run as an account defined outside the reviewed set` }, saPath));
      continue;
    }
    const list = users.get(`${ns}/${sa}`) ?? [];
    list.push(o);
    users.set(`${ns}/${sa}`, list);
  }
  for (const [key, list] of users) {
    const first = list[0];
    if (!first) continue;
    const ps = podSpecOf(first);
    if (list.length === 1) {
      out.push(at(first, { check: CHECK, requirement: '8.2.2', status: 'pass', message: `${first.object.kind} ${first.object.metadata.namespace}/${first.object.metadata.name} is the only workload running as ServiceAccount ${key}` }, ps ? [...ps.path, 'serviceAccountName'] : undefined));
      continue;
    }
    const names = list.map((o) => `${o.object.kind} ${o.object.metadata.name}`).join(', ');
    for (const o of list) {
      const p = podSpecOf(o);
      out.push(at(o, { check: CHECK, requirement: '8.2.2', status: 'fail', message: `ServiceAccount ${key} is shared by ${names}: their API actions cannot be told apart. Give each workload its own ServiceAccount` }, p ? [...p.path, 'serviceAccountName'] : undefined));
    }
  }
  return out;
}
