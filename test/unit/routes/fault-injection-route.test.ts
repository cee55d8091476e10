import { afterEach, describe, expect, test, vi } from 'vitest';
import { FaultInjectionRoute, type FaultSettings } from '../../../src/routes/fault-injection-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';

afterEach(() => {
  vi.useRealTimers();
});

const base: FaultSettings = {
  errorRate: 0, errorResult: 'timeout', down: false, downResult: 'connect_error', downtime: [], latencyMs: 0, seed: 1, ops: null,
};

describe('FaultInjectionRoute', () => {
  test('defaults: a synchronous pass-through', () => {
    const { root } = buildRoute({ type: 'FaultInjectionRoute', target: 'Fake|t' });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('t');
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['t']);
  });

  test('error_rate with a seed: the same requests fail on every run, roughly at the rate', () => {
    const run = (): string[] => {
      const { root } = buildRoute({ type: 'FaultInjectionRoute', target: 'Fake|t', error_rate: 0.3, seed: 42 });
      return Array.from({ length: 1000 }, () => who(routeSync(root, makeRequest('get', 'k'))));
    };
    const a = run();
    expect(run()).toEqual(a);
    const failed = a.filter((r) => r === 'timeout').length;
    expect(failed).toBeGreaterThan(240);
    expect(failed).toBeLessThan(360);
    const other = buildRoute({ type: 'FaultInjectionRoute', target: 'Fake|t', error_rate: 0.3, seed: 7 }).root;
    expect(Array.from({ length: 1000 }, () => who(routeSync(other, makeRequest('get', 'k'))))).not.toEqual(a);
  });

  test('error_result / down_result accept result names (mc_res_ too); down: true fails everything', () => {
    const { root, fake } = buildRoute({ type: 'FaultInjectionRoute', target: 'Fake|t', error_rate: 1, error_result: 'mc_res_tko' });
    const r = routeSync(root, makeRequest('get', 'k'));
    expect([r.result, r.message]).toEqual(['tko', 'FaultInjectionRoute: injected error']);
    expect(fake('t').seen.length).toBe(0);
    const down = buildRoute({ type: 'FaultInjectionRoute', target: 'Fake|t', down: true }).root;
    expect(routeSync(down, makeRequest('set', 'k', 'v')).result).toBe('connect_error');
  });

  test('downtime windows, one-off and repeating, measured from construction', () => {
    let now = 1000;
    const t = new FakeRoute('t', 'found');
    const route = new FaultInjectionRoute(t, { ...base, downtime: [{ startMs: 100, durationMs: 50, everyMs: 0 }, { startMs: 1000, durationMs: 10, everyMs: 100 }] }, () => now);
    const at = (ms: number): string => { now = 1000 + ms; return routeSync(route, makeRequest('get', 'k')).result; };
    expect([at(0), at(99), at(100), at(149), at(150)]).toEqual(['found', 'found', 'connect_error', 'connect_error', 'found']);
    expect([at(1000), at(1009), at(1010), at(1105), at(1115), at(5003)]).toEqual(['connect_error', 'connect_error', 'found', 'connect_error', 'found', 'connect_error']);
  });

  test('ops limits the faults to some op groups', () => {
    const { root } = buildRoute({ type: 'FaultInjectionRoute', target: 'Fake|t', down: true, ops: ['update_like'] });
    expect(routeSync(root, makeRequest('set', 'k', 'v')).result).toBe('connect_error');
    expect(routeSync(root, makeRequest('get', 'k')).result).toBe('found');
  });

  test('latency_ms delays requests that are sent', () => {
    vi.useFakeTimers();
    const t = new FakeRoute('t', 'found');
    const route = new FaultInjectionRoute(t, { ...base, latencyMs: 20 });
    let got = '';
    route.route(makeRequest('get', 'k'), makeTestContext(), (r) => { got = r.result; });
    expect(t.seen.length).toBe(0);
    vi.advanceTimersByTime(20);
    expect(got).toBe('found');
  });

  test('config errors', () => {
    expect(configError({ type: 'FaultInjectionRoute', target: 'Fake|t', error_rate: 1.5 }).path).toBe('/route/error_rate');
    expect(configError({ type: 'FaultInjectionRoute', target: 'Fake|t', error_result: 'notfound' }).path).toBe('/route/error_result');
    expect(configError({ type: 'FaultInjectionRoute', target: 'Fake|t', downtime: [{ start_ms: 0 }] }).path).toBe('/route/downtime/0');
    expect(configError({ type: 'FaultInjectionRoute', target: 'Fake|t', downtime: [{ duration_ms: 10, every_ms: 10 }] }).message)
      .toBe('/route/downtime/0/every_ms: FaultInjectionRoute: every_ms must be greater than duration_ms');
    expect(configError({ type: 'FaultInjectionRoute', target: 'Fake|t', ops: ['reads'] }).path).toBe('/route/ops/0');
  });
});
