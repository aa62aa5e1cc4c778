import { describe, expect, it } from 'vitest';
import { bakedTag } from './bake.ts';

describe('bakedTag: the baked node image is keyed by content', () => {
  const images: Array<[string, string]> = [
    ['quay.io/calico/node:v3.30.3', 'sha256:aaa'],
    ['localhost/pci-harness/probe:v1', 'sha256:bbb'],
  ];
  it('does not depend on the order the images are listed in', () => {
    expect(bakedTag('sha256:base', images)).toBe(bakedTag('sha256:base', [...images].reverse()));
    expect(bakedTag('sha256:base', images)).toMatch(/^pci-harness\/kind-node-baked:[0-9a-f]{12}$/);
  });
  it('changes when the base or any image is rebuilt (another ID)', () => {
    const t = bakedTag('sha256:base', images);
    expect(bakedTag('sha256:base2', images)).not.toBe(t);
    expect(bakedTag('sha256:base', [images[0]!, ['localhost/pci-harness/probe:v1', 'sha256:ccc']])).not.toBe(t);
  });
});
