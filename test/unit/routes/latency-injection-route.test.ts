import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Reply } from '../../../src/protocol/types.js';
import { LatencyInjectionRoute } from '../../../src/routes/latency-injection-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError } from './helpers/fake-leaf-config.js';

afterEach(() => {
  vi.useRealTimers();
});

function routeTimed(route: LatencyInjectionRoute, child: FakeRoute) {
  let reply: Reply | null = null;
  route.route(makeRequest('get', 'k'), makeTestContext(), (r) => { reply = r; });
  return { sent: () => child.seen.length, reply: () => reply };
}

describe('LatencyInjectionRoute', () => {
  test('all zero (defaults): synchronous pass-through', () => {
    const { root } = buildRoute({ type: 'LatencyInjectionRoute', child: 'Fake|c' });
    expect(routeSync(root, makeRequest('get', 'k')).result).toBe('found');
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['c']);
    expect(routeSync(buildRoute('LatencyInjectionRoute|Fake|c').root, makeRequest('get', 'k')).result).toBe('found');
  });

  test('before_latency_ms delays the send; after_latency_ms delays the reply', () => {
    vi.useFakeTimers();
    const child = new FakeRoute('c', 'found');
    const t = routeTimed(new LatencyInjectionRoute(child, { beforeMs: 50, afterMs: 30, totalMs: 0 }), child);
    expect(t.sent()).toBe(0);
    vi.advanceTimersByTime(49);
    expect(t.sent()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(t.sent()).toBe(1);
    expect(t.reply()).toBeNull();
    vi.advanceTimersByTime(30);
    expect(t.reply()?.result).toBe('found');
  });

  test('total_latency_ms holds a fast reply until the total has passed', () => {
    vi.useFakeTimers();
    const child = new FakeRoute('c', 'found');
    const t = routeTimed(new LatencyInjectionRoute(child, { beforeMs: 0, afterMs: 0, totalMs: 100 }), child);
    expect(t.sent()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(t.reply()).toBeNull();
    vi.advanceTimersByTime(1);
    expect(t.reply()?.result).toBe('found');
  });

  test('config errors', () => {
    expect(configError({ type: 'LatencyInjectionRoute', child: 'Fake|c', before_latency_ms: -1 }).path).toBe('/route/before_latency_ms');
    expect(configError({ type: 'LatencyInjectionRoute', before_latency_ms: 1 }).message).toMatch(/^\/route: LatencyInjectionRoute: .*child/);
  });
});
