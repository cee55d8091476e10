import { describe, expect, test } from 'vitest';
import { Request, type Op } from '../../../src/protocol/types.js';
import { ModifyExptimeRoute, modifiedExptime } from '../../../src/routes/modify-exptime-route.js';
import { FakeRoute, makeRequest, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError } from './helpers/fake-leaf-config.js';

describe('ModifyExptimeRoute', () => {
  test('set: every op carrying an exptime gets the configured one; the value is untouched', () => {
    const t = new FakeRoute('t', 'stored');
    const route = new ModifyExptimeRoute(t, 30, 'set');
    for (const op of ['set', 'add', 'replace', 'append', 'prepend', 'cas'] as Op[]) {
      const req = makeRequest(op, 'k', 'hello', 999);
      routeSync(route, req);
      const sent = t.seen[t.seen.length - 1];
      expect(sent?.exptime).toBe(30);
      expect(sent?.tail.toString()).toBe(` 0 30 5${op === 'cas' ? ' 1' : ''}`);
      expect(sent?.value).toBe(req.value);
    }
    routeSync(route, makeRequest('touch', 'k', null, 5));
    expect(t.seen[t.seen.length - 1]?.tail.toString()).toBe(' 30');
  });

  test('min: keeps the shorter, 0 = infinite on both sides', () => {
    expect(modifiedExptime(0, 60, 'min', 0)).toBe(60);
    expect(modifiedExptime(100, 60, 'min', 0)).toBe(60);
    expect(modifiedExptime(10, 60, 'min', 0)).toBe(10);
    expect(modifiedExptime(100, 0, 'min', 0)).toBe(100);
    expect(modifiedExptime(-1, 60, 'min', 0)).toBe(-1);
    // Absolute unix times are compared as seconds left.
    const now = 1_700_000_000;
    expect(modifiedExptime(now + 30, 60, 'min', now)).toBe(now + 30);
    expect(modifiedExptime(now + 3600, 60, 'min', now)).toBe(60);
    expect(modifiedExptime(100, 60, 'set', 0)).toBe(60);
    const t = new FakeRoute('t', 'stored');
    const route = new ModifyExptimeRoute(t, 60, 'min', () => now);
    routeSync(route, makeRequest('set', 'k', 'v', now + 3600));
    expect(t.seen[0]?.exptime).toBe(60);
  });

  test('deletes, gets, arithmetic pass through unchanged (same Request)', () => {
    const t = new FakeRoute('t');
    const route = new ModifyExptimeRoute(t, 30, 'set');
    for (const op of ['delete', 'get', 'gets', 'incr', 'md', 'version'] as Op[]) {
      const req = makeRequest(op, 'k');
      routeSync(route, req);
      expect(t.seen[t.seen.length - 1]).toBe(req);
    }
  });

  test('gat and meta ms/mg', () => {
    const t = new FakeRoute('t');
    const route = new ModifyExptimeRoute(t, 30, 'min');
    const gat = new Request('gat', Buffer.from('k'), Buffer.from('gat 100 '), Buffer.alloc(0), null, false, 100);
    routeSync(route, gat);
    expect(t.seen[0]?.head.toString()).toBe('gat 30 ');
    routeSync(route, makeRequest('ms', 'k', 'v'));
    expect(t.seen[1]?.tail.toString()).toBe(' 1 T30');
    const mgNoT = new Request('mg', Buffer.from('k'), Buffer.from('mg '), Buffer.from(' v'), null, false, 0);
    routeSync(route, mgNoT);
    expect(t.seen[2]).toBe(mgNoT);
  });

  test('config: exptime required, action enum, default set; traverse', () => {
    const { root, fake } = buildRoute({ type: 'ModifyExptimeRoute', target: 'Fake|t', exptime: 7 });
    routeSync(root, makeRequest('set', 'k', 'v', 0));
    expect(fake('t').seen[0]?.exptime).toBe(7);
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['t']);
    expect(configError({ type: 'ModifyExptimeRoute', target: 'Fake|t' }).message).toMatch(/^\/route: ModifyExptimeRoute: .*exptime/);
    expect(configError({ type: 'ModifyExptimeRoute', target: 'Fake|t', exptime: 1, action: 'max' }).path).toBe('/route/action');
    expect(configError({ type: 'ModifyExptimeRoute', target: 'Fake|t', exptime: 1.5 }).path).toBe('/route/exptime');
  });
});
