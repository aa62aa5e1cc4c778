import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { apiServerContainer, flagsOf, restartApiServer } from '../../../harness/cluster/control-plane-edit.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { retryWhileUnavailable } from '../../../harness/cluster/readiness.ts';
import type { RunOptions } from '../../../harness/cluster/exec.ts';
import { findAuditStore, type RunningStore } from '../../../harness/audit-store/container.ts';
import type { S3Reply } from '../../../harness/audit-store/s3.ts';
import { MIN_RETENTION_DAYS, SHIPPER_CONFIGMAP, SHIPPER_DAEMONSET, SHIPPER_NAMESPACE, shipperTargetOf, type ShipperTarget } from '../../../harness/audit-store/names.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { actingUser, auditExcerpt, AuditLogReader, type AuditEvent } from '../../../harness/scenario/audit-log.ts';
import { judgeSeries, readAuditFiles } from '../../../harness/scenario/audit-rotation.ts';
import { sha256Hex, TrailReader, type ShippedObject } from '../../../harness/scenario/audit-trail.ts';
import { identityOf, insiderModel } from '../../../harness/scenario/rbac-live.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { liveResultsDir, recordLiveResults } from '../../../harness/scenario/sink.ts';
import { assessorRows, type AssessorEnv } from '../support/assessor-rows.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * The audit trail leaves the cluster and cannot be rewritten (10.3.3, 10.3.2,
 * 10.5.1, 10.3.4). The set's shipper (manifests/cluster/50-audit-shipping.yaml,
 * an OpenTelemetry Collector on the control-plane node) writes the API
 * server's audit log to the store beside the cluster (harness/audit-store/:
 * MinIO with Object Lock, a stand-in for S3 Object Lock). Where it ships is
 * read from the RUNNING ConfigMap, so a weakened config is judged as it runs.
 *
 *   sentinel   an insider (a human subject of the access table, impersonated)
 *              reads a Secret and is refused; that event must be in the store
 *              within ARRIVAL_MS with the user, groups, verb, object and 403,
 *              equal to the local audit line, and the Secret's value nowhere in
 *              the trail (10.3.3)
 *   series     SERIES Role creates across a forced rotation (apiserver restarted
 *              with --audit-log-maxsize=1, restored after) and a shipper kill in
 *              the middle: every one arrives; duplicates are counted, not hidden
 *   store      on the sentinel's object: delete of that version, overwrite of its
 *              key, shorter COMPLIANCE retention and a GOVERNANCE downgrade with
 *              the bypass header are refused or leave the version intact, by the
 *              store's owner credentials; bucket default and the object's own
 *              retention are COMPLIANCE >= 365 days (10.3.2, 10.5.1)
 *   manifest   sha256 of every shipped version, written to the evidence, equals
 *              the store's bytes read back (10.3.4)
 *   mutants    shipper stopped, bucket without lock, retention under 12 months:
 *              each must turn the judgement red naming its requirement, then be
 *              restored and green again
 */
const SCENARIO = 'audit.shipping';
const nonce = randomBytes(3).toString('hex');
const ARRIVAL_MS = 30_000;
const RESTORED_MS = 120_000;
const SERIES = 120;
const PADDING = 16 * 1024;
const SERIES_NS = `audit-ship-${nonce}`;
const sentinelName = `ship-sentinel-${nonce}`;
const sentinelValue = `pci-ship-${randomBytes(12).toString('hex')}`;
const DAY_MS = 86_400_000;

const { cde: CDE, humans: HUMANS } = insiderModel();
let cluster: Cluster;
let store: RunningStore;
let audit: AuditLogReader;
let setupError = '';
/** Versions the harness itself wrote (overwrite attempts): in the manifest, marked, never audit data. */
const harnessWrites = new Set<string>();
const timings: Record<string, number> = {};
const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
const s3replay = (what: string) => `AK=$(docker inspect ${store.container} --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^MINIO_ROOT_USER=//p'); SK=...MINIO_ROOT_PASSWORD...; curl -s --aws-sigv4 aws:amz:us-east-1:s3 --user "$AK:$SK" ${what}`;

/** A write that admission must judge: after an apiserver restart Kyverno's webhook refuses connections for a while (fail closed), so retry while it is unavailable. */
const write = (args: string[], opts: RunOptions = {}) => retryWhileUnavailable(`kubectl ${args.slice(0, 2).join(' ')}`, () => cluster.kubectl(args, opts), { maxRetryMs: 180_000 });

async function liveTarget(): Promise<ShipperTarget> {
  const r = await cluster.kubectl(['get', 'configmap', SHIPPER_CONFIGMAP, '-n', SHIPPER_NAMESPACE, '-o', 'json']);
  return shipperTargetOf((JSON.parse(r.stdout) as { data: Record<string, string> }).data['config.yaml'] ?? '');
}

async function shipperRollout(timeoutS = 120): Promise<void> {
  await cluster.kubectl(['rollout', 'status', `daemonset/${SHIPPER_DAEMONSET}`, '-n', SHIPPER_NAMESPACE, `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 10) * 1000 });
}

interface Arrival {
  user: string;
  forbidden: boolean;
  event?: AuditEvent;
  local?: AuditEvent;
  object?: ShippedObject;
  latencyMs: number;
  target: ShipperTarget;
  trail: TrailReader;
}

/** The insider's refused read of the sentinel Secret, then wait for it in the bucket the running shipper writes to. */
async function sentinel(label: string, windowMs = ARRIVAL_MS): Promise<Arrival> {
  const target = await liveTarget();
  const trail = new TrailReader(store.client, target.bucket, target.prefix);
  // Only what arrives from now on: the latency is the sentinel's, not the time to read the whole trail.
  await trail.skipExisting();
  const id = identityOf(HUMANS[0]!, `insider-ship-${nonce}-${label}`);
  const ns = CDE[0]!;
  const t0 = Date.now();
  const r = await cluster.kubectl(['get', '--raw', `/api/v1/namespaces/${ns}/secrets/${sentinelName}`, ...id.args], { reject: false, timeoutMs: 30_000 });
  const forbidden = r.exitCode !== 0 && /forbidden/i.test(r.stderr);
  const match = (e: AuditEvent) => e.stage === 'ResponseComplete' && actingUser(e).username === id.user && e.objectRef?.name === sentinelName;
  const found = await trail.find(match, windowMs);
  const local = await audit.find(match, 5_000);
  return { user: id.user, forbidden, event: found.event, local, object: found.object, latencyMs: found.at - t0, target, trail };
}

function arrivalResult(a: Arrival, label: string): LiveResult {
  const e = a.event;
  const who = e ? actingUser(e) : {};
  const group = HUMANS[0]!.kind === 'Group' ? HUMANS[0]!.name : undefined;
  const sameAsLocal = !!e && !!a.local && e.auditID === a.local.auditID && JSON.stringify(e) === JSON.stringify(a.local);
  const ok = !!e && a.forbidden && who.username === a.user && (!group || !!who.groups?.includes(group)) && e.verb === 'get' && e.objectRef?.resource === 'secrets' && e.responseStatus?.code === 403 && !!e.requestReceivedTimestamp && sameAsLocal;
  return {
    lane: 'live',
    check: 'live.audit.shipping',
    requirement: '10.3.3',
    status: !a.forbidden ? 'inconclusive' : ok ? 'pass' : 'fail',
    scenario: SCENARIO,
    adversary: `insider ${HUMANS[0]!.kind} ${HUMANS[0]!.name} (impersonated as ${a.user})`,
    action: `${label}: get secret ${CDE[0]}/${sentinelName} (refused), then look for the event in s3://${a.target.bucket}/${a.target.prefix}`,
    predicted: 'logged',
    observed: !a.forbidden ? 'check-failed' : e ? 'logged' : 'not-logged',
    layer: { kind: 'audit', names: [`${SHIPPER_NAMESPACE}/${SHIPPER_DAEMONSET}`, `s3://${a.target.bucket}`] },
    object: a.object ? `s3://${a.target.bucket}/${a.object.key}?versionId=${a.object.versionId}` : undefined,
    message: e
      ? `in the store after ${(a.latencyMs / 1000).toFixed(1)} s: user ${who.username} [${who.groups?.join(', ')}] ${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name} → ${e.responseStatus?.code}; byte-equal to the local audit line: ${sameAsLocal}`
      : `not in s3://${a.target.bucket}/${a.target.prefix} within ${(ARRIVAL_MS / 1000).toFixed(0)} s (${a.trail.objects.length} object versions read)${a.local ? '; it IS in the local audit log' : ''}`,
    evidence: `stored: ${auditExcerpt(e, `s3://${a.target.bucket}`)}; local: ${auditExcerpt(a.local, audit.dir)}`,
    replay: `${k()} get --raw /api/v1/namespaces/${CDE[0]}/secrets/${sentinelName} --as=${a.user}${group ? ` --as-group=${group}` : ''}; ${s3replay(`'${store.hostUrl}/${a.target.bucket}?versions&prefix=${a.target.prefix}'`)}`,
    ms: a.latencyMs,
    ...(ok ? {} : { finding: e ? 'the shipped event lacks identity, object, code or time, or differs from the local line (10.3.3)' : `the audit trail does not reach the central store within ${ARRIVAL_MS / 1000} s (10.3.3)` }),
  };
}

interface StoreVerdict {
  results: LiveResult[];
}

/** Tamper with the sentinel's stored version as the store's owner; judge the lock on the bucket and on the object. */
async function judgeStore(a: Arrival, label: string): Promise<StoreVerdict> {
  const base: Pick<LiveResult, 'lane' | 'scenario' | 'adversary' | 'layer'> = { lane: 'live', scenario: SCENARIO, adversary: 'the store\'s owner credentials (what a compromised shipper or admin holds)', layer: { kind: 'audit', names: [`s3://${a.target.bucket} Object Lock`] } };
  const o = a.object;
  if (!o) {
    const none: LiveResult = { ...base, check: 'live.audit.store', requirement: '10.3.2', status: 'inconclusive', action: `${label}: tamper with the sentinel's stored object`, predicted: 'forbidden', observed: 'check-failed', message: 'no shipped object to tamper with (the sentinel never arrived)', evidence: 'see the live.audit.shipping result', replay: s3replay(`'${store.hostUrl}/${a.target.bucket}?versions'`) };
    return { results: [{ ...none }, { ...none, requirement: '10.5.1', action: `${label}: read the retention of the sentinel's stored object` }] };
  }
  const c = store.client;
  const url = `${store.hostUrl}/${a.target.bucket}/${o.key}?versionId=${o.versionId}`;
  const stillThere = async () => {
    const r = await c.getObject(a.target.bucket, o.key, o.versionId);
    return r.status === 200 && sha256Hex(r.body) === o.sha256;
  };
  // 10.3.2: delete the version, overwrite the key, shorten or downgrade its retention.
  const del = await c.deleteObject(a.target.bucket, o.key, o.versionId);
  const afterDelete = await stillThere();
  const over = await c.putObject(a.target.bucket, o.key, `${JSON.stringify({ pciHarnessTamperAttempt: nonce, label })}\n`);
  const newVersion = over.headers.get('x-amz-version-id') ?? '';
  if (over.status === 200) harnessWrites.add(`${o.key}\u0000${newVersion}`);
  const afterOverwrite = await stillThere();
  const shorten = await c.putRetention(a.target.bucket, o.key, o.versionId, 'COMPLIANCE', new Date(Date.now() + DAY_MS));
  const downgrade = await c.putRetention(a.target.bucket, o.key, o.versionId, 'GOVERNANCE', new Date(Date.now() + DAY_MS), true);
  // A refusal counts only when the store says the lock refused it (not a malformed request).
  const refused = (r: S3Reply) => r.status >= 400 && /WORM|locked|retention/i.test(`${r.code ?? ''} ${r.message ?? ''}`);
  const retentionAfter = await c.retention(a.target.bucket, o.key, o.versionId).catch(() => undefined);
  // Instrument control: the same retention request, one day LONGER, must be accepted (the lock allows extending).
  const extend = retentionAfter?.retainUntil ? await c.putRetention(a.target.bucket, o.key, o.versionId, retentionAfter.mode ?? 'COMPLIANCE', new Date(retentionAfter.retainUntil.getTime() + DAY_MS)) : undefined;
  const instrumentOk = !retentionAfter?.retainUntil || extend?.status === 200;
  const protectedOk = refused(del) && afterDelete && afterOverwrite && refused(shorten) && refused(downgrade);
  const says = (r: S3Reply) => `HTTP ${r.status} ${r.code ?? ''}${r.message ? ` "${r.message}"` : ''}`;
  const attempts = `DELETE version → ${says(del)}, still there ${afterDelete}; PUT same key → HTTP ${over.status}${newVersion ? ` (new version ${newVersion})` : ''}, original version unchanged ${afterOverwrite}; retention COMPLIANCE +1 day → ${says(shorten)}; GOVERNANCE +1 day with bypass → ${says(downgrade)}; control: retention extended by 1 day → ${extend ? `HTTP ${extend.status}` : 'not tried (no retention)'}`;
  const protection: LiveResult = {
    ...base,
    check: 'live.audit.store',
    requirement: '10.3.2',
    status: !instrumentOk ? 'inconclusive' : protectedOk ? 'pass' : 'fail',
    action: `${label}: delete, overwrite, re-retain s3://${a.target.bucket}/${o.key} (version ${o.versionId})`,
    predicted: 'forbidden',
    observed: protectedOk ? 'forbidden' : 'permitted',
    object: `s3://${a.target.bucket}/${o.key}?versionId=${o.versionId}`,
    message: protectedOk ? 'every attempt refused or left the stored version byte-identical (an overwrite only adds a version: S3 Object Lock semantics)' : 'the stored audit object could be removed, replaced or unlocked',
    evidence: attempts,
    replay: s3replay(`-X DELETE '${url}'`),
    ...(protectedOk ? {} : { finding: `a shipped audit object is not protected from modification: ${attempts} (10.3.2)` }),
  };
  // 10.5.1: the bucket's default and the object's own retention, COMPLIANCE, >= 12 months from its write.
  const lock = await c.lockConfiguration(a.target.bucket).catch((e: Error) => e);
  const days = lock instanceof Error || !lock ? 0 : (lock.days ?? 0) + (lock.years ?? 0) * 365;
  const bucketOk = !(lock instanceof Error) && !!lock?.enabled && lock.mode === 'COMPLIANCE' && days >= MIN_RETENTION_DAYS;
  const until = retentionAfter?.retainUntil?.getTime() ?? 0;
  // Counted from the write (at most the arrival window ago), a day of slack for clocks.
  const objectOk = retentionAfter?.mode === 'COMPLIANCE' && until >= Date.now() + (MIN_RETENTION_DAYS - 1) * DAY_MS;
  const retentionOk = bucketOk && objectOk;
  const retention: LiveResult = {
    ...base,
    check: 'live.audit.store',
    requirement: '10.5.1',
    status: retentionOk ? 'pass' : 'fail',
    action: `${label}: read the Object Lock configuration of ${a.target.bucket} and the retention of the sentinel's version`,
    predicted: 'forbidden',
    observed: retentionOk ? 'forbidden' : 'permitted',
    object: `s3://${a.target.bucket}/${o.key}?versionId=${o.versionId}`,
    message: `bucket: ${lock instanceof Error ? lock.message : lock ? `Object Lock ${lock.enabled ? 'on' : 'off'}, default ${lock.mode ?? 'none'} ${days} days` : 'no Object Lock configuration'}; object: ${retentionAfter?.mode ?? 'no retention'} until ${retentionAfter?.retainUntil?.toISOString() ?? '-'}`,
    evidence: `required: COMPLIANCE, >= ${MIN_RETENTION_DAYS} days on the bucket and on the object (until >= now + ${MIN_RETENTION_DAYS - 1} days)`,
    replay: s3replay(`'${store.hostUrl}/${a.target.bucket}?object-lock'; curl ... '${url}&retention'`),
    ...(retentionOk ? {} : { finding: `audit log history is not retained for 12 months in the store (10.5.1)` }),
  };
  return { results: [protection, retention] };
}

/** The whole 10.3.x judgement: the sentinel ships, and the store protects and retains it. */
async function judgeTrail(label: string, windowMs = ARRIVAL_MS): Promise<{ arrival: Arrival; results: LiveResult[] }> {
  const arrival = await sentinel(label, windowMs);
  const shipped = arrivalResult(arrival, label);
  const stored = await judgeStore(arrival, label);
  return { arrival, results: [shipped, ...stored.results] };
}

beforeAll(async () => {
  try {
    cluster = sharedCluster();
    const found = await findAuditStore(cluster.name);
    if (!found) throw new Error(`no audit store beside cluster ${cluster.name} (the boot starts it when manifests/cluster ships to audit-store.pci.internal)`);
    store = found;
    audit = new AuditLogReader(cluster.workDir ? join(cluster.workDir, 'audit') : '');
    await shipperRollout(60);
    await cluster.kubectl(['create', 'secret', 'generic', sentinelName, '-n', CDE[0]!, `--from-literal=token=${sentinelValue}`]);
    await cluster.kubectl(['create', 'namespace', SERIES_NS]);
  } catch (e) {
    setupError = `INCONCLUSIVE: ${SCENARIO} set-up failed (no observation was made): ${redactCredentials((e as Error).message)}`;
  }
}, 180_000);

afterAll(async () => {
  await cluster?.kubectl(['delete', 'secret', sentinelName, '-n', CDE[0]!, '--ignore-not-found', '--wait=false'], { reject: false });
  await cluster?.kubectl(['delete', 'namespace', SERIES_NS, '--ignore-not-found', '--wait=false'], { reject: false });
  const dir = join(process.env.PCI_HARNESS_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'pci-harness'), 'live-timings');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'audit-shipping.json'), `${JSON.stringify({ at: new Date().toISOString(), timings }, null, 2)}\n`);
});

const need = () => {
  if (setupError) throw new Error(setupError);
};

describe('the audit trail is shipped to an append-only store and proven there (10.3.2, 10.3.3, 10.3.4, 10.5.1)', () => {
  let first: { arrival: Arrival; results: LiveResult[] } | undefined;

  it('an insider\'s refused Secret read arrives in the store within seconds, with identity, equal to the local line', async () => {
    need();
    first = await judgeTrail('sentinel');
    timings.sentinelArrivalMs = first.arrival.latencyMs;
    const r = first.results[0]!;
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  }, 90_000);

  it('the Secret\'s value is nowhere in the shipped trail (clear or base64)', async () => {
    need();
    expect(first, 'the sentinel step did not run').toBeDefined();
    // The whole trail, from the first object on.
    const trail = new TrailReader(store.client, first!.arrival.target.bucket, first!.arrival.target.prefix);
    await trail.poll();
    let clear = false;
    let b64 = false;
    for (const o of trail!.objects) {
      const body = (await store.client.getObject(trail!.bucket, o.key, o.versionId)).body;
      clear ||= body.includes(sentinelValue);
      b64 ||= body.includes(Buffer.from(sentinelValue).toString('base64'));
    }
    const leaked = clear || b64;
    const r: LiveResult = {
      lane: 'live', check: 'live.audit.shipping', requirement: '10.3.3', scenario: SCENARIO,
      status: trail!.objects.length === 0 ? 'inconclusive' : leaked ? 'fail' : 'pass',
      adversary: 'anyone who can read the central store',
      action: `search every shipped object in s3://${trail!.bucket}/${trail!.prefix} for the value of Secret ${CDE[0]}/${sentinelName}`,
      predicted: 'not-logged', observed: trail!.objects.length === 0 ? 'check-failed' : leaked ? 'logged' : 'not-logged',
      layer: { kind: 'audit', names: ['pci-audit-policy', `${SHIPPER_NAMESPACE}/${SHIPPER_DAEMONSET}`] },
      message: leaked ? 'a Secret value is in the central store' : `not in any of ${trail!.objects.length} shipped object versions (${trail!.objects.reduce((n, o) => n + o.size, 0)} bytes)`,
      evidence: `clear=${clear} base64=${b64} over ${trail!.objects.length} versions`,
      replay: s3replay(`'${store.hostUrl}/${trail!.bucket}?versions'`),
      ...(leaked ? { finding: 'a Secret value leaves the cluster in the audit trail (8.3.2, 10.3.3)' } : {}),
    };
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  }, 120_000);

  it('the store refuses to delete, overwrite or shorten the retention of the shipped event; COMPLIANCE >= 12 months on bucket and object', async () => {
    need();
    expect(first, 'the sentinel step did not run').toBeDefined();
    const rs = first!.results.slice(1);
    recordLiveResults(rs);
    for (const r of rs) expect(r.status, explain(r)).toBe('pass');
  });

  it(`every one of ${SERIES} audited writes arrives across a forced rotation and a shipper kill (duplicates counted)`, async () => {
    need();
    const t0 = Date.now();
    const before = flagsOf((await apiServerContainer(cluster))?.command ?? []);
    const setSize = before.get('audit-log-maxsize') ?? '100';
    const names = Array.from({ length: SERIES }, (_, i) => `ship-series-${nonce}-${String(i).padStart(3, '0')}`);
    const roles = (slice: string[]) => stringify({ apiVersion: 'v1', kind: 'List', items: slice.map((n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: n, namespace: SERIES_NS, annotations: { 'pci-harness.dev/padding': 'x'.repeat(PADDING) } }, rules: [] })) });
    let killed = '';
    const target = await liveTarget();
    const trail = new TrailReader(store.client, target.bucket, target.prefix);
    try {
      await restartApiServer(cluster, { reason: `${SCENARIO} forced rotation`, flags: { 'audit-log-maxsize': '1' } });
      await trail.skipExisting();
      await write(['create', '-f', '-'], { input: roles(names.slice(0, SERIES / 2)), timeoutMs: 120_000 });
      // Kill the shipper (1 s grace) and write the second half while it is gone: rotation happens with nobody reading.
      const pods = await cluster.kubectl(['get', 'pods', '-n', SHIPPER_NAMESPACE, '-l', `app=${SHIPPER_DAEMONSET}`, '-o', 'name']);
      killed = pods.stdout.trim();
      await write(['delete', '-n', SHIPPER_NAMESPACE, ...killed.split('\n'), '--grace-period=1', '--wait=false']);
      await write(['create', '-f', '-'], { input: roles(names.slice(SERIES / 2)), timeoutMs: 120_000 });
    } finally {
      await restartApiServer(cluster, { reason: `${SCENARIO} restore`, flags: { 'audit-log-maxsize': setSize } });
      // Later files on this cluster need admission back: a dry-run Role create goes through Kyverno's fail-closed webhook.
      await write(['create', '-f', '-', '--dry-run=server'], { input: roles([`ship-probe-${nonce}`]) });
    }
    await shipperRollout();
    const local = judgeSeries(readAuditFiles(audit.dir), names, (e: AuditEvent) => e.verb === 'create' && e.objectRef?.resource === 'roles' && e.objectRef.namespace === SERIES_NS ? e.objectRef.name : undefined);
    const isSeries = (e: AuditEvent) => e.verb === 'create' && e.objectRef?.resource === 'roles' && e.objectRef.namespace === SERIES_NS && e.stage === 'ResponseComplete';
    const deadline = Date.now() + 180_000;
    let got = new Set<string>();
    while (Date.now() < deadline) {
      await trail.poll();
      got = new Set(trail.events.filter(isSeries).map((e) => e.objectRef!.name!));
      if (names.every((n) => got.has(n))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const missing = names.filter((n) => !got.has(n));
    const dups = trail.duplicates(isSeries);
    timings.seriesMs = Date.now() - t0;
    const rotated = local.spread.filter((s) => s.file !== 'audit.log').length;
    const ok = missing.length === 0 && local.ok && rotated >= 2;
    const r: LiveResult = {
      lane: 'live', check: 'live.audit.shipping', requirement: '10.3.3', scenario: SCENARIO,
      status: !local.ok || rotated < 2 ? 'inconclusive' : ok ? 'pass' : 'fail',
      adversary: 'rotation and a shipper crash (1 s grace) while the API server keeps writing',
      action: `${SERIES} Role creates in ${SERIES_NS} (RequestResponse, ~${PADDING / 1024} KB each) with --audit-log-maxsize=1, the shipper killed after ${SERIES / 2}`,
      predicted: 'logged', observed: !local.ok || rotated < 2 ? 'check-failed' : missing.length ? 'not-logged' : 'logged',
      layer: { kind: 'audit', names: [`${SHIPPER_NAMESPACE}/${SHIPPER_DAEMONSET}`, 'file_storage offsets + persistent queue'] },
      message: `${SERIES - missing.length}/${SERIES} in the store; locally the series spans ${local.spread.length} file(s), ${rotated} rotated; duplicates in the store: ${dups.events} event(s), ${dups.extraCopies} extra cop${dups.extraCopies === 1 ? 'y' : 'ies'} (at-least-once after a kill: the shipper documents it)`,
      evidence: `killed ${killed.replace(/\n/g, ', ')}; local: found ${local.found}/${local.expected}, missing ${local.missing.length}, spread ${local.spread.map((s) => `${s.file}:${s.events}`).join(' ')}; store: ${trail.objects.length} versions read, missing ${missing.slice(0, 5).join(', ') || 'none'}`,
      replay: `${s3replay(`'${store.hostUrl}/${target.bucket}?versions&prefix=${target.prefix}'`)} # then grep ship-series-${nonce} in each version`,
      ms: timings.seriesMs,
      ...(ok ? {} : { finding: missing.length ? `${missing.length} audit events never reached the store (10.3.3)` : 'rotation was not exercised: the proof is incomplete' }),
    };
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  }, 600_000);

  describe('live mutants: each weakening turns the 10.3.x judgement red naming its requirement, then is restored', () => {
    interface TrailMutant {
      id: string;
      requirement: string;
      description: string;
      weaken(): Promise<void>;
      restore(): Promise<void>;
      /** Arrival window under the weakening (a stopped shipper must not be waited for long). */
      windowMs?: number;
      /** The assessor row (suites/live/support/assessor-rows.ts) that must turn red too, and green again after. */
      assessorRow: string;
    }
    // The assessor's own rows for shipping and retention: each must fail under its weakening as well.
    const assessorEnv = { sentinel: { name: sentinelName, value: sentinelValue } } as AssessorEnv;
    const { table: ASSESSOR_TABLE } = assessorRows(assessorEnv);
    const runRow = async (id: string) => {
      const row = ASSESSOR_TABLE.find((r) => r.id === id);
      if (!row) throw new Error(`no assessor row ${id}`);
      return row.run();
    };
    const unlocked = `pci-audit-trail-unlocked-${nonce}`;
    let config = '';
    const setBucket = async (bucket: string) => {
      const cfg = parse(config) as { exporters: { awss3: { s3uploader: { s3_bucket: string } } } };
      cfg.exporters.awss3.s3uploader.s3_bucket = bucket;
      await write(['patch', 'configmap', SHIPPER_CONFIGMAP, '-n', SHIPPER_NAMESPACE, '--type=merge', '-p', JSON.stringify({ data: { 'config.yaml': bucket === shipperTargetOf(config).bucket ? config : stringify(cfg) } })]);
      await write(['rollout', 'restart', `daemonset/${SHIPPER_DAEMONSET}`, '-n', SHIPPER_NAMESPACE]);
      await shipperRollout();
    };
    const mutants: TrailMutant[] = [
      {
        id: 'shipper-stopped',
        requirement: '10.3.3',
        description: 'the shipper DaemonSet selects no node (its pod is gone)',
        windowMs: 20_000,
        assessorRow: 'table-10.3.3-shipping',
        weaken: async () => {
          await write(['patch', 'daemonset', SHIPPER_DAEMONSET, '-n', SHIPPER_NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'pci-harness.dev/no-such-node': nonce } } } } })]);
          await cluster.kubectl(['wait', '--for=delete', 'pod', '-n', SHIPPER_NAMESPACE, '-l', `app=${SHIPPER_DAEMONSET}`, '--timeout=60s'], { reject: false, timeoutMs: 70_000 });
        },
        restore: async () => {
          await write(['patch', 'daemonset', SHIPPER_DAEMONSET, '-n', SHIPPER_NAMESPACE, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/nodeSelector', value: { 'node-role.kubernetes.io/control-plane': '' } }])]);
          await shipperRollout();
        },
      },
      {
        id: 'bucket-without-lock',
        requirement: '10.3.2',
        description: `the shipper writes to ${unlocked}, a bucket created without Object Lock`,
        assessorRow: 'table-10.5.1-retention',
        weaken: async () => {
          const made = await store.client.createBucket(unlocked);
          if (made.status !== 200 && made.code !== 'BucketAlreadyOwnedByYou') throw new Error(`could not create ${unlocked}: HTTP ${made.status} ${made.code ?? ''}`);
          await setBucket(unlocked);
        },
        restore: async () => setBucket(shipperTargetOf(config).bucket),
      },
      {
        id: 'retention-under-12-months',
        requirement: '10.5.1',
        description: 'the trail bucket\'s default retention lowered to COMPLIANCE 30 days (new objects get 30 days)',
        assessorRow: 'table-10.5.1-retention',
        weaken: async () => {
          const r = await store.client.putLockConfiguration(shipperTargetOf(config).bucket, 'COMPLIANCE', 30);
          if (r.status !== 200) throw new Error(`could not lower the default retention: HTTP ${r.status} ${r.code ?? ''}`);
        },
        restore: async () => {
          const r = await store.client.putLockConfiguration(shipperTargetOf(config).bucket, 'COMPLIANCE', MIN_RETENTION_DAYS);
          if (r.status !== 200) throw new Error(`could not restore the default retention: HTTP ${r.status} ${r.code ?? ''}`);
        },
      },
    ];

    beforeAll(async () => {
      if (setupError) return;
      const r = await cluster.kubectl(['get', 'configmap', SHIPPER_CONFIGMAP, '-n', SHIPPER_NAMESPACE, '-o', 'json']);
      config = (JSON.parse(r.stdout) as { data: Record<string, string> }).data['config.yaml'] ?? '';
      Object.assign(assessorEnv, { cluster, audit });
    });

    for (const m of mutants) {
      it(`${m.id}: ${m.description} → red naming ${m.requirement}, restored → green`, async () => {
        need();
        const t0 = Date.now();
        let under: LiveResult[] = [];
        let after: LiveResult[] = [];
        let rowUnder: Awaited<ReturnType<typeof runRow>> | undefined;
        try {
          await m.weaken();
          under = (await judgeTrail(`mutant ${m.id}`, m.windowMs)).results;
          rowUnder = await runRow(m.assessorRow);
        } finally {
          await m.restore();
        }
        // Green again is judged with a wider window than the latency test: a re-created shipper pod first waits for its
        // CNI to program it (Cilium regenerates the endpoint) and its exporter backs off meanwhile (seen on pci-cilium).
        after = (await judgeTrail(`restored after ${m.id}`, RESTORED_MS)).results;
        const rowAfter = await runRow(m.assessorRow);
        const red = under.filter((r) => r.status === 'fail' && r.requirement === m.requirement);
        // Killed only when the assessor's row sees it too: a row that stays green under the weakening proves nothing.
        const killed = red.length > 0 && rowUnder?.verdict === 'fail';
        const greenAgain = after.every((r) => r.status === 'pass') && rowAfter.verdict === 'pass';
        const rowSays = `assessor row ${m.assessorRow}: ${rowUnder?.verdict ?? 'not run'} under the weakening (${rowUnder?.reason ?? ''}), ${rowAfter.verdict} after (${rowAfter.reason})`;
        const verdict = killed && greenAgain ? 'KILLED' : killed ? 'KILLED, NOT RESTORED' : 'SURVIVED';
        timings[`mutant-${m.id}-ms`] = Date.now() - t0;
        const result: LiveResult = {
          lane: 'live', check: 'live.mutant', requirement: m.requirement, scenario: `mutant.${m.id}`,
          status: verdict === 'KILLED' ? 'pass' : 'fail',
          adversary: 'live weakening of the running shipper or store',
          action: m.description,
          predicted: 'forbidden', observed: killed ? 'forbidden' : 'permitted',
          layer: { kind: 'audit', names: [`${SHIPPER_NAMESPACE}/${SHIPPER_DAEMONSET}`, 'audit store Object Lock'] },
          message: `${verdict}: ${m.id} — under the weakening ${red.length} result(s) red naming ${m.requirement} (${under.map((r) => `${r.requirement} ${r.status}`).join(', ')}); restored: ${greenAgain ? 'green again' : `NOT green (${after.filter((r) => r.status !== 'pass').map((r) => `${r.requirement} ${r.status}`).join(', ')})`}; ${rowSays}`,
          evidence: red.map((r) => r.message).join(' | ').slice(0, 1500) || under.map((r) => `${r.requirement}: ${r.message}`).join(' | ').slice(0, 1500),
          replay: 'see the mutant table in suites/live/scenarios/audit-shipping.test.ts',
          ms: Date.now() - t0,
          ...(verdict === 'KILLED' ? {} : { finding: `live mutant ${m.id}: ${verdict}` }),
        };
        recordLiveResults([result]);
        expect(result.status, explain(result)).toBe('pass');
      }, 400_000);
    }
  });

  it('a hash manifest of every shipped version is in the evidence and equals the store\'s bytes read back (10.3.4)', async () => {
    need();
    const target = await liveTarget();
    const trail = new TrailReader(store.client, target.bucket, target.prefix);
    await trail.poll();
    const manifest = {
      schema: 'pci-harness.dev/audit-trail-manifest/v1',
      generatedAt: new Date().toISOString(),
      store: `${store.container} (stand-in for S3 Object Lock)`,
      bucket: target.bucket,
      prefix: target.prefix,
      objects: trail.objects.map((o) => ({ key: o.key, versionId: o.versionId, size: o.size, sha256: o.sha256, events: o.events, ...(harnessWrites.has(`${o.key}\u0000${o.versionId}`) ? { writtenBy: 'pci-harness overwrite attempt (not audit data)' } : {}) })),
    };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    const dir = liveResultsDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'audit-trail-manifest.json');
    writeFileSync(file, text);
    const mismatched: string[] = [];
    for (const o of trail.objects) {
      const r = await store.client.getObject(target.bucket, o.key, o.versionId);
      if (r.status !== 200 || sha256Hex(r.body) !== o.sha256) mismatched.push(`${o.key}@${o.versionId}`);
    }
    const ok = trail.objects.length > 0 && mismatched.length === 0;
    const r: LiveResult = {
      lane: 'live', check: 'live.audit.integrity', requirement: '10.3.4', scenario: SCENARIO,
      status: trail.objects.length === 0 ? 'inconclusive' : ok ? 'pass' : 'fail',
      adversary: 'anyone who alters a stored audit object',
      action: `sha256 of every version in s3://${target.bucket}/${target.prefix}, recorded in ${file}, then every version read back and re-hashed`,
      predicted: 'logged', observed: trail.objects.length === 0 ? 'check-failed' : ok ? 'logged' : 'not-logged',
      layer: { kind: 'audit', names: [`s3://${target.bucket}`] },
      message: `${trail.objects.length} versions (${trail.events.length} events, ${harnessWrites.size} harness overwrite attempts marked), ${mismatched.length} mismatched; manifest sha256 ${sha256Hex(text)}`,
      evidence: `manifest ${file}; mismatched: ${mismatched.slice(0, 5).join(', ') || 'none'}`,
      replay: `node -e "const m=require('${file}');console.log(m.objects.length)"  # then re-hash each version: ${s3replay(`'${store.hostUrl}/${target.bucket}/<key>?versionId=<id>' | sha256sum`)}`,
      ...(ok ? {} : { finding: `stored audit objects differ from their recorded hashes (10.3.4): ${mismatched.slice(0, 5).join(', ')}` }),
    };
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  }, 300_000);
});
