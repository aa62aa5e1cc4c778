import { describe, expect, it } from 'vitest';
import { inPool } from './pool.ts';

describe('inPool', () => {
  it('keeps input order and never has more than n in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await inPool([5, 1, 4, 2, 3], 2, async (x) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, x * 3));
      inFlight--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
    expect(await inPool([], 4, async (x: number) => x)).toEqual([]);
  });
});
