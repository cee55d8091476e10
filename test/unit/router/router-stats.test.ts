import { describe, expect, it } from 'vitest';
import { ProxyStats } from '../../../src/router/router-stats.js';
import { opIndex, Reply, Request } from '../../../src/protocol/types.js';

const get = (): Request => new Request('get', Buffer.from('k'), Buffer.from('get '), Buffer.alloc(0), null, false, 0);

describe('ProxyStats', () => {
  it('counts replies and their latency alike with histograms on and off', () => {
    const withH = new ProxyStats();
    const without = new ProxyStats();
    without.histograms = false;
    for (const s of [withH, without]) {
      s.recordReply(get(), Reply.hit(Buffer.from('VALUE k 0 1\r\nx\r\n')), 0.5);
      s.recordReply(get(), new Reply('notfound'), 1.5);
      s.recordReplyOf('set', 'stored', 2);
      s.recordReplyOf('set', 'timeout', 4);
    }
    for (const s of [withH, without]) {
      expect(s.repliedAt(opIndex('get'))).toBe(2);
      expect(s.durationUsAt(opIndex('get'))).toBeCloseTo(2000, 6);
      expect(s.repliedAt(opIndex('set'))).toBe(2);
      expect(s.avgDurationUs()).toBeCloseTo(2000, 6);
      expect([s.requestSuccess, s.requestErrors]).toEqual([3, 1]);
      expect(s.resultCount.get('timeout')).toBe(1);
    }
    // The plain counters hold nothing while the histogram counts; the histogram nothing while off.
    expect(withH.replied[opIndex('get')]).toBe(0);
    expect(withH.latency[opIndex('get')]?.count).toBe(2);
    expect(without.latency[opIndex('get')]?.count).toBe(0);
  });

  it('keeps the totals right when histograms are switched on part way', () => {
    const s = new ProxyStats();
    s.histograms = false;
    s.recordReplyOf('get', 'found', 1);
    s.histograms = true;
    s.recordReplyOf('get', 'found', 3);
    expect(s.repliedAt(opIndex('get'))).toBe(2);
    expect(s.avgDurationUs()).toBeCloseTo(2000, 6);
  });
});
