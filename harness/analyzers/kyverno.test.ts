import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { setFromTexts } from '../manifests/load.ts';
import { locateKyvernoCli } from '../tools/kyverno-cli.ts';
import { kyvernoAnalyzer, runKyverno, withoutVerifyImages } from './kyverno.ts';
import { REPO_ROOT } from './kyverno/fixtures.ts';
import { verifyCoverageResults } from './kyverno/verify-coverage.ts';
import { parseAllDocuments, stringify } from 'yaml';
import { MUTANTS_KYVERNO_VERIFY_COVERAGE } from '../../suites/offline/mutants/kyverno.ts';

// The set under test is the shipped one: namespaces + the Kyverno policies.
const FILES = ['00-namespaces.yaml', '30-kyverno-cde-pod-security.yaml', '31-kyverno-generate-default-deny.yaml', '33-kyverno-cde-node-isolation.yaml'];
const shipped = Object.fromEntries(FILES.map((f) => [`cluster/${f}`, readFileSync(join(REPO_ROOT, 'manifests', 'cluster', f), 'utf8')]));
const POD = 'cluster/30-kyverno-cde-pod-security.yaml';
const GEN = 'cluster/31-kyverno-generate-default-deny.yaml';

/** Replace text in one file of the set; a replacement that matches nothing is a broken test, not a pass. */
function weaken(file: string, from: string | RegExp, to: string, files = shipped): Record<string, string> {
  const text = files[file]!;
  const next = text.replace(from, to);
  if (next === text) throw new Error(`weakening did not apply to ${file}: ${from}`);
  return { ...files, [file]: next };
}

function lineOf(text: string, needle: string, after = ''): number {
  const lines = text.split('\n');
  const start = after ? lines.findIndex((l) => l.includes(after)) : 0;
  const i = lines.findIndex((l, n) => n >= start && l.includes(needle));
  if (i < 0) throw new Error(`no ${needle}`);
  return i + 1;
}

const fails = (rs: CheckResult[]) => rs.filter((r) => r.status === 'fail');
const cliFound = 'found' in locateKyvernoCli();

describe('kyvernoAnalyzer without the CLI', () => {
  const env = { ...process.env };
  const noCli = () => {
    process.env.PCI_HARNESS_CACHE = mkdtempSync(join(tmpdir(), 'no-cache-'));
    process.env.PATH = '/nonexistent';
    delete process.env.PCI_HARNESS_KYVERNO;
  };
  const restore = () => {
    for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
    Object.assign(process.env, env);
  };

  it('fails (never passes) when the Kyverno CLI cannot be found, saying how to get it', async () => {
    noCli();
    try {
      const rs = await kyvernoAnalyzer.run(setFromTexts(shipped), {});
      const missing = fails(rs);
      expect(missing.map((r) => r.check).sort()).toEqual(['kyverno.autogen', 'kyverno.generate', 'kyverno.policies']);
      for (const r of missing) {
        expect(r.message).toContain('Kyverno CLI not found; build it with `npx pci-harness images build kyverno-cli` or pass --skip-kyverno to opt out');
        expect(r.file).toBe(POD);
        expect(r.requirement).toMatch(/^\d/);
      }
      expect(rs.filter((r) => r.status === 'pass').every((r) => r.check === 'kyverno.failure-action')).toBe(true);
    } finally {
      restore();
    }
  });

  it('reports skip, not pass, when the user opts out with --skip-kyverno', async () => {
    noCli();
    try {
      const rs = await kyvernoAnalyzer.run(setFromTexts(shipped), { skipKyverno: true });
      expect(rs.filter((r) => r.status === 'skip').map((r) => r.check).sort()).toEqual(['kyverno.autogen', 'kyverno.generate', 'kyverno.policies']);
      expect(fails(rs)).toEqual([]);
    } finally {
      restore();
    }
  });

  it('an explicit --kyverno-cli path that does not exist is a failure, not a fallback', async () => {
    const rs = await kyvernoAnalyzer.run(setFromTexts(shipped), { kyvernoCli: '/nonexistent/kyverno' });
    expect(fails(rs).map((r) => r.message)).toEqual(Array(3).fill(expect.stringContaining('/nonexistent/kyverno (from the command-line flag')));
  });

  it('a CLI that crashes without a report fails the set', async () => {
    const fake = join(mkdtempSync(join(tmpdir(), 'fake-kyverno-')), 'kyverno');
    writeFileSync(fake, '#!/bin/sh\necho "panic: boom" >&2\nexit 2\n');
    chmodSync(fake, 0o755);
    const rs = await kyvernoAnalyzer.run(setFromTexts(shipped), { kyvernoCli: fake });
    expect(fails(rs)).toEqual([expect.objectContaining({ check: 'kyverno.policies', message: expect.stringMatching(/no policy report \(exit 2\)[\s\S]*panic: boom/) })]);
  });
});

describe('kyverno.failure-action (static)', () => {
  it('passes per-rule Enforce on the shipped policies', async () => {
    const rs = await kyvernoAnalyzer.run(setFromTexts(shipped), { skipKyverno: true });
    expect(rs.filter((r) => r.check === 'kyverno.failure-action')).toEqual([
      expect.objectContaining({ status: 'pass', object: 'ClusterPolicy/cde-pod-security-requirements', file: POD, requirement: '2.2.6' }),
      // Every rule of the node boundary names 2.2.3, so its proof is filed there.
      expect.objectContaining({ status: 'pass', object: 'ClusterPolicy/cde-node-isolation', requirement: '2.2.3' }),
    ]);
  });

  it('fails an Audit rule at its failureAction line', async () => {
    const files = weaken(POD, /(- name: no-hostpath-volumes[\s\S]*?failureAction: )Enforce/, '$1Audit');
    const rs = fails(await kyvernoAnalyzer.run(setFromTexts(files), { skipKyverno: true }));
    expect(rs).toEqual([
      expect.objectContaining({
        check: 'kyverno.failure-action',
        requirement: '2.2.6',
        file: POD,
        line: lineOf(files[POD]!, 'failureAction: Audit'),
        message: expect.stringMatching(/^rule no-hostpath-volumes: validate\.failureAction is "Audit"/),
      }),
    ]);
  });

  it('fails the deprecated spec.validationFailureAction (guide defect 16) and a rule relying on it', async () => {
    let files = weaken(POD, /spec:\n  background: true/, 'spec:\n  validationFailureAction: Enforce\n  background: true');
    files = weaken(POD, /(- name: no-host-ports[\s\S]*?)\n\s+failureAction: Enforce/, '$1', files);
    const rs = fails(await kyvernoAnalyzer.run(setFromTexts(files), { skipKyverno: true }));
    expect(rs.map((r) => [r.line, r.message.slice(0, 60)])).toEqual([
      [lineOf(files[POD]!, '  validationFailureAction: Enforce'), expect.stringMatching(/^spec\.validationFailureAction is deprecated/)],
      [expect.any(Number), expect.stringMatching(/^rule no-host-ports: validate\.failureAction is not set/)],
    ]);
  });
});

describe.runIf(cliFound)('kyvernoAnalyzer with the real Kyverno CLI', () => {
  const run = (files: Record<string, string>) => runKyverno(setFromTexts(files), {});

  it('proves every fixture on the shipped policies: denials, admissions, autogen, generate', async () => {
    let ms = 0;
    const rs = await runKyverno(setFromTexts(shipped), {}, { onRun: (i) => (ms = i.durationMs) });
    expect(fails(rs)).toEqual([]);
    const passed = (check: string) => rs.filter((r) => r.check === check && r.status === 'pass').map((r) => r.message);
    expect(passed('kyverno.policies')).toEqual(
      expect.arrayContaining([
        expect.stringContaining('no-privileged-containers denies Pod/cde-storage/privileged-ephemeral'),
        expect.stringContaining('no-privileged-containers denies Pod/cde-processing/privileged-init'),
        expect.stringContaining('require-run-as-non-root denies Pod/cde-frontend/root-init'),
        expect.stringContaining('require-readonly-root-filesystem denies Pod/cde-frontend/writable-rootfs'),
        expect.stringContaining('no-hostpath-volumes denies Pod/cde-storage/hostpath'),
        expect.stringContaining('no-host-namespaces denies Pod/cde-frontend/hostnetwork'),
        expect.stringMatching(/^admitted by all \d+ applicable rule\(s\): Restricted-compliant, volume-less Pod/),
        expect.stringMatching(/^admitted by all \d+ applicable rule\(s\): runAsNonRoot set on every container/),
        expect.stringMatching(/^not affected by the CDE policies/),
      ]),
    );
    expect(passed('kyverno.autogen')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^admitted by all \d+ applicable rule\(s\): Restricted-compliant, volume-less Deployment/),
        expect.stringContaining('autogen-no-privileged-containers denies Deployment/cde-processing/privileged'),
      ]),
    );
    expect(passed('kyverno.generate')).toEqual([
      expect.stringContaining('generates NetworkPolicy cde-new/default-deny-all'),
      expect.stringMatching(/^not affected/),
    ]);
    expect(ms).toBeGreaterThan(0);
  });

  it('fails a privileged rule that forgets ephemeralContainers (defect 15), naming the rule and its line', async () => {
    const files = weaken(POD, /(- name: no-privileged-containers[\s\S]*?pattern:\n\s+spec:\n)\s+=\(ephemeralContainers\):\n.*\n.*\n/, '$1');
    const rs = fails(await run(files));
    expect(rs).toEqual([
      expect.objectContaining({
        check: 'kyverno.policies',
        requirement: '2.2.6',
        object: 'ClusterPolicy/cde-pod-security-requirements',
        file: POD,
        line: lineOf(files[POD]!, '- name: no-privileged-containers'),
        message: expect.stringMatching(/^rule cde-pod-security-requirements\/no-privileged-containers does not deny fixture Pod\/cde-storage\/privileged-ephemeral/),
      }),
    ]);
  });

  it("fails the guide's hostPath rule: length() on absent spec.volumes errors (defect 13, proven by the CLI)", async () => {
    const files = weaken(
      POD,
      /(- name: no-hostpath-volumes[\s\S]*?)pattern:\n\s+spec:\n\s+=\(volumes\):\n.*\n/,
      `$1deny:\n          conditions:\n            any:\n              - key: "{{ request.object.spec.volumes[].hostPath | length(@) }}"\n                operator: GreaterThan\n                value: "0"\n`,
    );
    const rs = fails(await run(files));
    const errs = rs.filter((r) => /ERRORS/.test(r.message));
    const line = lineOf(files[POD]!, '- name: no-hostpath-volumes');
    expect(errs).toEqual([
      // The volume-less Deployment (autogen) errors too: the inferred half of defect 13, confirmed.
      expect.objectContaining({
        check: 'kyverno.autogen',
        file: POD,
        line,
        message: expect.stringMatching(/^rule cde-pod-security-requirements\/autogen-no-hostpath-volumes ERRORS .*Deployment\/cde-frontend\/compliant.*JMESPath/),
      }),
      expect.objectContaining({
        check: 'kyverno.policies',
        requirement: '2.2.6',
        file: POD,
        line,
        message: expect.stringMatching(/^rule cde-pod-security-requirements\/no-hostpath-volumes ERRORS .*Pod\/cde-frontend\/compliant.*JMESPath/),
      }),
    ]);
  });

  it("fails the guide's runAsNonRoot rule (defect 14): container-level-only pods wrongly denied, root init containers admitted", async () => {
    const files = weaken(
      POD,
      /(- name: require-run-as-non-root[\s\S]*?)anyPattern:[\s\S]*?(\n    - name: require-readonly-root-filesystem)/,
      `$1pattern:\n          spec:\n            =(securityContext):\n              runAsNonRoot: true\n            containers:\n              - securityContext:\n                  runAsNonRoot: true\n$2`,
    );
    const msgs = fails(await run(files)).map((r) => r.message);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rule cde-pod-security-requirements\/require-run-as-non-root wrongly denies fixture Pod\/cde-frontend\/compliant/),
        expect.stringMatching(/^rule cde-pod-security-requirements\/require-run-as-non-root does not deny fixture Pod\/cde-frontend\/root-init /),
      ]),
    );
  });

  it('fails when autogen is switched off: Deployments are no longer denied', async () => {
    const files = weaken(POD, /  annotations:\n/, '  annotations:\n    pod-policies.kyverno.io/autogen-controllers: none\n');
    const rs = fails(await run(files));
    expect(rs.filter((r) => r.check === 'kyverno.autogen').map((r) => r.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pod-policies\.kyverno\.io\/autogen-controllers is "none"/),
        expect.stringMatching(/autogen-no-privileged-containers does not deny .*autogen is off/),
      ]),
    );
  });

  it('fails when an in-scope namespace loses its scope label: its pods are not evaluated', async () => {
    const files = weaken('cluster/00-namespaces.yaml', /(name: cde-storage\n  labels:\n)    pci-scope: in-scope\n/, '$1');
    const rs = fails(await run(files));
    expect(rs.map((r) => r.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/no Kyverno rule evaluated fixture Pod\/cde-storage\/emptydir-volume/), expect.stringMatching(/does not deny fixture Pod\/cde-storage\/hostpath/)]),
    );
  });

  it('fails a policy the CLI refuses to load (it would never be enforced)', async () => {
    const broken = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: broken}
spec:
  rules:
    - name: says-nothing
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate: {failureAction: Enforce, message: x}
`;
    const rs = fails(await run({ ...shipped, 'cluster/99-broken.yaml': broken }));
    expect(rs).toEqual([
      expect.objectContaining({ check: 'kyverno.policies', object: 'ClusterPolicy/broken', file: 'cluster/99-broken.yaml', message: expect.stringMatching(/^the Kyverno CLI rejected or skipped policy broken/) }),
    ]);
  });

  it('fails a generate rule without synchronize (defect 12)', async () => {
    const files = weaken(GEN, /\n(\s+)synchronize: true/, '\n$1synchronize: false');
    const rs = fails(await run(files));
    expect(rs).toEqual([
      expect.objectContaining({ check: 'kyverno.generate', requirement: '1.3.1', file: GEN, message: expect.stringMatching(/generate\.synchronize is not true/) }),
    ]);
  });

  it('fails when the generate policy is missing and the guide networkpolicies() rule is used instead (defect 12)', async () => {
    const { [GEN]: _gone, ...rest } = shipped;
    const files = {
      ...rest,
      [POD]: `${rest[POD]!.trimEnd()}

    - name: require-networkpolicy-exists
      match:
        any:
          - resources:
              kinds: ["Namespace"]
              selector:
                matchLabels:
                  pci-scope: in-scope
      validate:
        failureAction: Enforce
        message: "default-deny-all required"
        deny:
          conditions:
            all:
              - key: "{{ networkpolicies(request.object.metadata.name).items[?metadata.name == 'default-deny-all'] | length(@) }}"
                operator: Equals
                value: "0"
`,
    };
    const rs = fails(await run(files));
    expect(rs.map((r) => [r.check, r.requirement, r.message.slice(0, 90)])).toEqual(
      expect.arrayContaining([
        ['kyverno.generate', '1.3.1', expect.stringMatching(/^rule cde-pod-security-requirements\/require-networkpolicy-exists ERRORS/)],
        ['kyverno.generate', '1.3.1', expect.stringMatching(/^no Kyverno generate rule in the set/)],
      ]),
    );
  });
});

describe('kyverno.verify-coverage (6.3.2): every CDE image is signature-verified, registry rule = verified references', () => {
  const readSet = (dir: string, files: string[]) => Object.fromEntries(files.map((f) => [`${dir}/${f}`, readFileSync(join(REPO_ROOT, 'manifests', dir, f), 'utf8')]));
  const VERIFY = 'cluster/32-kyverno-verify-images.yaml';
  const WL = 'cluster/40-workloads.yaml';
  const REG = 'registry.pci.internal:5000/pci/*';
  const full = { ...shipped, ...readSet('cluster', ['32-kyverno-verify-images.yaml', '40-workloads.yaml']), ...readSet('spec', ['scope.yaml']) };
  // The shipped set is the aligned one: the verified references and the allowed registries are one set.
  const aligned = full;
  const cov = (files: Record<string, string>) => verifyCoverageResults(setFromTexts(files));
  // The registry rule's patterns (quoted), not the message that names the registry.
  const PATTERN = /"registry\.pci\.internal:5000\/pci\/\*"/g;

  it('the offline CLI run gets no verifyImages rule (it cannot reach a registry); the other rules are kept', () => {
    const set = setFromTexts(full);
    const policies = set.objects.filter((o) => o.object.apiVersion.startsWith('kyverno.io/'));
    const given = withoutVerifyImages(policies);
    const rulesOf = (ps: typeof policies) => ps.flatMap((p) => ((p.object as unknown as { spec: { rules: Array<Record<string, unknown>> } }).spec.rules));
    expect(rulesOf(policies).some((r) => r.verifyImages)).toBe(true);
    expect(rulesOf(given).some((r) => r.verifyImages)).toBe(false);
    expect(given.map((p) => p.object.metadata.name)).not.toContain('verify-cde-image-signatures');
    expect(rulesOf(given)).toHaveLength(rulesOf(policies).filter((r) => !r.verifyImages).length);
  });

  it('passes on the shipped set: every workload image is verified and the registry rule admits exactly the verified references', () => {
    const rs = cov(aligned);
    expect(rs).toEqual([expect.objectContaining({ check: 'kyverno.verify-coverage', requirement: '6.3.2', status: 'pass', file: VERIFY })]);
    expect(rs[0]?.message).toContain('all 3 image(s) of the CDE workloads are signature-verified');
  });

  it('finds the old gap: workloads on localhost/pci-harness/* images, which the registry rule admits and verifyImages never checks', () => {
    const old = weaken(WL, /image: registry\.pci\.internal:5000\/pci\/server:v1/g, 'image: localhost/pci-harness/server:v1', weaken(POD, PATTERN, `"localhost/pci-harness/* | ${REG}"`, aligned));
    const rs = cov(old);
    const workloads = rs.filter((r) => r.file === WL);
    expect(workloads.map((r) => r.object).sort()).toEqual(['Deployment/cde-frontend/payment-api', 'Deployment/cde-processing/card-processor', 'Deployment/cde-storage/datastore']);
    expect(workloads[0]?.line).toBe(lineOf(old[WL]!, 'image: localhost/pci-harness/server:v1'));
    const registry = rs.filter((r) => r.file === POD);
    expect(registry.map((r) => r.message)).toContainEqual(expect.stringContaining('rule cde-pod-security-requirements/require-cde-image-registry admits containers images "localhost/pci-harness/*" in cde-frontend, cde-processing, cde-storage'));
    expect(rs.every((r) => r.status === 'fail' && r.requirement === '6.3.2')).toBe(true);
  });

  it('a verifyImages pattern that misses the workloads\' images fails at the workload image line', () => {
    const rs = cov(weaken(VERIFY, `            - "${REG}"\n`, '            - "registry.pci.internal:5000/pci/payments/*"\n', aligned));
    expect(rs.filter((r) => r.file === WL)).toHaveLength(3);
    expect(rs.find((r) => r.file === WL)?.message).toMatch(/runs registry\.pci\.internal:5000\/pci\/server:v1, which no verifyImages rule for Pods in cde-\w+ verifies \(imageReferences registry\.pci\.internal:5000\/pci\/payments\/\* miss it\)/);
    // and the registry rule admits more than is verified
    expect(rs.some((r) => r.file === POD && r.message.includes(`admits containers images "${REG}"`))).toBe(true);
  });

  it('a registry the allowed-registry rule admits but nothing verifies fails at the pattern', () => {
    const rs = cov(weaken(POD, PATTERN, `"${REG} | ghcr.io/*"`, aligned));
    expect(rs.map((r) => [r.file, r.message])).toEqual(
      ['containers', 'initContainers', 'ephemeralContainers'].map((k) => [POD, expect.stringContaining(`admits ${k} images "ghcr.io/*"`)]),
    );
  });

  it('a container list the registry rule leaves open admits anything unverified', () => {
    const rs = cov(weaken(POD, `            =(ephemeralContainers):\n              - image: "${REG}"\n`, '', aligned));
    expect(rs.map((r) => r.message)).toEqual([expect.stringContaining('nothing restricts the registry of ephemeralContainers in cde-frontend, cde-processing, cde-storage')]);
  });

  it('a verified reference the registry rule never admits is stale', () => {
    const rs = cov(weaken(VERIFY, '            - "registry.pci.internal:5000/pci/*"\n', '            - "registry.pci.internal:5000/pci/*"\n            - "registry.example/pci/*"\n', aligned));
    expect(rs.map((r) => [r.file, r.line, r.message])).toEqual([[VERIFY, lineOf(aligned[VERIFY]!, '- "registry.pci.internal:5000/pci/*"') + 1, expect.stringContaining('verifies "registry.example/pci/*"')]]);
  });

  it.each(MUTANTS_KYVERNO_VERIFY_COVERAGE.map((m) => [m.id, m] as const))('mutant %s fails kyverno.verify-coverage on the shipped set', (_id, m) => {
    const docs = parseAllDocuments(aligned[m.file]!).map((d) => d.toJS()).filter((d) => d != null);
    const mutated = { ...aligned, [m.file]: m.mutate(structuredClone(docs)).map((d) => stringify(d)).join('---\n') };
    const f = fails(cov(mutated));
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((r) => r.check === m.check && r.requirement === m.requirement)).toBe(true);
  });

  it('a verifyImages rule that no longer matches the CDE namespaces, or skips the images, leaves them unverified', () => {
    const wrongScope = cov(weaken(VERIFY, 'pci-scope: in-scope', 'pci-scope: "true"', aligned));
    expect(wrongScope.some((r) => r.message.startsWith('no verifyImages rule applies to Pods in cde-frontend, cde-processing, cde-storage'))).toBe(true);
    expect(wrongScope.filter((r) => r.file === WL)).toHaveLength(3);
    const skipped = cov(weaken(VERIFY, '          failureAction: Enforce\n', '          skipImageReferences: ["registry.pci.internal:5000/pci/server:*"]\n          failureAction: Enforce\n', aligned));
    expect(skipped.filter((r) => r.file === WL)[0]?.message).toContain('skipImageReferences registry.pci.internal:5000/pci/server:*');
  });
});
