import { describe, expect, test } from 'vitest';
import { globMatches } from '../../../src/routes/root-route.js';

describe('globMatches (routing-prefix globs from client keys)', () => {
  test('matches like the regex it replaced', () => {
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('*', 'useast')).toBe(true);
    expect(globMatches('us*', 'useast')).toBe(true);
    expect(globMatches('*east', 'useast')).toBe(true);
    expect(globMatches('u*a*t', 'useast')).toBe(true);
    expect(globMatches('u*a*x', 'useast')).toBe(false);
    expect(globMatches('useast', 'useast')).toBe(true);
    expect(globMatches('useas', 'useast')).toBe(false);
    expect(globMatches('a.c', 'abc')).toBe(false); // no regex metacharacters
    expect(globMatches('**a**', 'xay')).toBe(true);
    expect(globMatches('', '')).toBe(true);
    expect(globMatches('', 'x')).toBe(false);
  });

  test('hostile globs are fast (the regex took exponential time here)', () => {
    const started = performance.now();
    expect(globMatches(`${'*'.repeat(120)}Z`, 'a'.repeat(120))).toBe(false);
    expect(globMatches(`${'*a'.repeat(100)}b`, 'a'.repeat(150))).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
