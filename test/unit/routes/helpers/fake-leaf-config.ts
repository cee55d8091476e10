/**
 * Build route configs over fake leaves for the route unit tests (PrefixSelector, Failover, ...), with no sockets:
 * `Fake|a` is a FakeRoute named `a` that answers `found` with the bytes "a"; `{type: 'Fake', id, result}`
 * answers with another result. The registry is the project's table plus these routes, whether or not
 * registry.ts lists them yet.
 */
import { Reply, type Result } from '../../../../src/protocol/types.js';
import { validateConfig } from '../../../../src/config/validate.js';
import type { ConfigError } from '../../../../src/config-error.js';
import { createRegistry, ROUTE_FACTORIES } from '../../../../src/routes/registry.js';
import { defineRoute, type BuildOptions, type RouteFactory } from '../../../../src/routes/route-factory.js';
import type { RouteHandle } from '../../../../src/routes/route-handle.js';
import { failoverRouteFactory } from '../../../../src/routes/failover-route.js';
import { failoverWithExptimeRouteFactory } from '../../../../src/routes/failover-with-exptime-route.js';
import { faultInjectionRouteFactory } from '../../../../src/routes/fault-injection-route.js';
import { keySplitRouteFactory } from '../../../../src/routes/key-split-route.js';
import { latencyInjectionRouteFactory } from '../../../../src/routes/latency-injection-route.js';
import { migrateRouteFactory } from '../../../../src/routes/migrate-route.js';
import { missFailoverRouteFactory } from '../../../../src/routes/miss-failover-route.js';
import { modifyExptimeRouteFactory } from '../../../../src/routes/modify-exptime-route.js';
import { modifyKeyRouteFactory } from '../../../../src/routes/modify-key-route.js';
import { operationSelectorRouteFactory } from '../../../../src/routes/operation-selector-route.js';
import { prefixSelectorRouteFactory } from '../../../../src/routes/prefix-selector-route.js';
import { rateLimitRouteFactory } from '../../../../src/routes/rate-limit-route.js';
import { routingGroupRouteFactory } from '../../../../src/routes/routing-group-route.js';
import { FakeRoute } from './fake-route.js';

/** The routes these tests build, registered whether or not registry.ts lists them. */
export const TESTED_ROUTES: readonly RouteFactory[] = [
  failoverRouteFactory,
  failoverWithExptimeRouteFactory,
  faultInjectionRouteFactory,
  keySplitRouteFactory,
  latencyInjectionRouteFactory,
  migrateRouteFactory,
  missFailoverRouteFactory,
  modifyExptimeRouteFactory,
  modifyKeyRouteFactory,
  operationSelectorRouteFactory,
  prefixSelectorRouteFactory,
  rateLimitRouteFactory,
  routingGroupRouteFactory,
];

export interface Built {
  readonly root: RouteHandle;
  /** The builder's warnings (accepted options it ignores or clamps), each "pointer: message". */
  readonly warnings: readonly string[];
  /** Fake leaves by name (one instance per name). */
  readonly fakes: Map<string, FakeRoute>;
  fake(name: string): FakeRoute;
}

function registryWith(fakes: Map<string, FakeRoute>) {
  const fake = defineRoute<{ id: string; result?: string }>({
    type: 'Fake',
    description: 'test leaf',
    schema: {
      type: 'object',
      properties: { id: { type: 'string' }, result: { type: 'string' } },
      required: ['id'],
      additionalProperties: false,
    },
    fromString: (rest) => ({ id: rest }),
    create: (o) => {
      let f = fakes.get(o.id);
      if (f === undefined) {
        f = new FakeRoute(o.id, new Reply((o.result ?? 'found') as Result, Buffer.from(o.id)));
        fakes.set(o.id, f);
      }
      return f;
    },
  });
  const mine = new Set(TESTED_ROUTES.map((f) => f.type));
  return createRegistry([...ROUTE_FACTORIES.filter((f) => !mine.has(f.type)), ...TESTED_ROUTES, fake]);
}

/** Build `{route}` (plus any top-level keys in `extra`); throws the ConfigError on failure. */
export function buildRoute(route: unknown, extra: Record<string, unknown> = {}, options: Partial<BuildOptions> = {}): Built {
  const fakes = new Map<string, FakeRoute>();
  const v = validateConfig({ configStr: JSON.stringify({ ...extra, route }) }, { registry: registryWith(fakes), options });
  if (!v.ok) throw v.error;
  return {
    root: v.built.root.defaultRoute,
    warnings: v.built.warnings,
    fakes,
    fake(name: string): FakeRoute {
      const f = fakes.get(name);
      if (f === undefined) throw new Error(`no fake leaf named ${name}`);
      return f;
    },
  };
}

/** The ConfigError building `route` raises (fails the test when it builds). */
export function configError(route: unknown, extra: Record<string, unknown> = {}): ConfigError {
  const fakes = new Map<string, FakeRoute>();
  const v = validateConfig({ configStr: JSON.stringify({ ...extra, route }) }, { registry: registryWith(fakes) });
  if (v.ok) throw new Error('expected a config error, but the config built');
  return v.error;
}

/** The text a fake leaf's `found` reply carries (its name), or the result for other replies. */
export function who(r: Reply): string {
  return r.result === 'found' && r.raw !== null ? r.raw.toString() : r.result;
}
