import { describe, expect, test } from 'vitest';
import { PrefixStats } from '../../../src/observe/prefix-stats.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('PrefixStats', () => {
  test('delimiter rule: up to and including the first delimiter, after any routing prefix', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 10 });
    expect(p.prefixOf(b('user:42:name'))).toBe('user:');
    expect(p.prefixOf(b('/us/east/sess:9'))).toBe('sess:');
    expect(p.prefixOf(b('plainkey'))).toBeNull();
  });

  test('list rule: the longest configured prefix wins; unmatched keys are other', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: ['u', 'user.', 'feed-'], topN: 10 });
    expect(p.prefixOf(b('user.1'))).toBe('user.');
    expect(p.prefixOf(b('u1'))).toBe('u');
    expect(p.prefixOf(b('feed-7'))).toBe('feed-');
    expect(p.prefixOf(b('zzz'))).toBeNull();
  });

  test('counts requests, hits, misses and bytes; cardinality is bounded to top N + other', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 2 });
    p.record(b('a:1'), true, false, 0, 20);
    p.record(b('a:2'), false, true, 0, 0);
    p.record(b('b:1'), false, false, 5, 0);
    for (let i = 0; i < 1000; i++) p.record(b(`x${i}:k`), false, true, 0, 0);
    p.record(b('nodelim'), true, false, 0, 3);
    const rows = p.all().map((r) => [r.prefix, r.requests, r.hits, r.misses, r.bytesIn, r.bytesOut]);
    expect(rows).toEqual([
      ['a:', 2, 1, 1, 0, 20],
      ['b:', 1, 0, 0, 5, 0],
      ['other', 1001, 1, 1000, 0, 3],
    ]);
  });
});
