import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, SHIPPED, STACK_FRAME } from './cli.ts';

/**
 * The machine formats through the real CLI, on the shipped set (exit 0) and on
 * a weakened copy (exit 1): what CI systems and code scanning consume.
 * Documented in docs/report-formats.md.
 */
let weakened: string;
beforeAll(() => {
  // cde-storage loses its default-deny-all: a 1.3.1/1.3.2 failure at a known file.
  weakened = mkdtempSync(join(tmpdir(), 'pci-formats-'));
  cpSync(SHIPPED, weakened, { recursive: true });
  const file = join(weakened, 'cluster', '10-networkpolicies-cde-storage.yaml');
  const text = readFileSync(file, 'utf8');
  const docs = text.split(/^---\s*$/m).filter((d) => !/name: default-deny-all/.test(d));
  expect(docs.length).toBeLessThan(text.split(/^---\s*$/m).length);
  writeFileSync(file, docs.join('---\n'));
});

describe('--format json', () => {
  it('is stable: schemaVersion, summary, bare v4.0 requirement numbers, located failures', async () => {
    const r = await cli(['check', '--manifests', weakened, '--format', 'json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ schemaVersion: 2, tool: 'pci-harness', standard: 'PCI DSS v4.0' });
    expect(j.summary.failed).toBeGreaterThan(0);
    for (const req of j.requirements) expect(req.requirement).toMatch(/^\d+\.\d+(\.\d+){0,2}$/);
    const f = j.results.find((x: { check: string; status: string }) => x.check === 'network.default-deny' && x.status === 'fail');
    expect(f).toMatchObject({ requirement: expect.stringMatching(/^1\.3\.[12]$/), file: expect.any(String), line: expect.any(Number) });
  });

  it('exit 0 and no failures on the shipped set', async () => {
    const r = await cli(['check', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).summary.failed).toBe(0);
  });
});

describe('--format junit', () => {
  it('one testsuite per requirement, failures counted and located', async () => {
    const r = await cli(['check', '--manifests', weakened, '--format', 'junit']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="pci-harness check" tests="\d+" failures="[1-9]\d*"/);
    expect(r.stdout).toMatch(/<testsuite name="PCI DSS v4.0 1\.3\.1 [^"]*" tests="\d+" failures="[1-9]\d*"/);
    expect(r.stdout).toMatch(/<testcase classname="pci\.1\.3\.\d" name="network\.default-deny[^"]*">\s*<failure message="/);
    expect((r.stdout.match(/<testsuite /g) ?? []).length).toBe((r.stdout.match(/<\/testsuite>/g) ?? []).length);
  });
});

describe('--format sarif', () => {
  it('SARIF 2.1.0 results point at the manifest file and line, with the requirement', async () => {
    const out = join(weakened, '..', `${weakened.split('/').pop()}.sarif`);
    const r = await cli(['check', '--manifests', weakened, '--format', 'sarif', '--output', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const s = JSON.parse(readFileSync(out, 'utf8'));
    expect(s.version).toBe('2.1.0');
    const results = s.runs[0].results as Array<{ ruleId: string; properties: { requirement: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }>;
    const dd = results.find((x) => x.ruleId === 'network.default-deny');
    expect(dd?.properties.requirement).toMatch(/^1\.3\.[12]$/);
    expect(dd?.locations[0]?.physicalLocation.artifactLocation.uri).toMatch(/cluster\/00-namespaces\.yaml$|10-networkpolicies-cde-storage\.yaml$|spec\/scope\.yaml$/);
    expect(dd?.locations[0]?.physicalLocation.region.startLine).toBeGreaterThan(0);
    expect(s.runs[0].tool.driver.rules.map((x: { id: string }) => x.id)).toContain('network.default-deny');
  });
});

describe('text', () => {
  it('per-requirement table, then each failure with requirement, check, object and file:line', async () => {
    const r = await cli(['check', '--manifests', weakened]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^requirement\s+status\s+pass\s+fail\s+skip\s+title$/m);
    expect(r.stdout).toMatch(/^1\.3\.1\s+FAIL/m);
    expect(r.stdout).toMatch(/FAIL \[1\.3\.[12]\] network\.default-deny .*\(.+\.yaml:\d+\)/);
    expect(r.stdout).toMatch(/^\d+ passed, [1-9]\d* failed, \d+ skipped$/m);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
