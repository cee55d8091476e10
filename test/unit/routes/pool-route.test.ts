import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS, type DestinationProvider } from '../../../src/config/builder.js';
import { Reply, type Request } from '../../../src/protocol/types.js';
import { createSelector } from '../../../src/routes/hash/selector.js';
import { PoolRoute, poolRouteFactory } from '../../../src/routes/pool-route.js';
import { ErrorRoute } from '../../../src/routes/error-route.js';
import { RateLimitRoute } from '../../../src/routes/rate-limit-route.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import type { Destination, DestinationCallback } from '../../../src/upstream/destination.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

/** A destination that answers `found` with its own address and records what it was sent. */
class RecordingDestination implements Destination {
  readonly sent: { req: Request; timeoutMs: number; wireKey: string }[] = [];
  constructor(readonly address: string) {}
  send(req: Request, timeoutMs: number, done: DestinationCallback, wireKey?: Buffer): void {
    this.sent.push({ req, timeoutMs, wireKey: (wireKey ?? req.key).toString('latin1') });
    done(new Reply('found', Buffer.from(this.address)));
  }
  isTko(): boolean { return false; }
  state(): string { return 'up'; }
}

function recordingProvider(): DestinationProvider & { byAddress: Map<string, RecordingDestination> } {
  const byAddress = new Map<string, RecordingDestination>();
  return {
    byAddress,
    get(server) {
      let d = byAddress.get(server.address);
      if (d === undefined) byAddress.set(server.address, (d = new RecordingDestination(server.address)));
      return d;
    },
  };
}

function build(config: Record<string, unknown>) {
  const provider = recordingProvider();
  const built = buildConfig(JSON.parse(JSON.stringify(config)), { options: DEFAULT_BUILD_OPTIONS, destinations: provider });
  return { root: built.root.defaultRoute, provider, built };
}

const SERVERS = ['127.0.0.1:20001', '127.0.0.1:20002', '127.0.0.1:20003', '127.0.0.1:20004'];
const KEYS = Array.from({ length: 300 }, (_, i) => `user:${i}`);
const at = (addr: string) => { const [h, p] = addr.split(':'); return { host: h ?? '', port: Number(p) }; };

describe('PoolRoute', () => {
  test('"PoolRoute|A" hashes with Ch3 over the pool servers, in server order', () => {
    const { root } = build({ pools: { A: { servers: SERVERS } }, route: 'PoolRoute|A' });
    expect(root).toBeInstanceOf(PoolRoute);
    expect(root.name).toBe('PoolRoute|A');
    expect((root as PoolRoute).hashFunc).toBe('Ch3');
    const sel = createSelector({ hashFunc: 'Ch3' }, SERVERS.map(at));
    for (const k of KEYS) expect(routeSync(root, makeRequest('get', k)).raw?.toString()).toBe(SERVERS[sel.select(Buffer.from(k))]);
  });

  test('sends with the pool timeout and strips the routing prefix downstream', () => {
    const { root, provider } = build({ pools: { A: { servers: SERVERS, server_timeout: 123 } }, route: 'PoolRoute|A' });
    const reply = routeSync(root, makeRequest('set', '/r/c/foo', 'v'));
    const d = provider.byAddress.get(reply.raw?.toString() ?? '');
    expect(d?.sent[0]?.timeoutMs).toBe(123);
    expect(d?.sent[0]?.wireKey).toBe('foo');
    // The same key without prefix lands on the same server.
    expect(routeSync(root, makeRequest('get', 'foo')).raw?.toString()).toBe(reply.raw?.toString());
  });

  test('pool weights make WeightedCh3 the default', () => {
    const weights = [1, 0.5, 0, 1];
    const { root } = build({ pools: { W: { servers: SERVERS, weights } }, route: 'PoolRoute|W' });
    expect((root as PoolRoute).hashFunc).toBe('WeightedCh3');
    const sel = createSelector({ hashFunc: 'WeightedCh3', weights }, SERVERS.map(at));
    for (const k of KEYS) expect(routeSync(root, makeRequest('get', k)).raw?.toString()).toBe(SERVERS[sel.select(Buffer.from(k))]);
    // weight 0 never gets a key
    expect(KEYS.some((k) => routeSync(root, makeRequest('get', k)).raw?.toString() === SERVERS[2])).toBe(false);
  });

  test('hash as a string or an object with salt', () => {
    const a = build({ pools: { A: { servers: SERVERS } }, route: { type: 'PoolRoute', pool: 'A', hash: 'Crc32' } }).root;
    const crc = createSelector({ hashFunc: 'Crc32' }, SERVERS.map(at));
    const b = build({ pools: { A: { servers: SERVERS } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Ch3', salt: 'v2' } } }).root;
    const salted = createSelector({ hashFunc: 'Ch3', salt: 'v2' }, SERVERS.map(at));
    for (const k of KEYS) {
      expect(routeSync(a, makeRequest('get', k)).raw?.toString()).toBe(SERVERS[crc.select(Buffer.from(k))]);
      expect(routeSync(b, makeRequest('get', k)).raw?.toString()).toBe(SERVERS[salted.select(Buffer.from(k))]);
    }
  });

  test('inline pool object', () => {
    const { root, built } = build({ route: { type: 'PoolRoute', pool: { name: 'inline', servers: SERVERS.slice(0, 2) } } });
    expect(root.name).toBe('PoolRoute|inline');
    expect(built.pools.get('inline')?.servers).toHaveLength(2);
  });

  test('empty pool: error reply, or NullRoute replies with error_on_empty false', () => {
    const e = build({ pools: { E: { servers: [] } }, route: 'PoolRoute|E' }).root;
    expect(e).toBeInstanceOf(ErrorRoute);
    expect(routeSync(e, makeRequest('get', 'k')).message).toBe('PoolRoute|E has no servers');
    const n = build({ pools: { E: { servers: [] } }, route: { type: 'PoolRoute', pool: 'E', error_on_empty: false } }).root;
    expect(routeSync(n, makeRequest('set', 'k', 'v')).result).toBe('notstored');
  });

  test('max_outstanding is accepted and reported as deferred (shadows and rates are implemented)', () => {
    const { root } = build({
      pools: { A: { servers: SERVERS }, T: { servers: ['127.0.0.1:29999'] } },
      route: {
        type: 'PoolRoute', pool: 'A', rates: { sets_rate: 10 }, max_outstanding: 5,
        shadows: [{ target: 'PoolRoute|T', index_range: [0, 2], key_fraction_range: [0, 0.1] }],
      },
    });
    expect((root as RateLimitRoute).target).toBeInstanceOf(PoolRoute);
    expect(((root as RateLimitRoute).target as PoolRoute).deferredOptions).toEqual(['max_outstanding']);
  });

  test('traverse names the one destination a key reaches', () => {
    const { root } = build({ pools: { A: { servers: SERVERS } }, route: 'PoolRoute|A' });
    const req = makeRequest('get', 'abc');
    expect(traverseDestinations(root, req)).toEqual([routeSync(root, req).raw?.toString()]);
  });

  test('routes over fake children directly (no builder)', () => {
    const kids: RouteHandle[] = [new FakeRoute('x', 'found'), new FakeRoute('y', 'notfound')];
    const sel = createSelector({ hashFunc: 'Ch3' }, [{ host: 'x', port: 1 }, { host: 'y', port: 2 }]);
    const r = new PoolRoute('P', kids, sel, 'Ch3');
    const ctx = makeTestContext();
    for (const k of KEYS) routeSync(r, makeRequest('get', k), ctx);
    expect((kids[0] as FakeRoute).seen.length + (kids[1] as FakeRoute).seen.length).toBe(KEYS.length);
    expect(() => new PoolRoute('P', kids.slice(0, 1), sel, 'Ch3')).toThrow(/2 slots for 1 servers/);
  });

  test('shorthand and errors', () => {
    expect(poolRouteFactory.fromString('A')).toEqual({ pool: 'A' });
    expect(() => build({ pools: { A: { servers: SERVERS } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Ketama', weights: [1] } } }))
      .toThrow('/route/hash/weights: PoolRoute: weights has 1 entries but there are 4 servers');
    expect(() => build({ pools: { A: { servers: SERVERS } }, route: { type: 'PoolRoute', pool: 7 } }))
      .toThrow('/route/pool: PoolRoute: pool must be a string or an object');
  });
});

describe('PoolRoute WeightedCh3 weights that do not match the servers (mcrouter parseWeights)', () => {
  const placement = (weights: number[]) => {
    const { root, built } = build({ pools: { A: { servers: SERVERS, weights } }, route: 'PoolRoute|A' });
    return { where: KEYS.map((k) => routeSync(root, makeRequest('get', k)).raw?.toString()), warnings: built.warnings };
  };
  const expected = (weights: number[]) => {
    const sel = createSelector({ hashFunc: 'WeightedCh3', weights }, SERVERS.map(at));
    return KEYS.map((k) => SERVERS[sel.select(Buffer.from(k))]);
  };

  test('missing weights are 0.5, with a warning', () => {
    const r = placement([1, 0.1]);
    expect(r.where).toEqual(expected([1, 0.1, 0.5, 0.5]));
    expect(r.where).not.toEqual(expected([1, 0.1, 1, 1]));
    expect(r.warnings).toEqual(['/pools/A/weights: PoolRoute: 2 weights for 4 servers: the missing 2 are 0.5, as in mcrouter']);
  });

  test('extra weights are dropped (and never range-checked), with a warning', () => {
    const r = placement([0.2, 1, 0.7, 1, 5]);
    expect(r.where).toEqual(expected([0.2, 1, 0.7, 1]));
    expect(r.warnings).toEqual(['/pools/A/weights: PoolRoute: 5 weights for 4 servers: the extra 1 are ignored, as in mcrouter']);
  });
});

describe('PoolRoute rates', () => {
  test('over the sets rate a request gets busy; gets are not limited', () => {
    const { root } = build({
      pools: { A: { servers: SERVERS } },
      route: { type: 'PoolRoute', pool: 'A', rates: { sets_rate: 1, sets_burst: 2 } },
    });
    const ctx = makeTestContext();
    const set = makeRequest('set', 'k', 'v');
    const results = [0, 1, 2].map(() => routeSync(root, set, ctx).result);
    expect(results.slice(0, 2).every((r) => r !== 'busy')).toBe(true);
    expect(results[2]).toBe('busy');
    expect(ctx.stats.rateLimited).toBe(1);
    expect(routeSync(root, makeRequest('get', 'k'), ctx).result).not.toBe('busy');
  });
});

describe('PoolRoute unimplemented options', () => {
  test('are reported as build warnings with their path', () => {
    const { built } = build({ pools: { A: { servers: SERVERS } }, route: { type: 'PoolRoute', pool: 'A', max_outstanding: 5 } });
    expect(built.warnings).toEqual(['/route/max_outstanding: PoolRoute: max_outstanding is accepted but not implemented yet; ignored']);
    expect(build({ pools: { A: { servers: SERVERS } }, route: 'PoolRoute|A' }).built.warnings).toEqual([]);
  });
});

describe('PoolRoute.directRange (the multi-get fast path)', () => {
  /** A destination that offers sendBatch, so destination routes can name it as a direct target. */
  class FastDestination extends RecordingDestination {
    sendBatch(): boolean {
      return true;
    }
  }
  function buildFast(config: Record<string, unknown>) {
    const byAddress = new Map<string, FastDestination>();
    const provider: DestinationProvider = {
      get(server) {
        let d = byAddress.get(server.address);
        if (d === undefined) byAddress.set(server.address, (d = new FastDestination(server.address)));
        return d;
      },
    };
    const built = buildConfig(JSON.parse(JSON.stringify(config)), { options: DEFAULT_BUILD_OPTIONS, destinations: provider });
    return built.root;
  }
  /** The key inside a get line, as the parser hands it over: a range of a bigger buffer. */
  function inLine(key: string): [Buffer, number, number] {
    const line = Buffer.from(`get other|#|x ${key} more\r\n`, 'latin1');
    const start = 'get other|#|x '.length;
    return [line, start, start + Buffer.byteLength(key, 'latin1')];
  }
  const hashStopKeys = KEYS.slice(0, 40).flatMap((k) => [`${k}|#|suffix`, `a|#|${k}`, `${k}|#|`]);

  test.each([
    ['Ch3', {}],
    ['Ch3 with a salt', { hash: { hash_func: 'Ch3', salt: 'pepper' } }],
    ['WeightedCh3', { hash: { hash_func: 'WeightedCh3', weights: [1, 0.5, 0.7, 0.2] } }],
    ['Crc32', { hash: 'Crc32' }],
  ])('names the destination route() sends to, with the pool timeout (%s)', (_name, extra) => {
    const root = buildFast({ pools: { A: { servers: SERVERS, server_timeout: 77 } }, route: { type: 'PoolRoute', pool: 'A', ...extra } });
    const seen = new Set<string>();
    for (const k of [...KEYS, ...hashStopKeys]) {
      const [buf, s, e] = inLine(k);
      const t = root.directRange?.(buf, s, e);
      const expected = routeSync(root, makeRequest('get', k)).raw?.toString();
      expect({ k, to: t?.destination.address }).toEqual({ k, to: expected });
      expect(t?.timeoutMs).toBe(77);
      seen.add(expected ?? '');
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  test('null for a key with a routing prefix, kept or not', () => {
    for (const pool of [{ servers: SERVERS }, { servers: SERVERS, keep_routing_prefix: true }]) {
      const root = buildFast({ pools: { A: pool }, route: 'PoolRoute|A' });
      expect(root.directRange?.(...inLine('/r/c/foo'))).toBeNull();
      expect(root.directRange?.(...inLine('foo'))).not.toBeNull();
    }
  });

  test('never through routes that must see every request (shadows, rates) or any other route type', () => {
    const pools = { A: { servers: SERVERS }, T: { servers: ['127.0.0.1:20009'] } };
    const cases: unknown[] = [
      { type: 'PoolRoute', pool: 'A', shadows: [{ target: 'PoolRoute|T', index_range: [0, 4], key_fraction_range: [0, 1] }] },
      { type: 'PoolRoute', pool: 'A', rates: { gets_rate: 1000 } },
      { type: 'FailoverRoute', children: ['PoolRoute|A', 'PoolRoute|T'] },
    ];
    for (const route of cases) {
      const root = buildFast({ pools, route });
      for (const k of KEYS.slice(0, 50)) expect(root.directRange?.(...inLine(k)) ?? null).toBeNull();
    }
  });
});
