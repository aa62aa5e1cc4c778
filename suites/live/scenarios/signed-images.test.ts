import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { deletePod, harnessPod } from '../../../harness/cluster/pods.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { findRegistry } from '../../../harness/registry/container.ts';
import { keyPair } from '../../../harness/registry/cosign.ts';
import { clusterImageRef, REGISTRY_NAMESPACE } from '../../../harness/registry/names.ts';
import { OciRegistry } from '../../../harness/registry/oci.ts';
import { SIGNED_REPO, SIGNED_TAG } from '../../../harness/registry/setup.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * The compromised CI/CD pipeline (the guide's threat model, PCI DSS 6.3.2):
 * it can push to the CDE registry and deploy into cde-processing, but it does
 * not hold the organisation's signing key. The boot signed the set's server
 * image with a key made for this run (harness/registry/setup.ts) and applied
 * verify-cde-image-signatures with its public key. The pipeline tries:
 *
 *   1. the signed image by tag            → admitted, pinned to the signed digest, Ready
 *   2. its own build, pushed unsigned     → refused by verifyImages
 *   3. its own build pushed OVER a signed tag (the tag now names other content) → refused
 *   4. its own build signed with its own key → refused
 *
 * Every pod is PSA- and Kyverno-compliant (the admission-layers base pod), so
 * only the signature rule can refuse it. Then live mutants weaken that rule on
 * the running cluster (policy deleted; failureAction Audit): the unsigned
 * deploy must get in (KILLED), and be refused again after the restore.
 */
const nonce = randomBytes(2).toString('hex');
const NS = 'cde-processing';
const POLICY = 'verify-cde-image-signatures';
const RULE = 'verify-cosign-signature';
const LAYER: LiveResult['layer'] = { kind: 'kyverno', names: [`${POLICY}/${RULE}`] };
const ADVERSARY = 'compromised CI/CD pipeline (pushes to the CDE registry, deploys into the CDE, holds no signing key)';
const SIGNATURE_DENIAL = [/admission webhook "mutate\.kyverno\.svc-fail" denied the request/, new RegExp(`${POLICY}:\\s+${RULE}: 'failed to verify image`)];
const PSA_DENIAL = /violates PodSecurity/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: Cluster;
let oci: OciRegistry;
let network = '';
let signedDigest = '';
const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
const repo = (name: string) => `${REGISTRY_NAMESPACE}/${name}`;

const pod = (name: string, image: string) =>
  harnessPod({
    namespace: NS,
    name: `${name}-${nonce}`,
    image,
    args: ['--listen', '8080'],
    nodeSelector: { 'pci-scope': 'in-scope' },
    tolerations: [{ key: 'pci-scope', operator: 'Equal', value: 'in-scope', effect: 'NoSchedule' }],
  });

interface Attempt {
  id: string;
  action: string;
  image: string;
  predicted: 'admitted' | 'rejected';
  /** What the registry held when the deploy was tried (digests), for the evidence. */
  registryState: string;
  dryRun?: boolean;
}

/** Deploy as the pipeline and judge: the refusal must come from the signature rule, an admission must be pinned to the signed digest. */
async function deploy(a: Attempt): Promise<LiveResult> {
  const t0 = Date.now();
  const p = pod(a.id, a.image);
  const name = (p.metadata as { name: string }).name;
  const r = await cluster.kubectl(['create', ...(a.dryRun ? ['--dry-run=server'] : []), '-o', 'json', '-f', '-'], { input: stringify(p), reject: false, timeoutMs: 90_000 });
  const text = redactCredentials(r.exitCode === 0 ? '' : `${r.stdout}\n${r.stderr}`.trim());
  let observed: LiveResult['observed'] = r.exitCode === 0 ? 'admitted' : /denied|forbidden|violates/i.test(text) ? 'rejected' : 'check-failed';
  let detail = '';
  let ok: boolean;
  if (observed === 'admitted') {
    const image = (JSON.parse(r.stdout) as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]!.image;
    const pinned = image.endsWith(`@${signedDigest}`);
    detail = `admitted as ${image}${pinned ? ' (mutated to the signed digest)' : ' — NOT pinned to the signed digest'}`;
    ok = a.predicted === 'admitted' && pinned;
    if (ok && !a.dryRun) {
      // Admitted is half the claim: it must also run, pulled from the registry by the node's containerd.
      const w = await cluster.kubectl(['wait', '-n', NS, `pod/${name}`, '--for=condition=Ready', '--timeout=90s'], { reject: false, timeoutMs: 120_000 });
      if (w.exitCode !== 0) {
        const why = (await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'jsonpath={.status.containerStatuses[0].state}'], { reject: false })).stdout;
        observed = 'check-failed';
        detail += `; not Ready within 90 s (the pull from the registry broke?): ${why}`;
      } else detail += '; Ready (pulled from the registry by the CDE node)';
    }
    if (!a.dryRun) await deletePod(cluster, NS, name);
  } else {
    const bySignature = SIGNATURE_DENIAL.every((m) => m.test(text)) && !PSA_DENIAL.test(text);
    detail = bySignature ? `refused by ${POLICY}/${RULE}` : observed === 'rejected' ? 'refused, but NOT by the signature rule' : 'the deploy failed without an admission decision';
    ok = a.predicted === 'rejected' && bySignature;
  }
  const status: LiveResult['status'] = observed === 'check-failed' ? 'inconclusive' : ok ? 'pass' : 'fail';
  return {
    lane: 'live',
    check: 'live.supply-chain.signature',
    requirement: '6.3.2',
    status,
    scenario: `supply-chain.${a.id}`,
    adversary: ADVERSARY,
    action: `${a.action}: create Pod ${NS}/${name} with image ${a.image}${a.dryRun ? ' (server dry run)' : ''}`,
    predicted: a.predicted,
    observed,
    layer: LAYER,
    object: `Pod/${NS}/${name}`,
    message: `${a.id}: predicted ${a.predicted} by ${POLICY}/${RULE}, observed ${observed}: ${detail}`,
    evidence: [`registry: ${a.registryState}`, text ? `denial: ${text.slice(0, 1200)}` : `result: ${detail}`].join('\n'),
    replay: `${k()} create${a.dryRun ? ' --dry-run=server' : ''} -f - <<'EOF'\n${stringify(p)}EOF`,
    ...(status === 'fail' ? { finding: observed === a.predicted ? `${a.id}: ${detail}` : `${a.id}: expected ${a.predicted}, got ${observed} — ${detail}` } : {}),
    ms: Date.now() - t0,
  };
}

beforeAll(async () => {
  cluster = sharedCluster();
  const reg = await findRegistry(cluster.name);
  if (!reg) throw new Error(`INCONCLUSIVE: cluster ${cluster.name} has no signing registry container (the boot starts it when the set verifies registry.pci.internal:5000 images: harness/registry/setup.ts)`);
  network = reg.network;
  oci = new OciRegistry(reg.hostUrl);
  signedDigest = (await oci.digestOf(repo(SIGNED_REPO), SIGNED_TAG)) ?? '';
  // The instrument: the boot's signature must be there, or a refusal would prove nothing about the rule.
  if (!signedDigest || !(await oci.hasSignatureTag(repo(SIGNED_REPO), signedDigest))) throw new Error(`INCONCLUSIVE: ${repo(SIGNED_REPO)}:${SIGNED_TAG} is not in the registry with a cosign signature`);
});

describe('supply chain (6.3.2): a compromised pipeline deploys into the CDE — only images signed with the organisation key run', () => {
  it('control: the signed image, by tag, is admitted, pinned to the signed digest, and runs', async () => {
    const r = await deploy({ id: 'signed-by-tag', action: 'deploy the signed server image by tag', image: clusterImageRef(SIGNED_REPO, SIGNED_TAG), predicted: 'admitted', registryState: `${repo(SIGNED_REPO)}:${SIGNED_TAG} → ${signedDigest} (signed with this run's key)` });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('its own build, pushed unsigned under a new repository, is refused by verifyImages', async () => {
    const digest = await oci.pushVariant({ repo: repo(SIGNED_REPO), tag: SIGNED_TAG }, { repo: repo(`pipeline-build-${nonce}`), tag: 'v1' }, { 'pci-harness.dev/built-by': 'compromised-pipeline' });
    const r = await deploy({ id: 'unsigned-build', action: 'push an unsigned build and deploy it', image: clusterImageRef(`pipeline-build-${nonce}`, 'v1'), predicted: 'rejected', registryState: `${repo(`pipeline-build-${nonce}`)}:v1 → ${digest}, no signature` });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('its own build pushed over a tag that named signed content is refused (the tag moved, the signature did not)', async () => {
    const tag = `release-${nonce}`;
    await oci.copy({ repo: repo(SIGNED_REPO), tag: SIGNED_TAG }, { repo: repo(SIGNED_REPO), tag });
    const before = await oci.digestOf(repo(SIGNED_REPO), tag);
    const after = await oci.pushVariant({ repo: repo(SIGNED_REPO), tag: SIGNED_TAG }, { repo: repo(SIGNED_REPO), tag }, { 'pci-harness.dev/built-by': 'compromised-pipeline' });
    const r = await deploy({ id: 'retagged-signed-tag', action: `re-point the signed tag ${tag} at its own build and deploy it`, image: clusterImageRef(SIGNED_REPO, tag), predicted: 'rejected', registryState: `${repo(SIGNED_REPO)}:${tag} was ${before} (signed), now ${after} (not signed)` });
    recordLiveResults([r]);
    expect(before, 'the tag did not start on the signed digest').toBe(signedDigest);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('its own build signed with its own key is refused (a signature, but not the organisation key)', async () => {
    const name = `pipeline-signed-${nonce}`;
    const digest = await oci.pushVariant({ repo: repo(SIGNED_REPO), tag: SIGNED_TAG }, { repo: repo(name), tag: 'v1' }, { 'pci-harness.dev/built-by': 'compromised-pipeline' });
    {
      await using attackerKey = await keyPair();
      await attackerKey.sign(clusterImageRef(name, digest), { network, image: cluster.images.probeImage });
    }
    const signedByAttacker = await oci.hasSignatureTag(repo(name), digest);
    const r = await deploy({ id: 'signed-other-key', action: 'sign its own build with its own key and deploy it', image: clusterImageRef(name, 'v1'), predicted: 'rejected', registryState: `${repo(name)}:v1 → ${digest}, cosign signature by another key: ${signedByAttacker ? 'present' : 'MISSING'}` });
    if (!signedByAttacker) Object.assign(r, { status: 'inconclusive', message: `${r.message} (the attacker's signature never reached the registry: the case was not tried)` });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });
});

// ---- live mutants: weaken the signature rule on the running cluster, see the scenario turn red, restore ----

interface PolicyMutant {
  id: string;
  description: string;
  weaken(): Promise<void>;
  restore(): Promise<void>;
  replay: string;
}

let savedPolicy: Record<string, unknown> | undefined;
const verdicts: string[] = [];

/** The live policy as a create-able object (no server-set fields). */
async function livePolicy(): Promise<Record<string, unknown>> {
  const o = JSON.parse((await cluster.kubectl(['get', 'clusterpolicy', POLICY, '-o', 'json'])).stdout) as { metadata: Record<string, unknown>; status?: unknown };
  const { name, labels, annotations } = o.metadata as { name: string; labels?: unknown; annotations?: Record<string, string> };
  const { ['kubectl.kubernetes.io/last-applied-configuration']: _drop, ...keep } = annotations ?? {};
  return { ...o, metadata: { name, ...(labels ? { labels } : {}), annotations: keep }, status: undefined };
}

async function policyReady(): Promise<boolean> {
  const r = await cluster.kubectl(['get', 'clusterpolicy', POLICY, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { reject: false });
  return r.stdout.trim() === 'True';
}

const unsignedProbe = async (phase: string): Promise<LiveResult> => {
  const digest = await oci.digestOf(repo(`pipeline-build-${nonce}`), 'v1');
  return deploy({ id: `mutant-probe-${phase}`, action: 'deploy the unsigned build', image: clusterImageRef(`pipeline-build-${nonce}`, 'v1'), predicted: 'rejected', registryState: `${repo(`pipeline-build-${nonce}`)}:v1 → ${digest}, no signature`, dryRun: true });
};

/** Probe until the want (green = refused by the signature rule) or the window closes: Kyverno reprograms its webhooks in seconds. */
async function probeUntil(phase: string, green: boolean, timeoutMs = 30_000): Promise<LiveResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await unsignedProbe(phase);
    if ((r.status === 'pass') === green || Date.now() > deadline) return r;
    await sleep(1500);
  }
}

async function runMutant(m: PolicyMutant): Promise<LiveResult> {
  const t0 = Date.now();
  const base = { lane: 'live' as const, check: 'live.mutant' as const, requirement: '6.3.2', scenario: `mutant.${m.id}`, adversary: 'live weakening of the running cluster', action: `${m.description} (ClusterPolicy/${POLICY})`, object: `ClusterPolicy/${POLICY}`, replay: m.replay, layer: LAYER };
  let baseline: LiveResult;
  let weakened: LiveResult | undefined;
  let restored: LiveResult | undefined;
  try {
    baseline = await unsignedProbe('baseline');
    if (baseline.status !== 'pass') throw new Error(`the signature rule is not green before the weakening: ${baseline.message}`);
    try {
      await m.weaken();
      weakened = await probeUntil('weakened', false);
    } finally {
      await m.restore();
    }
    restored = await probeUntil('restored', true);
  } catch (e) {
    const msg = redactCredentials((e as Error).message);
    verdicts.push(`  INCONCLUSIVE ${m.id}`);
    return { ...base, status: 'inconclusive', predicted: 'rejected', observed: 'check-failed', message: `INCONCLUSIVE: ${m.id}: ${msg}`, evidence: msg, ms: Date.now() - t0 };
  }
  const killed = weakened.status === 'fail' && weakened.observed === 'admitted';
  const green = restored.status === 'pass';
  const verdict = killed && green ? 'KILLED' : killed ? 'KILLED, NOT RESTORED' : 'SURVIVED';
  verdicts.push(`  ${verdict.padEnd(22)} ${m.id.padEnd(26)} [6.3.2] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return {
    ...base,
    status: verdict === 'KILLED' ? 'pass' : 'fail',
    predicted: 'rejected',
    observed: weakened.observed,
    message: `${verdict}: ${m.id} [6.3.2] — weakened: the unsigned build was ${weakened.observed}; restored: ${green ? 'refused again' : 'NOT refused'}`,
    evidence: `baseline: ${baseline.message}\nweakened: ${weakened.message}\nrestored: ${restored.message}\n${restored.evidence}`,
    ...(verdict === 'KILLED' ? {} : { finding: `live mutant ${m.id}: ${verdict}${killed ? ' (the policy is not back: check ClusterPolicy/' + POLICY + ')' : ' (the scenario does not guard this weakening)'}` }),
    ms: Date.now() - t0,
  };
}

async function restorePolicy(): Promise<void> {
  if (!savedPolicy) throw new Error('no saved policy to restore');
  const r = await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(savedPolicy), reject: false });
  if (r.exitCode !== 0) {
    if (!/AlreadyExists/.test(r.stderr)) throw new Error(`could not re-create ClusterPolicy/${POLICY}: ${r.stderr.trim()}`);
    await cluster.kubectl(['replace', '-f', '-'], { input: JSON.stringify(savedPolicy) });
  }
  const deadline = Date.now() + 60_000;
  while (!(await policyReady())) {
    if (Date.now() > deadline) throw new Error(`ClusterPolicy/${POLICY} not Ready 60 s after the restore`);
    await sleep(1000);
  }
}

const MUTANTS: PolicyMutant[] = [
  {
    id: 'verify-images-deleted',
    description: 'delete the verifyImages policy',
    weaken: async () => {
      await cluster.kubectl(['delete', 'clusterpolicy', POLICY, '--wait=true', '--timeout=60s']);
    },
    restore: restorePolicy,
    replay: '',
  },
  {
    id: 'verify-images-audit',
    description: 'switch the verifyImages failureAction to Audit (and mutateDigest off, which Kyverno requires for Audit)',
    weaken: async () => {
      const audit = [{ op: 'replace', path: '/spec/rules/0/verifyImages/0/failureAction', value: 'Audit' }, { op: 'replace', path: '/spec/rules/0/verifyImages/0/mutateDigest', value: false }];
      await cluster.kubectl(['patch', 'clusterpolicy', POLICY, '--type=json', '-p', JSON.stringify(audit)]);
    },
    restore: restorePolicy,
    replay: '',
  },
];

describe('live mutants (6.3.2): weaken the signature rule, the unsigned deploy gets in, restore', () => {
  beforeAll(async () => {
    savedPolicy = await livePolicy();
    MUTANTS[0]!.replay = `${k()} get clusterpolicy ${POLICY} -o yaml > saved.yaml; ${k()} delete clusterpolicy ${POLICY}; <deploy the unsigned build with --dry-run=server>; ${k()} create -f saved.yaml`;
    MUTANTS[1]!.replay = `${k()} patch clusterpolicy ${POLICY} --type=json -p '[{"op":"replace","path":"/spec/rules/0/verifyImages/0/failureAction","value":"Audit"},{"op":"replace","path":"/spec/rules/0/verifyImages/0/mutateDigest","value":false}]'; <deploy the unsigned build with --dry-run=server>; ${k()} patch ... value Enforce`;
  });
  for (const m of MUTANTS) {
    it(`${m.id}: ${m.description} → the unsigned build is admitted (red), refused again after restore`, async () => {
      const r = await runMutant(m);
      recordLiveResults([r]);
      process.stdout.write(`${r.message}\n`);
      expect(r.status, explain(r)).toBe('pass');
    });
  }
});

afterAll(async () => {
  // Belt and braces: whatever a crash skipped, the policy goes back as the boot applied it.
  if (savedPolicy && cluster) {
    const live = await cluster.kubectl(['get', 'clusterpolicy', POLICY, '-o', 'jsonpath={.spec.rules[0].verifyImages[0].failureAction}'], { reject: false });
    if (live.exitCode !== 0 || live.stdout.trim() !== 'Enforce') await restorePolicy().catch((e) => process.stderr.write(`signed-images: ${(e as Error).message}\n`));
  }
  if (verdicts.length) process.stdout.write(`\nsupply-chain mutants (live):\n${verdicts.join('\n')}\n`);
});
