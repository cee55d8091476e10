/**
 * RoutingGroupRoute: sends each request to the route configured for its operation group in
 * `routing_group_policies`, else to `default_policy`. Groups (mcrouter's):
 *
 *   get_like        get gets gat gats mg me
 *   update_like     set add replace append prepend cas touch ms
 *   delete_like     delete md
 *   arithmetic_like incr decr ma
 *
 * Ops outside the groups (mn, version, stats, ...) go to `default_policy`. At least one of `default_policy`
 * and `routing_group_policies` must be given, as mcrouter requires.
 * When everything fails: with no policy for the group and no `default_policy`, the NullRoute reply.
 * Speed: the group → route table is resolved at build time; routing is a switch and a call.
 */
import { opGroup, opsInGroup, ROUTING_GROUPS, type OpGroup, type Request, type RoutingGroup } from '../protocol/types.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

const NULL_ROUTE = new NullRoute();

export class RoutingGroupRoute implements RouteHandle {
  readonly type = 'RoutingGroupRoute';
  readonly name = 'RoutingGroupRoute';
  readonly routeNames: readonly string[];
  private readonly table: Readonly<Record<OpGroup, RouteHandle>>;

  /**
   * @param policies supplies group → route
   * @param defaultPolicy supplies the route for groups without a policy, or null (NullRoute replies)
   * @param routeNames supplies the route_handles lines: mcrouter's `routing-group`, or none when the config
   *   has no `routing_group_policies` (mcrouter then uses default_policy itself)
   */
  constructor(policies: Partial<Record<OpGroup, RouteHandle>>, defaultPolicy: RouteHandle | null, routeNames: readonly string[] = ['routing-group']) {
    this.routeNames = routeNames;
    const d = defaultPolicy ?? NULL_ROUTE;
    this.table = Object.freeze({
      get_like: policies.get_like ?? d,
      update_like: policies.update_like ?? d,
      delete_like: policies.delete_like ?? d,
      arithmetic_like: policies.arithmetic_like ?? d,
      other: d,
    });
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.table[opGroup(req.op)].route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.table[opGroup(req.op)], req);
  }
}

export interface RoutingGroupRouteOptions {
  default_policy?: unknown;
  routing_group_policies?: Partial<Record<RoutingGroup, unknown>>;
}

export const routingGroupRouteFactory = defineRoute<RoutingGroupRouteOptions>({
  type: 'RoutingGroupRoute',
  description: 'Sends each request to the route configured for its operation group (get_like, update_like, delete_like, arithmetic_like).',
  schema: {
    type: 'object',
    properties: {
      default_policy: routeNodeSchema('The route for groups without their own policy and for other ops. Without it: NullRoute replies.'),
      routing_group_policies: {
        type: 'object',
        description: 'Operation group → route.',
        // One policy per group, described by the ops in it ("get, gets, gat, gats, mg, me.").
        properties: Object.fromEntries(ROUTING_GROUPS.map((g) => [g, routeNodeSchema(`${opsInGroup(g).join(', ')}.`)])),
        additionalProperties: false,
        // mcrouter refuses other group names (unknown keys elsewhere are only warnings): see config/unknown-keys.ts.
        propertyNames: { enum: [...ROUTING_GROUPS] },
      },
    },
    additionalProperties: false,
  },
  fromString: (rest) => ({ default_policy: rest }),
  create(o, b, path) {
    // mcrouter refuses a RoutingGroupRoute object with neither key (a route to nowhere).
    if (o.default_policy === undefined && o.routing_group_policies === undefined) {
      b.fail(path, 'RoutingGroupRoute: needs "default_policy" or "routing_group_policies"');
    }
    // default_policy first, as mcrouter builds it (the first definition of a named handle wins).
    const def = o.default_policy === undefined ? null : b.route(o.default_policy, `${path}/default_policy`);
    const policies: Partial<Record<OpGroup, RouteHandle>> = {};
    const given = o.routing_group_policies ?? {};
    for (const g of [...ROUTING_GROUPS].sort()) {
      const node = given[g];
      if (node !== undefined) policies[g] = b.route(node, `${path}/routing_group_policies/${g}`);
    }
    return new RoutingGroupRoute(policies, def, o.routing_group_policies === undefined ? [] : undefined);
  },
});
