import { describe, expect, it } from 'vitest';
import { COMPONENTS, generateModule, OTELCOL_VERSION, pinDrift } from './distribution.ts';

describe('the generated collector wrapper module', () => {
  const files = generateModule();

  it('requires every component module at its pin, plus otelcol', () => {
    for (const c of COMPONENTS) expect(files['go.mod']).toContain(`\t${c.module} ${c.version}\n`);
    expect(files['go.mod']).toContain(`\tgo.opentelemetry.io/collector/otelcol ${OTELCOL_VERSION}\n`);
  });

  it('registers each receiver, processor, exporter and extension factory, and the providers in main', () => {
    for (const c of COMPONENTS.filter((x) => ['receiver', 'processor', 'exporter', 'extension'].includes(x.kind))) {
      expect(files['components.go']).toContain(`\t${c.alias} "${c.importPath}"`);
      expect(files['components.go']).toContain(`\t\t${c.alias}.NewFactory(),`);
    }
    for (const c of COMPONENTS.filter((x) => x.kind === 'provider')) expect(files['main.go']).toContain(`\t\t\t\t\t${c.alias}.NewFactory(),`);
    expect(files['components.go']).toContain('Telemetry: otelconftelemetry.NewFactory()');
  });

  it('refuses a distribution without exactly one telemetry module, or with a repeated alias', () => {
    expect(() => generateModule(COMPONENTS.filter((c) => c.kind !== 'telemetry'))).toThrow(/exactly one telemetry/);
    expect(() => generateModule([...COMPONENTS, COMPONENTS[0]!])).toThrow(/used twice/);
  });

  it('pinDrift names a component go mod tidy moved or dropped', () => {
    expect(pinDrift(files['go.mod']!)).toEqual([]);
    const moved = files['go.mod']!.replace(/(filestorage) v0\.156\.0/, '$1 v0.165.1');
    expect(pinDrift(moved)).toEqual([expect.stringMatching(/filestorage: pinned v0\.156\.0, go\.mod has v0\.165\.1/)]);
  });
});
