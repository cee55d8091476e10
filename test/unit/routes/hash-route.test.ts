import { describe, expect, test } from 'vitest';
import { Reply } from '../../../src/protocol/types.js';
import { validateConfig } from '../../../src/config/validate.js';
import { createSelector } from '../../../src/routes/hash/selector.js';
import { HashRoute, hashRouteFactory } from '../../../src/routes/hash-route.js';
import { NullRoute } from '../../../src/routes/null-route.js';
import { ErrorRoute } from '../../../src/routes/error-route.js';
import { createRegistry, ROUTE_FACTORIES } from '../../../src/routes/registry.js';
import { defineRoute } from '../../../src/routes/route-factory.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

const KEYS = Array.from({ length: 200 }, (_, i) => `key:${i}`);

/** A registry with a `Fake|<name>` leaf so HashRoute can be built from config over fake children. */
function fakeRegistry(made: Map<string, FakeRoute>) {
  const fake = defineRoute<{ name: string }>({
    type: 'Fake',
    description: 'test leaf',
    schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false },
    fromString: (rest) => ({ name: rest }),
    create: (o) => {
      const f = new FakeRoute(o.name, new Reply('found', Buffer.from(o.name)));
      made.set(o.name, f);
      return f;
    },
  });
  return createRegistry([...ROUTE_FACTORIES, fake]);
}

function buildHash(route: Record<string, unknown>): { root: RouteHandle; fakes: Map<string, FakeRoute> } {
  const fakes = new Map<string, FakeRoute>();
  const v = validateConfig({ configStr: JSON.stringify({ route }) }, { registry: fakeRegistry(fakes) });
  if (!v.ok) throw v.error;
  return { root: v.built.root.defaultRoute, fakes };
}

describe('HashRoute', () => {
  test('sends each key to the child the selector picks (default Ch3), and only there', () => {
    const children = [new FakeRoute('a', 'found'), new FakeRoute('b', 'found'), new FakeRoute('c', 'found')];
    const sel = createSelector({ hashFunc: 'Ch3' }, children.map((c) => ({ host: c.name, port: 0 })));
    const route = new HashRoute(children, sel, 'Ch3');
    const ctx = makeTestContext();
    for (const k of KEYS) {
      const before = children.map((c) => c.seen.length);
      routeSync(route, makeRequest('get', k), ctx);
      const idx = sel.select(Buffer.from(k));
      children.forEach((c, i) => expect(c.seen.length - (before[i] ?? 0)).toBe(i === idx ? 1 : 0));
    }
    // Every child gets some keys.
    for (const c of children) expect(c.seen.length).toBeGreaterThan(20);
  });

  test('hashes the routing key: routing prefix and |#| suffix do not move a key', () => {
    const { root, fakes } = buildHash({ type: 'HashRoute', children: ['Fake|a', 'Fake|b', 'Fake|c', 'Fake|d'] });
    for (const k of KEYS.slice(0, 50)) {
      const plain = routeSync(root, makeRequest('get', k)).raw?.toString();
      expect(routeSync(root, makeRequest('get', `/r/c/${k}`)).raw?.toString()).toBe(plain);
      expect(routeSync(root, makeRequest('get', `${k}|#|suffix${k}`)).raw?.toString()).toBe(plain);
    }
    // The child sees the request unchanged (prefix stripping is the leaf's job).
    expect(fakes.get('a')?.keys.some((k) => k.startsWith('/r/c/')) || fakes.get('b')?.keys.some((k) => k.startsWith('/r/c/'))).toBe(true);
  });

  test('salt and hash_func change placement as the selector says', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const spec of [{ hash_func: 'Crc32' }, { salt: 'pepper' }, { hash_func: 'Jump' }] as const) {
      const { root } = buildHash({ type: 'HashRoute', children: names.map((n) => `Fake|${n}`), ...spec });
      const hashSpec = 'hash_func' in spec ? { hashFunc: spec.hash_func } : { hashFunc: 'Ch3' as const, salt: spec.salt };
      const sel = createSelector(hashSpec, names.map((n) => ({ host: `Fake|${n}`, port: 0 })));
      for (const k of KEYS) {
        expect(routeSync(root, makeRequest('get', k)).raw?.toString()).toBe(names[sel.select(Buffer.from(k))]);
      }
    }
  });

  test('traverse visits only the chosen child', () => {
    const { root } = buildHash({ type: 'HashRoute', children: ['Fake|a', 'Fake|b'] });
    const req = makeRequest('get', 'foo');
    const chosen = routeSync(root, req).raw?.toString();
    expect(traverseDestinations(root, req)).toEqual([chosen]);
  });

  test('no children: error reply, or NullRoute with error_on_empty false', () => {
    const err = buildHash({ type: 'HashRoute', children: [] }).root;
    expect(err).toBeInstanceOf(ErrorRoute);
    const reply = routeSync(err, makeRequest('get', 'k'));
    expect(reply.result).toBe('local_error');
    expect(reply.message).toBe('HashRoute has no children');
    expect(buildHash({ type: 'HashRoute', children: [], error_on_empty: false }).root).toBeInstanceOf(NullRoute);
  });

  test('one child is used directly', () => {
    const { root, fakes } = buildHash({ type: 'HashRoute', children: 'Fake|only' });
    expect(root).toBe(fakes.get('only'));
  });

  test('selector errors are config errors at the node, starting with the type', () => {
    const fakes = new Map<string, FakeRoute>();
    const v = validateConfig(
      { configStr: JSON.stringify({ route: { type: 'HashRoute', hash_func: 'WeightedCh3', children: ['Fake|a', 'Fake|b'] } }) },
      { registry: fakeRegistry(fakes) },
    );
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.error.path).toBe('/route');
      expect(v.error.message.startsWith('/route: HashRoute: ')).toBe(true);
    }
  });

  test('Ketama over "Pool|A" places keys exactly like PoolRoute over A', () => {
    const servers = ['127.0.0.1:30001', '127.0.0.1:30002', '[::1]:30003', '127.0.0.1:30004'];
    const cfg = (route: unknown) => JSON.stringify({ pools: { A: { servers } }, route });
    const viaHash = validateConfig({ configStr: cfg({ type: 'HashRoute', children: 'Pool|A', hash_func: 'Ketama' }) });
    const viaPool = validateConfig({ configStr: cfg({ type: 'PoolRoute', pool: 'A', hash: 'Ketama' }) });
    if (!viaHash.ok) throw viaHash.error;
    if (!viaPool.ok) throw viaPool.error;
    for (const k of KEYS) {
      const req = makeRequest('get', k);
      expect(traverseDestinations(viaHash.built.root, req)).toEqual(traverseDestinations(viaPool.built.root, req));
    }
  });

  test('Ketama over same-named children still builds (names fall back to name and position)', () => {
    const { root } = buildHash({ type: 'HashRoute', children: ['Fake|a', 'Fake|a', 'Fake|b'], hash_func: 'Ketama' });
    expect(root).toBeInstanceOf(HashRoute);
  });

  test('factory shorthand: "HashRoute|Pool|A" hashes over the pool list', () => {
    expect(hashRouteFactory.fromString('Pool|A')).toEqual({ children: 'Pool|A' });
  });
});
