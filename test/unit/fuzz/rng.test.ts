import { expect, it } from 'vitest';
import { Rng } from '../../fuzz/fuzz-lib.js';

// The fuzzers' inputs are only as many as the distinct values their generator gives: a short cycle
// (the previous generator repeated after 8,190 outputs) makes a long run replay a few thousand inputs.
it('Rng does not cycle: 10^6 outputs are all but distinct, for several seeds', () => {
  for (const seed of [0, 1, 7, 53759, 0xd1ff]) {
    const r = new Rng(seed);
    const seen = new Set<number>();
    for (let i = 0; i < 1_000_000; i++) seen.add(r.u32());
    // 10^6 draws from 2^32 values collide about 116 times.
    expect(seen.size, `seed ${seed}`).toBeGreaterThan(999_500);
  }
});
