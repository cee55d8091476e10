/** Deterministic Zipf(s) sampler over keys k0..k{n-1} (k0 hottest), seeded LCG. */
export function zipf(n: number, s: number, seed: number): () => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / i ** s;
  let acc = 0;
  for (let i = 1; i <= n; i++) {
    acc += 1 / i ** s / sum;
    cdf.push(acc);
  }
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const u = x / 2 ** 32;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
