/**
 * Rate stats as mcrouter reports them: a counter's increase per second over the last minute, printed like C's %g.
 */
import { expect, test } from 'vitest';
import { formatG, RateWindow } from '../../../src/admin/stat-rates.js';

test('formatG prints what printf("%g") prints', () => {
  // Expected strings from C/Python '%g'.
  const cases: [number, string][] = [
    [0, '0'], [1, '1'], [0.5, '0.5'], [1 / 3, '0.333333'], [123456, '123456'], [1234567, '1.23457e+06'],
    [0.0001, '0.0001'], [0.00001234, '1.234e-05'], [2.5e-7, '2.5e-07'], [100, '100'], [99999.95, '99999.9'],
    [999999.5, '1e+06'], [12, '12'], [-3.25, '-3.25'],
  ];
  for (const [x, want] of cases) expect([x, formatG(x)]).toEqual([x, want]);
});

test('RateWindow: per-second increase over the window, 0 before a second has passed', () => {
  let t = 1_000_000;
  let counter = 0;
  const w = new RateWindow(() => Float64Array.of(counter), 60_000, () => t);
  counter = 50;
  t += 500;
  expect(w.rates()[0]).toBe(0);
  t += 1500; // 2 s after the first snapshot
  expect(w.rates()[0]).toBe(25);
  // Snapshots every second for two minutes at 10/s: the rate covers only the last minute.
  for (let i = 0; i < 120; i++) {
    t += 1000;
    counter += i < 60 ? 100 : 10;
    w.sample();
  }
  expect(w.rates()[0]).toBeCloseTo(10, 5);
});
