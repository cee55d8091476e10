import { describe, expect, test } from 'vitest';
import { validateConfig } from '../../../src/config/validate.js';
import { ErrorRoute } from '../../../src/routes/error-route.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { makeRequest, routeSync, traverseDestinations } from './helpers/fake-route.js';

function build(route: unknown): RouteHandle {
  const v = validateConfig({ configStr: JSON.stringify({ route }) });
  if (!v.ok) throw v.error;
  return v.built.root.defaultRoute;
}

describe('ErrorRoute', () => {
  test('replies local_error with the message, for every op, synchronously', () => {
    const r = new ErrorRoute('pool is gone');
    for (const op of ['get', 'set', 'delete', 'incr', 'touch'] as const) {
      const reply = routeSync(r, makeRequest(op, 'k', 'v'));
      expect(reply.result).toBe('local_error');
      expect(reply.message).toBe('pool is gone');
      expect(reply.raw).toBeNull();
    }
    expect(traverseDestinations(r, makeRequest('get', 'k'))).toEqual([]);
  });

  test('an empty response leaves the message to the result default text', () => {
    const reply = routeSync(build('ErrorRoute'), makeRequest('get', 'k'));
    expect(reply.result).toBe('local_error');
    expect(reply.message).toBeNull();
  });

  test('"ErrorRoute|msg" shorthand sets the response', () => {
    const r = build('ErrorRoute|shard 7 is being rebuilt');
    expect(r.name).toBe('ErrorRoute|shard 7 is being rebuilt');
    expect(routeSync(r, makeRequest('get', 'k')).message).toBe('shard 7 is being rebuilt');
  });

  test('result takes mcrouter mc_res_* names', () => {
    const reply = routeSync(build({ type: 'ErrorRoute', response: 'slow', result: 'mc_res_timeout' }), makeRequest('get', 'k'));
    expect(reply.result).toBe('timeout');
    expect(reply.message).toBe('slow');
  });

  test('config errors start with the type and name the field', () => {
    const v = validateConfig({ configStr: '{"route": {"type": "ErrorRoute", "response": ["x"]}}' });
    expect(v.ok ? '' : v.error.message).toBe('/route/response: ErrorRoute: response must be a string');
  });
});
