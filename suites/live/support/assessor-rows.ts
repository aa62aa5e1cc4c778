import { liveManifestsDir } from '../../../harness/scenario/context.ts';
import { findAuditStore, type RunningStore } from '../../../harness/audit-store/container.ts';
import { MIN_RETENTION_DAYS, SHIPPER_CONFIGMAP, SHIPPER_DAEMONSET, SHIPPER_NAMESPACE, shipperTargetOf, type ShipperTarget } from '../../../harness/audit-store/names.ts';
import { TrailReader } from '../../../harness/scenario/audit-trail.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { accessTables, cdeNamespaces, specDocuments } from '../../../harness/analyzers/rbac/scope.ts';
import type { Subject } from '../../../harness/analyzers/rbac/types.ts';
import { REPO_ROOT } from '../../../harness/cluster/paths.ts';
import { harnessPod } from '../../../harness/cluster/pods.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { loadManifestDir } from '../../../harness/manifests/load.ts';
import type { AssessorEvidence, AssessorRow } from '../../../harness/scenario/assessor.ts';
import { AuditLogReader } from '../../../harness/scenario/audit-log.ts';
import { configuredSecretsPrefix, etcdctlArgs, etcdPod, prefixCounts, readEtcdPrefix, storedPrefix } from '../../../harness/scenario/etcd.ts';
import { identityOf } from '../../../harness/scenario/rbac-live.ts';
import { readAdmission } from '../../../harness/scenario/unsafe-deploys.ts';
import type { ScopeDeclarationSpec } from '../../../harness/spec/types.ts';

// Tells this run's seeded bindings and probe pods apart from any other run's.
const nonce = randomBytes(3).toString('hex');
const set = loadManifestDir(liveManifestsDir());
const CDE = [...cdeNamespaces(set)].sort();
const scope = specDocuments(set, 'ScopeDeclaration')[0]!.object.spec as ScopeDeclarationSpec;
const PROC = 'cde-processing';

/** What the rows act on, filled in by the caller once its cluster is up (the rows are named before that). */
export interface AssessorEnv {
  cluster: Cluster;
  audit: AuditLogReader;
  /** A Secret the caller created in cde-processing, and its value (the rows read it and look for it). */
  sentinel: { name: string; value: string };
}

/**
 * The guide's verification table (13 rows) and its pre-assessment failure
 * checks, corrected: assessor-checks.test.ts runs them as the assessor's
 * scenario, guard-mutants.test.ts re-runs some under a weakening (they must
 * turn red).
 */
export function assessorRows(env: AssessorEnv): { table: AssessorRow[]; failures: AssessorRow[] } {
  const SENTINEL_NAME = env.sentinel.name;
  const SENTINEL = env.sentinel.value;

  /** Run kubectl as the assessor (admin kubeconfig); returns the command as shown and its output. */
  async function kubectl(args: string[], input?: string): Promise<{ shown: string; out: string; code: number }> {
    const r = await env.cluster.kubectl(args, { reject: false, timeoutMs: 60_000, ...(input ? { input } : {}) });
    return { shown: `kubectl ${args.map((a) => (/[\s{}'"$]/.test(a) ? `'${a}'` : a)).join(' ')}`, out: `${r.stdout}${r.stderr}`.trim(), code: r.exitCode };
  }
  const json = <T>(out: string) => JSON.parse(out) as T;
  const notTested = (reason: string): Promise<AssessorEvidence> => Promise.resolve({ commands: [], output: '', verdict: 'not-tested', reason });
  const verdict = (ok: boolean, pass: string, fail: string): Pick<AssessorEvidence, 'verdict' | 'reason'> => (ok ? { verdict: 'pass', reason: pass } : { verdict: 'fail', reason: fail });
  /** The bucket the set's shipper writes to (its ConfigMap), and the store beside the cluster. */
  const trailTarget = async (): Promise<{ store: RunningStore; target: ShipperTarget; commands: string[] } | { reason: string; commands: string[] }> => {
    const cm = await kubectl(['get', 'configmap', SHIPPER_CONFIGMAP, '-n', SHIPPER_NAMESPACE, '-o', 'json']);
    if (cm.code !== 0) return { reason: `no shipper configuration ${SHIPPER_NAMESPACE}/${SHIPPER_CONFIGMAP}: ${cm.out.slice(0, 200)}`, commands: [cm.shown] };
    let target: ShipperTarget;
    try {
      target = shipperTargetOf((JSON.parse(cm.out) as { data: Record<string, string> }).data['config.yaml'] ?? '');
    } catch (e) {
      return { reason: `the shipper configuration names no S3 bucket: ${(e as Error).message}`, commands: [cm.shown] };
    }
    const store = await findAuditStore(env.cluster.name);
    if (!store) return { reason: `no audit store beside cluster ${env.cluster.name}`, commands: [cm.shown] };
    return { store, target, commands: [cm.shown] };
  };
  /** The shipper runs, and this row's own audited read of the sentinel reaches the store within 30 s (10.3.3). */
  const shipsARead = async (): Promise<AssessorEvidence> => {
    const t = await trailTarget();
    if ('reason' in t) return { commands: t.commands, output: '', verdict: 'fail', reason: t.reason };
    const ds = await kubectl(['get', 'daemonset', SHIPPER_DAEMONSET, '-n', SHIPPER_NAMESPACE, '-o', 'jsonpath={.status.desiredNumberScheduled} {.status.numberReady}']);
    const [desired, ready] = ds.out.split(/\s+/).map(Number);
    const trail = new TrailReader(t.store.client, t.target.bucket, t.target.prefix);
    await trail.skipExisting();
    const r = await kubectl(['get', 'secret', SENTINEL_NAME, '-n', PROC, '-o', 'name']);
    const t0 = Date.now();
    const found = await trail.find((x) => x.stage === 'ResponseComplete' && x.verb === 'get' && x.objectRef?.resource === 'secrets' && x.objectRef.name === SENTINEL_NAME && x.objectRef.namespace === PROC, 30_000);
    const e = found.event;
    const leaked = !!e && JSON.stringify(e).includes(SENTINEL);
    const row = e ? JSON.stringify({ level: e.level, user: e.user?.username, verb: e.verb, ns: e.objectRef?.namespace, name: e.objectRef?.name, time: e.requestReceivedTimestamp, stored: found.object ? `s3://${t.target.bucket}/${found.object.key}` : undefined }) : '(not in the store)';
    const ok = desired! > 0 && ready === desired && !!e && !!e.user?.username && !!e.requestReceivedTimestamp && !leaked;
    return {
      commands: [ds.shown, r.shown, `curl --aws-sigv4 aws:amz:us-east-1:s3 --user "$AK:$SK" '${t.store.hostUrl}/${t.target.bucket}?versions&prefix=${t.target.prefix}'  # then each new version, for the read's event`],
      output: `shipper ${SHIPPER_NAMESPACE}/${SHIPPER_DAEMONSET}: ${ready}/${desired} ready\n${row}`,
      ...verdict(ok, `the shipper runs on ${desired} node(s); the read is in the store after ${((found.at - t0) / 1000).toFixed(1)} s with identity and time, no secret value`, leaked ? 'the stored event holds the secret value' : !e ? `the read is not in s3://${t.target.bucket}/${t.target.prefix} within 30 s (shipper ${ready}/${desired} ready)` : `shipper ${ready}/${desired} ready, or the event lacks identity or time`),
    };
  };

  interface Np { metadata: { name: string }; spec: { podSelector?: { matchLabels?: Record<string, string> }; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] } }
  interface Rule { from?: Peer[]; to?: Peer[]; ports?: Array<{ port?: number | string; protocol?: string }> }
  interface Peer { namespaceSelector?: { matchLabels?: Record<string, string> } }
  const peersNs = (r: Rule, ns: string) => [...(r.from ?? []), ...(r.to ?? [])].some((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === ns);
  const portsOf = (r: Rule) => (r.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');

  const ROWS: AssessorRow[] = [
    {
      id: 'table-1.3.1-default-deny',
      guide: 'table 1.3: kubectl get networkpolicy -n cde-processing',
      requirement: '1.3.1',
      control: 'default-deny-all (ingress and egress) in EVERY CDE namespace',
      correction: 'defect 8: the guide protected one namespace; every in-scope namespace is checked',
      layer: 'networkpolicy',
      verdicts: ['blocked', 'allowed'],
      async run() {
        const runs = await Promise.all(CDE.map((ns) => kubectl(['get', 'networkpolicy', 'default-deny-all', '-n', ns, '-o', 'json'])));
        const bad = CDE.filter((ns, i) => {
          if (runs[i]!.code !== 0) return true;
          const p = json<Np>(runs[i]!.out);
          return Object.keys(p.spec.podSelector?.matchLabels ?? {}).length > 0 || !['Ingress', 'Egress'].every((t) => p.spec.policyTypes?.includes(t)) || (p.spec.ingress?.length ?? 0) > 0 || (p.spec.egress?.length ?? 0) > 0;
        });
        return { commands: runs.map((r) => r.shown), output: runs.map((r, i) => `${CDE[i]}: ${r.code === 0 ? JSON.stringify(json<Np>(r.out).spec) : r.out}`).join('\n'), ...verdict(bad.length === 0, `all ${CDE.length} CDE namespaces select every pod, deny both directions, allow nothing`, `missing or not deny-all in ${bad.join(', ')}`) };
      },
    },
    {
      id: 'table-1.3.2-both-halves',
      guide: 'table 1.3.2: kubectl describe networkpolicy -n cde-frontend allow-egress-to-processing',
      requirement: '1.3.2',
      control: 'payment-api → card-processor on 9443/TCP only: the egress half AND the ingress half',
      correction: 'defect 9: a connection needs the source egress and the destination ingress; the guide checked one half',
      layer: 'networkpolicy',
      verdicts: ['allowed', 'blocked'],
      async run() {
        const [front, proc] = await Promise.all([kubectl(['get', 'networkpolicy', '-n', 'cde-frontend', '-o', 'json']), kubectl(['get', 'networkpolicy', '-n', PROC, '-o', 'json'])]);
        const egress = json<{ items: Np[] }>(front.out).items.flatMap((p) => (p.spec.egress ?? []).filter((r) => peersNs(r, PROC)).map((r) => ({ p: p.metadata.name, ports: portsOf(r) })));
        const ingress = json<{ items: Np[] }>(proc.out).items.flatMap((p) => (p.spec.ingress ?? []).filter((r) => peersNs(r, 'cde-frontend')).map((r) => ({ p: p.metadata.name, ports: portsOf(r) })));
        const only9443 = (xs: Array<{ ports: string }>) => xs.length > 0 && xs.every((x) => x.ports === '9443/TCP');
        return {
          commands: [front.shown, proc.shown],
          output: `egress rules cde-frontend → ${PROC}: ${JSON.stringify(egress)}\ningress rules ${PROC} ← cde-frontend: ${JSON.stringify(ingress)}`,
          ...verdict(only9443(egress) && only9443(ingress), 'both halves exist and open 9443/TCP only (the reachability matrix proves the flow end to end)', `egress ${JSON.stringify(egress)}, ingress ${JSON.stringify(ingress)}: a half is missing or opens more than 9443/TCP`),
        };
      },
    },
    {
      id: 'table-2.2.1-psa-labels',
      guide: "table 2.2.1: kubectl get namespace cde-processing -o jsonpath='{.metadata.labels}'",
      requirement: '2.2.1',
      control: `Pod Security restricted enforced, version pinned (${scope.podSecurityVersion}), in every CDE namespace`,
      correction: 'the version label is checked too (an unpinned `latest` changes with the apiserver); defect 11: that PSA rejects is proven layer by layer in pipeline.unsafe-deploys',
      layer: 'psa',
      verdicts: ['rejected', 'admitted'],
      async run() {
        const runs = await Promise.all(CDE.map((ns) => kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels}'])));
        const bad = CDE.filter((_, i) => {
          const l = runs[i]!.code === 0 ? json<Record<string, string>>(runs[i]!.out || '{}') : {};
          return l['pod-security.kubernetes.io/enforce'] !== 'restricted' || (l['pod-security.kubernetes.io/enforce-version'] ?? 'latest') !== scope.podSecurityVersion;
        });
        return { commands: runs.map((r) => r.shown), output: runs.map((r, i) => `${CDE[i]}: ${r.out}`).join('\n'), ...verdict(bad.length === 0, `enforce=restricted, enforce-version=${scope.podSecurityVersion} on ${CDE.join(', ')}`, `not restricted:${scope.podSecurityVersion} in ${bad.join(', ')}`) };
      },
    },
    {
      id: 'table-2.2.6-kyverno-enforcing',
      guide: "table 2.2.6: kubectl get clusterpolicy cde-pod-security-requirements -o jsonpath='{.status.conditions}'",
      requirement: '2.2.6',
      control: 'every ClusterPolicy of the set Ready, every validate and verifyImages rule failureAction Enforce',
      correction: 'defect 16: Ready says nothing about Audit mode; the per-rule failureAction is checked, not the deprecated spec field',
      layer: 'kyverno',
      verdicts: ['rejected', 'admitted'],
      async run() {
        const r = await kubectl(['get', 'clusterpolicy', '-o', 'json']);
        type Rule = { name: string; validate?: { failureAction?: string }; verifyImages?: Array<{ failureAction?: string }> };
        const pols = json<{ items: Array<{ metadata: { name: string }; spec: { rules: Rule[] }; status?: { conditions?: Array<{ type: string; status: string }> } }> }>(r.out).items;
        const want = set.objects.filter((o) => o.object.kind === 'ClusterPolicy').map((o) => o.object.metadata.name);
        // Per rule, as Kyverno 1.16 decides (the CRD defaults the deprecated spec.validationFailureAction to Audit; a rule's own failureAction wins).
        const actions = (x: Rule) => [...(x.validate ? [x.validate.failureAction ?? 'unset'] : []), ...(x.verifyImages ?? []).map((v) => v.failureAction ?? 'unset')];
        const lines = pols.map((p) => `${p.metadata.name}: Ready=${p.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '?'} rules=${p.spec.rules.map((x) => `${x.name}:${actions(x).join('/') || '-'}`).join(' ')}`);
        const bad = want.filter((n) => {
          const p = pols.find((x) => x.metadata.name === n);
          return !p || p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True' || p.spec.rules.some((x) => actions(x).some((a) => a !== 'Enforce'));
        });
        return { commands: [r.shown], output: lines.join('\n'), ...verdict(bad.length === 0, `${want.length} ClusterPolicies Ready, every validate/verifyImages rule Enforce`, `not Ready or not enforcing: ${bad.join(', ')}`) };
      },
    },
    {
      id: 'table-4.2.1-tls-in-transit',
      guide: 'table 2.2.7: kubectl exec -n cde-processing <pod> -- openssl s_client -connect cde-storage-svc:5432',
      requirement: '4.2.1',
      control: 'strong cryptography for card data in transit between the workloads',
      correction: 'defect 20: this is 4.2.1, not 2.2.7 (non-console admin access)',
      layer: 'networkpolicy',
      verdicts: ['allowed', 'blocked'],
      run: () => notTested("the set's workloads are stand-ins (pci-harness server, which answers TLS and plaintext alike); TLS between them is the application's property, not the manifest set's — a handshake here would prove nothing about the real workloads"),
    },
    {
      id: 'table-3.6.1-etcd-prefix',
      guide: 'table 3.5.1: etcdctl get /registry/secrets/cde-processing/db-credentials | hexdump -C | head -3',
      requirement: '3.6.1',
      control: `a Secret written now is stored as ${configuredSecretsPrefix()}…`,
      correction: 'defects 7 and 20: secretbox (aesgcm is not recommended without automatic rotation), --print-value-only, 3.6.1/8.3.2 rather than 3.5.1 (PAN)',
      layer: 'encryption',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const pod = await etcdPod(env.cluster);
        // -w json: the value base64-encoded, binary-safe (the guide's hexdump/strings are not in the etcd image).
        const r = await kubectl(etcdctlArgs(pod, 'get', `/registry/secrets/${PROC}/${SENTINEL_NAME}`, '-w', 'json'));
        const kv = r.code === 0 ? json<{ kvs?: Array<{ value: string }> }>(r.out).kvs?.[0] : undefined;
        const prefix = kv ? storedPrefix(Buffer.from(kv.value, 'base64')) : `(no value: ${r.out.slice(0, 200)})`;
        return { commands: [`${r.shown} | jq -r '.kvs[0].value|@base64d|.[0:40]'`], output: `stored value starts: ${prefix}`, ...verdict(prefix === configuredSecretsPrefix(), `ciphertext under the configured provider and key (${prefix})`, `stored as ${prefix}, expected ${configuredSecretsPrefix()}`) };
      },
    },
    {
      id: 'table-7.2.1-no-clusterrole-bindings',
      guide: 'table 7.2.1: kubectl get rolebindings -n cde-processing -o wide',
      requirement: '7.2.1',
      control: 'CDE access is granted by namespace Roles: no RoleBinding to a ClusterRole in a CDE namespace; no ClusterRoleBinding to a CDE ServiceAccount, or to a subject the access table gives no cluster-scope entry',
      correction: 'all CDE namespaces and the cluster-wide bindings are checked, not one namespace',
      layer: 'rbac',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const rbs = await Promise.all(CDE.map((ns) => kubectl(['get', 'rolebindings', '-n', ns, '-o', 'json'])));
        const crbs = await kubectl(['get', 'clusterrolebindings', '-o', 'json']);
        type B = { metadata: { name: string; namespace?: string }; roleRef: { kind: string; name: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> };
        const toClusterRole = rbs.flatMap((r) => json<{ items: B[] }>(r.out).items).filter((b) => b.roleRef.kind === 'ClusterRole');
        // Cluster-wide grants are allowed only to a subject the access table gives cluster-scope entries (e.g. auditors reading ClusterRoles), never to a CDE ServiceAccount.
        const entries = accessTables(set).flatMap((t) => t.spec.subjects ?? []);
        const clusterScoped = new Set(entries.filter((e) => (e.allow ?? []).some((a) => !a.namespace)).map((e) => `${e.subject.kind}/${e.subject.name}`));
        const declared = new Set(entries.map((e) => `${e.subject.kind}/${e.subject.name}`));
        const cdeWide = json<{ items: B[] }>(crbs.out).items.filter((b) => (b.subjects ?? []).some((s) => (s.kind === 'ServiceAccount' && CDE.includes(s.namespace ?? '')) || (declared.has(`${s.kind}/${s.name}`) && !clusterScoped.has(`${s.kind}/${s.name}`))));
        const out = [...rbs.map((r, i) => `${CDE[i]}: ${json<{ items: B[] }>(r.out).items.map((b) => `${b.metadata.name} → ${b.roleRef.kind}/${b.roleRef.name}`).join(', ')}`), `cluster-wide bindings to access-table subjects: ${json<{ items: B[] }>(crbs.out).items.filter((b) => (b.subjects ?? []).some((s) => declared.has(`${s.kind}/${s.name}`))).map((b) => `${b.metadata.name} → ${b.roleRef.name}`).join(', ') || 'none'}; undeclared: ${cdeWide.map((b) => b.metadata.name).join(', ') || 'none'}`];
        return { commands: [...rbs.map((r) => r.shown), crbs.shown], output: out.join('\n'), ...verdict(toClusterRole.length === 0 && cdeWide.length === 0, 'every CDE binding is to a namespace Role; no cluster-wide grant to a CDE subject', `ClusterRole grants: ${[...toClusterRole, ...cdeWide].map((b) => `${b.metadata.namespace ?? ''}/${b.metadata.name}`).join(', ')}`) };
      },
    },
    {
      id: 'table-7.2.2-no-secrets-with-controls',
      guide: 'table 7.2.2: kubectl auth can-i list secrets --as=system:serviceaccount:cde-processing:card-processor -n cde-processing',
      requirement: '7.2.2',
      control: 'card-processor cannot list Secrets — and, so that "no" means something, it exists and CAN read its own ConfigMap',
      correction: 'defect 18: "no" is trivially true for a ServiceAccount that does not exist; positive controls added',
      layer: 'rbac',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const as = `--as=system:serviceaccount:${PROC}:card-processor`;
        const [sa, secrets, own] = await Promise.all([kubectl(['get', 'serviceaccount', 'card-processor', '-n', PROC, '-o', 'name']), kubectl(['auth', 'can-i', 'list', 'secrets', '-n', PROC, as]), kubectl(['auth', 'can-i', 'get', 'configmap/card-processor-config', '-n', PROC, as])]);
        const ok = sa.code === 0 && secrets.out === 'no' && own.out === 'yes';
        return { commands: [sa.shown, secrets.shown, own.shown], output: `${sa.out}\nlist secrets: ${secrets.out}\nget configmap/card-processor-config: ${own.out}`, ...verdict(ok, 'the ServiceAccount exists, may read its own ConfigMap, and may not list Secrets', `sa=${sa.code === 0 ? 'exists' : 'MISSING'} list-secrets=${secrets.out} own-configmap=${own.out}`) };
      },
    },
    {
      id: 'table-8.2.2-unique-serviceaccounts',
      guide: 'table 8.6.1: kubectl get sa -n cde-processing — verify unique SA per workload',
      requirement: '8.2.2',
      control: 'every CDE workload runs as its own ServiceAccount (never `default`, never shared)',
      correction: 'defect 19: `kubectl config view --raw` dumps client keys and is never run; the OIDC half is its own row',
      layer: 'rbac',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const runs = await Promise.all(CDE.map((ns) => kubectl(['get', 'pods', '-n', ns, '-o', 'json'])));
        const byOwner = new Map<string, string>();
        for (const r of runs) {
          for (const p of json<{ items: Array<{ metadata: { namespace: string; labels?: Record<string, string> }; spec: { serviceAccountName?: string } }> }>(r.out).items) {
            const app = p.metadata.labels?.app;
            if (app) byOwner.set(`${p.metadata.namespace}/${app}`, `${p.metadata.namespace}/${p.spec.serviceAccountName ?? 'default'}`);
          }
        }
        const sas = [...byOwner.values()];
        const shared = sas.filter((s, i) => sas.indexOf(s) !== i);
        const dflt = sas.filter((s) => s.endsWith('/default'));
        return { commands: runs.map((r) => r.shown), output: [...byOwner].map(([w, s]) => `${w} runs as ${s}`).join('\n'), ...verdict(sas.length > 0 && shared.length === 0 && dflt.length === 0, `${sas.length} workloads, ${sas.length} distinct ServiceAccounts, none is default`, `shared: ${shared.join(', ') || 'none'}; default: ${dflt.join(', ') || 'none'}${sas.length ? '' : '; no workload pod found'}`) };
      },
    },
    {
      id: 'table-8.6.1-oidc',
      guide: 'table 8.6.1: kubectl config view --raw — verify OIDC provider configured',
      requirement: '8.6.1',
      control: 'human users authenticate through the organisation identity provider',
      correction: 'defect 19: never capture `config view --raw` (it holds credentials)',
      layer: 'rbac',
      verdicts: ['forbidden', 'permitted'],
      run: () => notTested('a kind cluster has no identity provider; the harness impersonates the access table\'s humans (insider scenarios). OIDC wiring is the production cluster\'s configuration'),
    },
    {
      id: 'table-10.2.1.1-secret-access-audited',
      guide: "table 10.2.1: grep '\"resource\":\"secrets\"' /var/log/kubernetes/env.audit.log | jq .",
      requirement: '10.2.1.1',
      control: 'a Secret read is in the audit log at Metadata with user, verb, name, namespace and time',
      correction: 'defect 1: Metadata, not RequestResponse (which writes the Secret values into the log)',
      layer: 'audit',
      verdicts: ['logged', 'not-logged'],
      async run() {
        const r = await kubectl(['get', 'secret', SENTINEL_NAME, '-n', PROC, '-o', 'name']);
        const e = await env.audit.find((x) => x.stage === 'ResponseComplete' && x.verb === 'get' && x.objectRef?.resource === 'secrets' && x.objectRef.name === SENTINEL_NAME && x.objectRef.namespace === PROC);
        const shown = `jq -c 'select(.objectRef.resource=="secrets" and .objectRef.name=="${SENTINEL_NAME}") | {level, user: .user.username, verb, ns: .objectRef.namespace, name: .objectRef.name, time: .requestReceivedTimestamp}' ${env.audit.dir}/env.audit.log`;
        const row = e ? JSON.stringify({ level: e.level, user: e.user?.username, verb: e.verb, ns: e.objectRef?.namespace, name: e.objectRef?.name, time: e.requestReceivedTimestamp }) : '(no event)';
        return { commands: [r.shown, shown], output: row, ...verdict(!!e && e.level === 'Metadata' && !!e.user?.username && !!e.requestReceivedTimestamp, 'the read is audited at Metadata with identity and time', e ? `audited at ${e.level}${e.user?.username ? '' : ' without a user'}` : 'the read is not in the audit log') };
      },
    },
    {
      id: 'table-10.2.1.2-exec-audited',
      guide: "table 10.2.2: grep '\"subresource\":\"exec\"' /var/log/kubernetes/env.audit.log | jq '{user,pod,time}'",
      requirement: '10.2.1.2',
      control: 'an exec into a CDE pod is audited at Request with user, pod, container and time',
      correction: 'defect 4: kubectl ≥ 1.30 execs over WebSockets, so the verb is get; the rule must not filter on create',
      layer: 'audit',
      verdicts: ['logged', 'not-logged'],
      async run() {
        const pods = json<{ items: Array<{ metadata: { name: string }; spec: { containers: Array<{ name: string }> } }> }>((await kubectl(['get', 'pods', '-n', PROC, '-l', 'app=card-processor', '--field-selector=status.phase=Running', '-o', 'json'])).out).items;
        if (!pods[0]) return { commands: [], output: '', verdict: 'fail', reason: `no running card-processor pod in ${PROC} to exec into` };
        const cmd = `/assessor-exec-${nonce}`;
        const r = await kubectl(['exec', '-n', PROC, pods[0].metadata.name, '-c', pods[0].spec.containers[0]!.name, '--', cmd]);
        const e = await env.audit.find((x) => x.stage === 'ResponseComplete' && x.objectRef?.subresource === 'exec' && x.requestURI.includes(encodeURIComponent(cmd)));
        const row = e ? JSON.stringify({ level: e.level, verb: e.verb, user: e.user?.username, pod: e.objectRef?.name, container: /container=([^&]+)/.exec(e.requestURI)?.[1], time: e.requestReceivedTimestamp }) : '(no event)';
        return {
          commands: [r.shown, `jq -c 'select(.objectRef.subresource=="exec") | {level, verb, user: .user.username, pod: .objectRef.name, time: .requestReceivedTimestamp}' ${env.audit.dir}/env.audit.log`],
          output: `${r.out.split('\n')[0] ?? ''}\n${row}`,
          ...verdict(!!e && e.level === 'Request' && e.objectRef?.name === pods[0].metadata.name && !!e.user?.username, `audited at Request (verb ${e?.verb}) with user, pod and container`, e ? `audited at ${e.level}` : 'the exec is not in the audit log'),
        };
      },
    },
    {
      id: 'table-10.3.3-shipping',
      guide: 'table 10.3.2: kubectl get daemonset fluentd-audit-shipper -n monitoring',
      requirement: '10.3.3',
      control: 'audit logs promptly copied to a central store the cluster cannot rewrite: the shipper runs, and this row\'s own audited read is in the store within 30 s',
      correction: 'defects 6 and 20: the guide\'s fluentd ships nothing, and a running DaemonSet proves nothing about delivery; log shipping is 10.3.3 (10.3.2 is protection). The set ships with an OpenTelemetry Collector (manifests/cluster/50-audit-shipping.yaml) to an S3 Object Lock bucket (here the MinIO stand-in)',
      layer: 'audit',
      verdicts: ['logged', 'not-logged'],
      run: () => shipsARead(),
    },
    {
      id: 'table-10.5.1-retention',
      guide: 'table 10.5.1: curl .../_ilm/policy/k8s-pci-audit',
      requirement: '10.5.1',
      control: '12 months of audit history, 3 readily available: the store the shipper writes to keeps every object COMPLIANCE-locked for at least 365 days',
      correction: 'defect 5: the local files are a buffer (about 1.1 GB), retention lives in the shipped store: its Object Lock default, not an index lifecycle policy (which an admin can shorten)',
      layer: 'audit',
      verdicts: ['logged', 'not-logged'],
      async run() {
        const t = await trailTarget();
        if ('reason' in t) return { commands: t.commands, output: '', verdict: 'fail', reason: t.reason };
        const lock = await t.store.client.lockConfiguration(t.target.bucket).catch((e: Error) => e);
        const days = lock instanceof Error || !lock ? 0 : (lock.days ?? 0) + (lock.years ?? 0) * 365;
        const ok = !(lock instanceof Error) && !!lock?.enabled && lock.mode === 'COMPLIANCE' && days >= MIN_RETENTION_DAYS;
        const said = lock instanceof Error ? lock.message : lock ? `Object Lock ${lock.enabled ? 'on' : 'off'}, default ${lock.mode ?? 'none'} ${days} days` : 'no Object Lock configuration';
        return {
          commands: [...t.commands, `curl --aws-sigv4 aws:amz:us-east-1:s3 --user "$AK:$SK" '${t.store.hostUrl}/${t.target.bucket}?object-lock'`],
          output: `s3://${t.target.bucket}: ${said}`,
          ...verdict(ok, `COMPLIANCE ${days} days by default on every object the shipper writes (per-object retention and tamper attempts: live.audit.store)`, `the trail bucket does not hold objects COMPLIANCE-locked for ${MIN_RETENTION_DAYS} days: ${said}`),
        };
      },
    },
  ];

  const FAILURE_CHECKS: AssessorRow[] = [
    {
      id: 'failure-2-kyverno-enforcing',
      guide: 'failure 2: kubectl run priv-test --image=alpine --privileged --namespace=cde-processing',
      requirement: '2.2.6',
      control: 'Kyverno (not PSA) refuses a PSA-compliant pod without readOnlyRootFilesystem in a CDE namespace',
      correction: 'defect 11: a privileged pod is refused by PSA first, proving nothing about Kyverno; defect 16: failureAction per rule',
      layer: 'kyverno',
      verdicts: ['rejected', 'admitted'],
      async run() {
        const pod = harnessPod({ namespace: PROC, name: `assessor-rootfs-${nonce}`, image: env.cluster.images.cdeServerImage, nodeSelector: { ...scope.cdeNodes.label }, tolerations: [{ ...scope.cdeNodes.taint, operator: 'Equal' }] });
        delete (pod.spec as { containers: Array<{ securityContext: Record<string, unknown> }> }).containers[0]!.securityContext.readOnlyRootFilesystem;
        const r = await kubectl(['create', '--dry-run=server', '-f', '-'], stringify(pod));
        const mode = await kubectl(['get', 'clusterpolicy', 'cde-pod-security-requirements', '-o', 'jsonpath={.spec.rules[*].validate.failureAction}']);
        const o = readAdmission(r.code, r.out);
        const enforce = mode.out.split(/\s+/).filter(Boolean);
        const ok = o.layer === 'kyverno' && o.kyvernoRules.includes('cde-pod-security-requirements/require-readonly-root-filesystem') && enforce.length > 0 && enforce.every((m) => m === 'Enforce');
        return { commands: [`${r.shown} <<'EOF' (a restricted-compliant pod without readOnlyRootFilesystem)`, mode.shown], output: `${r.out.slice(0, 600)}\nfailureAction per rule: ${mode.out}`, ...verdict(ok, 'denied by the Kyverno webhook (require-readonly-root-filesystem); every rule Enforce', `admission: ${o.verdict} by ${o.layer ?? 'nobody'}; failureAction: ${mode.out}`) };
      },
    },
    {
      id: 'failure-3-every-secret-encrypted',
      guide: 'failure 3: etcdctl get /registry/secrets/cde-processing/db-credentials | strings | head -5',
      requirement: '8.3.2',
      control: 'EVERY Secret in etcd (not one) is ciphertext under the configured key, and their number matches the API',
      correction: 'defect 7: one secret proves nothing about the ones written before encryption was enabled',
      layer: 'encryption',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const pod = await etcdPod(env.cluster);
        const kvs = await readEtcdPrefix(env.cluster, pod, '/registry/secrets/');
        const api = await kubectl(['get', 'secrets', '-A', '--no-headers', '-o', 'name']);
        const n = api.out.split('\n').filter(Boolean).length;
        const plain = kvs.filter((kv) => !kv.value.subarray(0, configuredSecretsPrefix().length).toString('latin1').startsWith(configuredSecretsPrefix()));
        return {
          commands: [`kubectl ${etcdctlArgs(pod, 'get', '/registry/secrets/', '--prefix', '-w', 'json').join(' ')} | jq -r '.kvs[].value|@base64d|.[0:40]' | sort | uniq -c`, api.shown],
          output: `etcd: ${kvs.length} keys: ${prefixCounts(kvs)}\nAPI: ${n} Secrets`,
          ...verdict(plain.length === 0 && kvs.length >= n && kvs.length > 0, `${kvs.length} Secrets, all under ${configuredSecretsPrefix()}`, `${plain.length} not under ${configuredSecretsPrefix()}: ${plain.slice(0, 5).map((kv) => kv.key).join(', ')}`),
        };
      },
    },
    {
      id: 'failure-4-no-secret-value-in-audit',
      guide: "failure 4: grep '\"resource\":\"secrets\"' /var/log/kubernetes/env.audit.log | jq 'select(...)' — expected RequestResponse",
      requirement: '8.3.2',
      control: 'the sentinel Secret value (plain and base64) appears nowhere in the audit log',
      correction: 'defect 1: RequestResponse on secrets is the failure, not the expectation',
      layer: 'audit',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const events = env.audit.poll();
        const text = JSON.stringify(events);
        const hit = text.includes(SENTINEL) || text.includes(Buffer.from(SENTINEL).toString('base64'));
        return { commands: [`grep -c -e <sentinel> -e <sentinel base64> ${env.audit.dir}/audit*.log`], output: `${events.length} audit events read since this file started; sentinel found: ${hit ? 'YES' : 'no'}`, ...verdict(!hit && events.length > 0, 'the Secret value is in no audit event', events.length ? 'the Secret value is IN the audit log' : 'no audit events were read') };
      },
    },
    {
      id: 'failure-5-secret-grants-by-subject',
      guide: 'failure 5: kubectl get rolebindings,clusterrolebindings -o json | jq ".items[] | .rules ..."',
      requirement: '7.2.2',
      control: 'no subject of the access table can read Secrets in a CDE namespace — and the check fires on a seeded bad binding',
      correction: 'defect 17: RoleBindings have no .rules, the guide\'s filter never reports anything; resolve by asking the API per subject (auth can-i), and prove it fires',
      layer: 'rbac',
      verdicts: ['forbidden', 'permitted'],
      async run() {
        const subjects = accessTables(set).flatMap((t) => t.spec.subjects ?? []).map((s) => s.subject as Subject);
        const seedGroup = `pci-assessor-seed-${nonce}`;
        const seed = [
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: seedGroup, namespace: PROC }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: seedGroup, namespace: PROC }, subjects: [{ kind: 'Group', name: seedGroup, apiGroup: 'rbac.authorization.k8s.io' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: seedGroup } },
        ].map((d) => stringify(d)).join('---\n');
        const canRead = async (args: string[], ns: string) => (await kubectl(['auth', 'can-i', 'get', 'secrets', '-n', ns, ...args])).out === 'yes';
        await kubectl(['create', '-f', '-'], seed);
        let fires = false;
        try {
          fires = await canRead(identityOf({ kind: 'Group', name: seedGroup }, `assessor-${nonce}`).args, PROC);
        } finally {
          await kubectl(['delete', '-f', '-', '--ignore-not-found'], seed);
        }
        const hits: string[] = [];
        for (const s of subjects) for (const ns of CDE) if (await canRead(identityOf(s, `assessor-${nonce}`).args, ns)) hits.push(`${s.kind} ${s.name} in ${ns}`);
        return {
          commands: ['kubectl auth can-i get secrets -n <ns> --as=<subject> [--as-group=<group>]   # every access-table subject × CDE namespace', `kubectl create -f <seeded Role+RoleBinding for group ${seedGroup}>; kubectl auth can-i get secrets -n ${PROC} --as=... --as-group=${seedGroup}; kubectl delete -f <seed>`],
          output: `${subjects.length} subjects × ${CDE.length} namespaces: ${hits.length ? hits.join('; ') : 'none can read Secrets'}\nseeded bad binding detected: ${fires ? 'yes' : 'NO'}`,
          ...verdict(fires && hits.length === 0, 'no subject reads Secrets, and the same check reports a seeded grant', !fires ? 'the check does not fire on a seeded grant: its "none" proves nothing' : `Secret readers: ${hits.join('; ')}`),
        };
      },
    },
    {
      id: 'failure-6-shipping',
      guide: 'failure 6: kubectl get pods -n monitoring -l app=fluentd-audit-shipper',
      requirement: '10.3.3',
      control: 'recent audit events arrive in the external store: this check\'s own audited read is there within 30 s',
      correction: 'defect 6: the guide\'s shipper ships nothing, and a Running pod proves nothing about delivery: look for a fresh event in the store',
      layer: 'audit',
      verdicts: ['logged', 'not-logged'],
      run: () => shipsARead(),
    },
  ];

  return { table: ROWS, failures: FAILURE_CHECKS };
}
