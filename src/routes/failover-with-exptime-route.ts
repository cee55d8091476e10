/**
 * FailoverWithExptimeRoute: a FailoverRoute over `[normal, ...failover]` whose failover children see update
 * exptimes capped at `failover_exptime` seconds (ModifyExptimeRoute action "min"; 0 = never expires counts as
 * longer than any cap). The usual use is a gutter pool: when the normal pool fails, writes land in the
 * gutter but expire quickly, so stale data there does not outlive the outage by much.
 *
 * When everything fails: the last failover child's reply (marked `isFailover`); with no failover children,
 * the normal route's reply. All FailoverRoute options apply (`failover_errors`, `failover_limit`,
 * `failover_policy`, ...), and so do its counters and TKO rule.
 *
 * Ops: all; only ops carrying an exptime are rewritten (not deletes or gets).
 * Limits / differences from mcrouter: `failover_exptime` ≤ 0 disables the cap; the deprecated `settings`
 * object is not accepted.
 */
import { FAILOVER_OPTION_PROPERTIES, FailoverRoute, failoverRouteName, failoverSettings, type FailoverOptions, type FailoverSettings } from './failover-route.js';
import { ModifyExptimeRoute } from './modify-exptime-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { RouteHandle } from './route-handle.js';

export class FailoverWithExptimeRoute extends FailoverRoute {
  override readonly type: string = 'FailoverWithExptimeRoute';
  override readonly name: string = 'FailoverWithExptimeRoute';
  /** mcrouter's FailoverRoute name; none without failover targets (mcrouter then returns `normal` itself). */
  override readonly routeNames: readonly string[];

  /**
   * @param normal supplies the first target
   * @param failover supplies the failover targets, unwrapped (this constructor adds the exptime cap)
   * @param failoverExptime supplies the cap in seconds; ≤ 0 means no cap
   */
  constructor(
    normal: RouteHandle,
    failover: readonly RouteHandle[],
    readonly failoverExptime: number,
    settings?: FailoverSettings,
  ) {
    const wrapped = failoverExptime > 0 ? failover.map((c) => new ModifyExptimeRoute(c, failoverExptime, 'min')) : failover;
    super([normal, ...wrapped], settings);
    this.routeNames = failover.length === 0 ? [] : [failoverRouteName(settings?.name, 1 + failover.length)];
  }
}

export interface FailoverWithExptimeRouteOptions extends FailoverOptions {
  normal: unknown;
  failover: unknown;
  failover_exptime: number;
}

export const failoverWithExptimeRouteFactory = defineRoute<FailoverWithExptimeRouteOptions>({
  type: 'FailoverWithExptimeRoute',
  description: 'FailoverRoute over [normal, ...failover] with update exptimes on the failover targets capped at failover_exptime.',
  schema: {
    type: 'object',
    properties: {
      normal: routeNodeSchema('The route every request tries first.'),
      failover: { ...routeNodeSchema('Failover targets, in order: a list, a single route, or "Pool|A".'), default: [] },
      failover_exptime: { type: 'integer', default: 60, description: 'Cap (seconds) on update exptimes sent to failover targets; ≤ 0 = no cap.' },
      ...FAILOVER_OPTION_PROPERTIES,
    },
    required: ['normal'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ normal: rest }),
  create(o, b, path) {
    const normal = b.route(o.normal, `${path}/normal`);
    const failover = b.routeList(o.failover, `${path}/failover`);
    const settings = failoverSettings(o, b, path, 'FailoverWithExptimeRoute', 1 + failover.length);
    return new FailoverWithExptimeRoute(normal, failover, o.failover_exptime, settings);
  },
});
