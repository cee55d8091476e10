/**
 * The request-path observer: keys given as buffer ranges (the multi-get fast path) are observed exactly as
 * the same keys given as Requests and Replies, and per-destination sampling over batches matches sampling
 * key by key.
 */
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { DestinationStats, Observability, observabilityOptions } from '../../../src/observe/observer.js';
import { DEFAULT_OPTIONS, type ProxyOptions } from '../../../src/options.js';
import { ALL_RESULTS, Reply, Request, type Result } from '../../../src/protocol/types.js';
import { KeyBatch, type KeySink } from '../../../src/upstream/connection.js';
import type { UpstreamDestination } from '../../../src/upstream/upstream-destination.js';

const log = pino({ level: 'silent' });
const NO_SINK: KeySink = { keyHit: () => undefined, keyReply: () => undefined };

function observability(over: Partial<ProxyOptions> = {}): Observability {
  return new Observability(log, observabilityOptions({ ...DEFAULT_OPTIONS, ...over }));
}

function fakeDestination(address: string): UpstreamDestination {
  return { address, closed: false, results: new Float64Array(ALL_RESULTS.length), queueTimeouts: 0, observer: null } as unknown as UpstreamDestination;
}

/** `get k1 k2 ...` as one line, and each key's range in it. */
function line(keys: string[]): { buf: Buffer; ranges: [number, number][] } {
  const buf = Buffer.from(`get ${keys.join(' ')}\r\n`, 'latin1');
  const ranges: [number, number][] = [];
  let at = 4;
  for (const k of keys) {
    ranges.push([at, at + k.length]);
    at += k.length + 1;
  }
  return { buf, ranges };
}

const KEYS = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `hot:${i % 3}` : `${['user', 'sess', 'feed'][i % 3]}:${i}`));

describe('Observability', () => {
  test('onKeyRange counts prefixes and hot keys exactly as onKeyReply does for the same keys', () => {
    const byRange = observability({ hotKeysSampleRate: 1 });
    const byObjects = observability({ hotKeysSampleRate: 1 });
    try {
      const { buf, ranges } = line(KEYS);
      ranges.forEach(([s, e], i) => {
        const hit = i % 4 !== 0;
        const block = Buffer.from(`VALUE ${buf.toString('latin1', s, e)} 0 ${i}\r\n${'v'.repeat(i)}\r\n`, 'latin1');
        byRange.onKeyRange('get', buf, s, e, hit ? 'found' : 'notfound', 0, hit ? block.length : 0, 0.2);
        const req = new Request('get', buf.subarray(s, e), Buffer.from('get '), Buffer.alloc(0), null, false, 0);
        byObjects.onKeyReply(req, hit ? new Reply('found', block) : new Reply('notfound', null), 0.2);
      });
      expect(byRange.prefixStats?.all()).toEqual(byObjects.prefixStats?.all());
      expect(byRange.prefixStats?.all().map((r) => r.prefix)).toEqual(['hot:', 'sess:', 'feed:', 'user:', 'other']);
      expect(byRange.hotKeys?.report(5)).toEqual(byObjects.hotKeys?.report(5));
      const overall = byRange.hotKeys?.report(3).overall ?? [];
      const times = (k: string): number => KEYS.filter((x) => x === k).length;
      expect(overall.map((h) => [h.key, h.count]).sort()).toEqual(['hot:0', 'hot:1', 'hot:2'].map((k) => [k, times(k)]));
    } finally {
      byRange.close();
      byObjects.close();
    }
  });

  test('on by default; each feature can be switched off, and with all off nothing is made', () => {
    const on = observability();
    const off = observability({ prefixStats: false, hotKeys: false, destinationStats: false, latencyHistograms: false });
    try {
      expect([on.prefixStats !== null, on.hotKeys !== null, on.opts.destinationStats, on.opts.latencyHistograms]).toEqual([true, true, true, true]);
      expect([off.prefixStats, off.hotKeys, off.opts.destinationStats, off.opts.latencyHistograms]).toEqual([null, null, false, false]);
      const d = fakeDestination('10.0.0.1:11211');
      off.attach(d, 'A');
      expect(d.observer).toBeNull(); // listed for metrics, observing nothing
      expect(off.liveDestinations()).toHaveLength(1);
    } finally {
      on.close();
      off.close();
    }
  });

  test('wantsObjects while a /tap listener is on', () => {
    const o = observability();
    try {
      expect(o.wantsObjects).toBe(false);
      const l = { prefix: null, remaining: 10, sample: 1, values: false, seen: 0, write: (): void => undefined, end: (): void => undefined };
      o.tap.add(l);
      expect(o.wantsObjects).toBe(true);
      o.tap.remove(l);
      expect(o.wantsObjects).toBe(false);
    } finally {
      o.close();
    }
  });

  test('debug sampling logs 1 in N requests, only at debug level', () => {
    const lines: string[] = [];
    const sink = { write: (s: string): void => void lines.push(s) };
    for (const level of ['debug', 'info'] as const) {
      lines.length = 0;
      const o = new Observability(pino({ level }, sink), observabilityOptions({ ...DEFAULT_OPTIONS, logSampleRate: 4 }));
      const { buf, ranges } = line(KEYS.slice(0, 10));
      for (const [s, e] of ranges) o.onKeyRange('get', buf, s, e, 'found', 0, 10, 0.5);
      o.close();
      const keys = lines.map((l) => (JSON.parse(l) as { key: string }).key);
      expect(keys, level).toEqual(level === 'debug' ? [KEYS[3], KEYS[7]] : []);
    }
  });
});

describe('DestinationStats', () => {
  test('a batch (onKeys) records latency and samples hot keys exactly as the same keys one by one (onReply)', () => {
    const a = observability({ hotKeysSampleRate: 3, hotKeysCapacity: 1000 });
    const b = observability({ hotKeysSampleRate: 3, hotKeysCapacity: 1000 });
    try {
      const da = fakeDestination('10.0.0.1:11211');
      const db = fakeDestination('10.0.0.1:11211');
      a.attach(da, 'A');
      b.attach(db, 'A');
      const sa = da.observer as DestinationStats;
      const sb = db.observer as DestinationStats;
      const { buf, ranges } = line(KEYS);
      // Batches of varied sizes (1, 2, ... keys), each answered with one result.
      let k = 0;
      for (let size = 1; k < ranges.length; size++) {
        const batch = new KeyBatch(Buffer.from('get '), buf, NO_SINK);
        const from = k;
        for (; k < ranges.length && k < from + size; k++) batch.add((ranges[k] as [number, number])[0], (ranges[k] as [number, number])[1], k);
        const result: Result = size % 2 === 0 ? 'found' : 'notfound';
        const ms = size / 10;
        sa.onKeys(batch, 0, batch.n, ms);
        for (let m = 0; m < batch.n; m++) {
          const s = batch.starts[m] as number;
          const e = batch.ends[m] as number;
          sb.onReply(new Request('get', buf.subarray(s, e), Buffer.from('get '), Buffer.alloc(0), null, false, 0), result, ms);
        }
      }
      expect([...sa.latency.counts]).toEqual([...sb.latency.counts]);
      expect(sa.latency.count).toBe(KEYS.length);
      expect(sa.latency.sumMs).toBeCloseTo(sb.latency.sumMs, 9);
      const ra = a.hotKeys?.report(1000).destinations['10.0.0.1:11211'] ?? [];
      expect(ra).toEqual(b.hotKeys?.report(1000).destinations['10.0.0.1:11211']);
      // 1 in 3 of the keys was counted.
      expect(ra.reduce((n, h) => n + h.count, 0)).toBe(Math.floor(KEYS.length / 3));
    } finally {
      a.close();
      b.close();
    }
  });

  test('replies by result come from the destination, less the requests that timed out unsent in its queue', () => {
    const o = observability();
    try {
      const d = fakeDestination('10.0.0.1:11211');
      o.attach(d, 'A');
      const r = d.results;
      r[ALL_RESULTS.indexOf('found')] = 5;
      r[ALL_RESULTS.indexOf('timeout')] = 3;
      (d as unknown as { queueTimeouts: number }).queueTimeouts = 2;
      const got = (d.observer as DestinationStats).results;
      expect(got[ALL_RESULTS.indexOf('found')]).toBe(5);
      expect(got[ALL_RESULTS.indexOf('timeout')]).toBe(1);
      expect(r[ALL_RESULTS.indexOf('timeout')]).toBe(3);
    } finally {
      o.close();
    }
  });
});
