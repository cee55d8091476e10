/**
 * ShadowRoute: PoolRoute's `shadows` for arbitrary children. The request goes to one normal child and,
 * when a shadow setting selects it, a fire-and-forget copy goes to that shadow's `target` (see
 * `util/shadow.ts` for the selection rules: index_range, key_fraction_range, requests_fraction,
 * keys_to_shadow, and the `--target-max-shadow-requests` cap).
 *
 * The normal child: with one child, that child (index 0); with several, the child picked by Ch3 of the
 * routing key, like HashRoute, so `index_range` selects children the way it selects a pool's servers.
 * (mcrouter's ShadowRoute type wraps each child likewise; its choice among several children is not
 * documented, so this is our reading.)
 *
 * Replies: always the normal child's reply; shadow replies are discarded and never delay it.
 * Replies when everything fails: the normal child's error.
 * Ops: all. Limits: shadows of shadow copies are not sent; `shadow_policy` other than "default" is
 * rejected; runtime-var overrides are not implemented.
 */
import type { Request } from '../protocol/types.js';
import { createSelector, type Selector } from './hash/selector.js';
import { selectionRouteName } from './hash-route.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { SHADOWS_SCHEMA, buildShadows, wrapWithShadows, type ShadowOptions } from './util/shadow.js';

export class ShadowRoute implements RouteHandle {
  readonly type = 'ShadowRoute';
  readonly name = 'ShadowRoute';
  /**
   * mcrouter's ShadowRoute type is a list (each child wrapped in `shadow`), not a handle: nothing of its own
   * over one child; over several, our Ch3 choice among them (`selection|hash|Ch3`).
   */
  readonly routeNames: readonly string[];

  /**
   * @param children supplies the normal children, already wrapped with the shadows covering their index
   * @param selector supplies the key → child mapping when there is more than one child
   */
  constructor(
    readonly children: readonly RouteHandle[],
    private readonly selector: Selector | null,
  ) {
    if (children.length === 0) throw new Error('ShadowRoute: children must be non-empty');
    this.routeNames = selector === null ? [] : [selectionRouteName('Ch3', undefined)];
  }

  private pick(req: Request): RouteHandle {
    return this.children[this.selector === null ? 0 : this.selector.select(req.routingKey())] as RouteHandle;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.pick(req).route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.pick(req), req);
  }
}

export interface ShadowRouteOptions {
  children: unknown;
  shadows: ShadowOptions[];
  shadow_policy: string;
}

export const shadowRouteFactory = defineRoute<ShadowRouteOptions>({
  type: 'ShadowRoute',
  description: 'Routes to the normal child and sends fire-and-forget copies of selected requests to shadow targets.',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The normal route(s); with several, one is chosen by Ch3 of the routing key.'),
      shadows: { ...SHADOWS_SCHEMA, default: [] },
      shadow_policy: { type: 'string', enum: ['default'], default: 'default', description: 'mcrouter shadow policy; only "default" exists.' },
    },
    required: ['children'],
    additionalProperties: false,
  },
  create(o, b, path) {
    const children = b.routeList(o.children, `${path}/children`);
    if (children.length === 0) return new NullRoute();
    const shadows = buildShadows(b, o.shadows, `${path}/shadows`);
    const wrapped = wrapWithShadows(children, shadows);
    const selector = wrapped.length === 1 ? null : createSelector({ hashFunc: 'Ch3' }, wrapped.map((c) => ({ host: c.name, port: 0 })));
    return new ShadowRoute(wrapped, selector);
  },
});
