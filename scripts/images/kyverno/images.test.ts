import { describe, expect, it } from 'vitest';
import { dropOpenreports } from './images.ts';

// charts/kyverno/Chart.yaml and Chart.lock of kyverno v1.16.3, dependency sections.
const CHART_YAML = `dependencies:
  - name: grafana
    version: 3.6.3
    condition: grafana.enabled
  - name: crds
    version: 3.6.3
    condition: crds.install
  - name: openreports
    version: "0.1.0"
    repository: "https://openreports.github.io/reports-api"
    condition: openreports.installCrds
`;
const CHART_LOCK = `dependencies:
- name: grafana
  repository: ""
  version: 3.6.3
- name: openreports
  repository: https://openreports.github.io/reports-api
  version: 0.1.0
- name: crds
  repository: ""
  version: 3.6.3
digest: sha256:edae
`;

describe('dropOpenreports', () => {
  it('removes only the remote openreports dependency from Chart.yaml', () => {
    const out = dropOpenreports(CHART_YAML);
    expect(out).not.toContain('openreports');
    expect(out).toContain('- name: grafana');
    expect(out).toContain('- name: crds\n    version: 3.6.3\n    condition: crds.install\n');
  });

  it('removes it from Chart.lock, keeping the entries after it', () => {
    const out = dropOpenreports(CHART_LOCK);
    expect(out).not.toContain('openreports');
    expect(out).toContain('- name: crds\n  repository: ""\n  version: 3.6.3\ndigest: sha256:edae');
  });

  it('changes nothing when there is no openreports dependency (the recipe then fails loudly)', () => {
    const without = dropOpenreports(CHART_YAML);
    expect(dropOpenreports(without)).toBe(without);
  });
});
