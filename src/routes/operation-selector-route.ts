/**
 * OperationSelectorRoute (alias PrefixPolicyRoute): sends each request to the route configured for its
 * operation in `operation_policies`, else to `default_policy`.
 *
 * Operation names are mcrouter's carbon names: get gets gat gats metaget lease-get set add replace append
 * prepend cas lease-set delete touch incr decr. Any other name is a config error. mcrelay's meta commands
 * use the policy of the classic op they behave like:
 *
 *   mg → get    ms → set    md → delete    ma → incr    me → metaget, or get when no metaget policy
 *
 * `lease-get` and `lease-set` are accepted for config compatibility but never match (mcrelay has no lease
 * commands); `mn`, `version`, `stats` and other non-key ops go to `default_policy`.
 *
 * At least one of `default_policy` and `operation_policies` must be given, as mcrouter requires.
 * When everything fails: an op with no policy and no `default_policy` gets the NullRoute reply (miss,
 * NOT_STORED or NOT_FOUND), like mcrouter's missing default. Otherwise the chosen child's reply.
 * Speed: the op → route table is resolved at build time; routing is one array read by opIndex.
 */
import { opIndex, OPS, type Request } from '../protocol/types.js';
import { joinPointer } from '../json-pointer.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** Carbon operation names accepted in `operation_policies`. */
export const CARBON_OPERATIONS = [
  'get', 'gets', 'gat', 'gats', 'metaget', 'lease-get',
  'set', 'add', 'replace', 'append', 'prepend', 'cas', 'lease-set',
  'delete', 'touch', 'incr', 'decr',
] as const;
export type CarbonOperation = (typeof CARBON_OPERATIONS)[number];

const NULL_ROUTE = new NullRoute();

export class OperationSelectorRoute implements RouteHandle {
  readonly type = 'OperationSelectorRoute';
  readonly name = 'OperationSelectorRoute';
  readonly routeNames: readonly string[];
  private readonly table: readonly RouteHandle[];

  /**
   * @param policies supplies carbon op name → route
   * @param defaultPolicy supplies the route for ops without a policy, or null (NullRoute replies)
   * @param routeNames supplies the route_handles lines: mcrouter's `operation-selector`, or none when the
   *   config has no `operation_policies` (mcrouter then uses default_policy itself)
   */
  constructor(policies: ReadonlyMap<CarbonOperation, RouteHandle>, defaultPolicy: RouteHandle | null, routeNames: readonly string[] = ['operation-selector']) {
    this.routeNames = routeNames;
    const fallback = defaultPolicy ?? NULL_ROUTE;
    // By opIndex: an array read per request (a table keyed by op name would be a megamorphic load).
    const table: RouteHandle[] = [];
    // Each op looks up its carbon names (OPS[].carbon) in order; none configured → default_policy.
    // `policies.get(name)` only compiles while every carbon name in OPS is a CarbonOperation.
    for (const o of OPS) {
      let h: RouteHandle | undefined;
      for (const name of o.carbon) {
        h = policies.get(name);
        if (h !== undefined) break;
      }
      table.push(h ?? fallback);
    }
    this.table = Object.freeze(table);
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    (this.table[opIndex(req.op)] as RouteHandle).route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.table[opIndex(req.op)] as RouteHandle, req);
  }
}

export interface OperationSelectorRouteOptions {
  default_policy?: unknown;
  operation_policies?: Record<string, unknown>;
}

const KNOWN: ReadonlySet<string> = new Set(CARBON_OPERATIONS);

export const operationSelectorRouteFactory = defineRoute<OperationSelectorRouteOptions>({
  type: 'OperationSelectorRoute',
  aliases: ['PrefixPolicyRoute'],
  description: 'Sends each request to the route configured for its operation (get, set, delete, ...), else to default_policy.',
  schema: {
    type: 'object',
    properties: {
      default_policy: routeNodeSchema('The route for operations without their own policy. Without it they get NullRoute replies.'),
      operation_policies: {
        type: 'object',
        description: `Carbon operation name → route. Names: ${CARBON_OPERATIONS.join(', ')}. Meta commands: mg→get, ms→set, md→delete, ma→incr, me→metaget (else get).`,
        additionalProperties: routeNodeSchema('The route for this operation.'),
      },
    },
    additionalProperties: false,
  },
  fromString: (rest) => ({ default_policy: rest }),
  create(o, b, path) {
    // mcrouter refuses an OperationSelectorRoute object with neither key (a route to nowhere).
    if (o.default_policy === undefined && o.operation_policies === undefined) {
      b.fail(path, 'OperationSelectorRoute: needs "default_policy" or "operation_policies"');
    }
    // mcrouter builds default_policy first, then the policies in sorted-name order, so named handles
    // resolve the same way (the first definition of a name wins).
    const def = o.default_policy === undefined ? null : b.route(o.default_policy, `${path}/default_policy`);
    const policies = new Map<CarbonOperation, RouteHandle>();
    const given = o.operation_policies ?? {};
    for (const name of Object.keys(given).sort()) {
      const p = joinPointer(`${path}/operation_policies`, name);
      if (!KNOWN.has(name)) b.fail(p, `OperationSelectorRoute: unknown operation "${name}" (expected one of ${CARBON_OPERATIONS.join(', ')})`);
      policies.set(name as CarbonOperation, b.route(given[name], p));
    }
    return new OperationSelectorRoute(policies, def, o.operation_policies === undefined ? [] : undefined);
  },
});
