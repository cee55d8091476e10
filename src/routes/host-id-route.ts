/**
 * HostIdRoute: every request from this host goes to one fixed child: `hostId % n`, or, with a non-empty
 * `salt`, `hash(hostId, salt) % n` so that different HostIdRoutes spread the same hosts differently.
 * The host id is `--host-id` (default: a hash of the hostname). The child is chosen once, at build time.
 *
 * Replies when everything fails: the chosen child's reply (its error); nothing is retried.
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Compatibility: without salt it matches mcrouter for the same host id. With salt the hash is CRC-32 of
 * the decimal host id followed by the salt, not folly::Hash(hostid, salt), so salted choices differ from
 * mcrouter's (they are still stable across restarts and machines).
 */
import type { Request } from '../protocol/types.js';
import { buildMultiChild } from './all-sync-route.js';
import { crc32 } from './hash/crc32.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** The child index for a host. */
export function hostIdIndex(hostId: number, n: number, salt: string): number {
  const h = salt === '' ? hostId >>> 0 : crc32(Buffer.from(`${hostId >>> 0}${salt}`, 'latin1'));
  return h % n;
}

export class HostIdRoute implements RouteHandle {
  readonly type = 'HostIdRoute';
  readonly name: string;
  /** mcrouter's HostIdRoute factory returns the chosen child itself: no handle of its own in route_handles. */
  readonly routeNames: readonly string[] = [];

  constructor(
    private readonly target: RouteHandle,
    readonly index: number,
  ) {
    this.name = `HostIdRoute|${index}`;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.target.route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.target, req);
  }
}

export interface HostIdRouteOptions {
  children: unknown;
  salt: string;
}

export const hostIdRouteFactory = defineRoute<HostIdRouteOptions>({
  type: 'HostIdRoute',
  description: 'Sends every request to the child at hostId % n (or a salted hash of the host id).',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The routes to choose from: a list, or "Pool|A".'),
      salt: { type: 'string', default: '', description: 'When non-empty, the index is hash(hostId, salt) % n instead of hostId % n.' },
    },
    required: ['children'],
    additionalProperties: false,
  },
  create: (o, b, path) =>
    buildMultiChild(o, b, path, (c) => {
      const i = hostIdIndex(b.options.hostId, c.length, o.salt);
      return new HostIdRoute(c[i] as RouteHandle, i);
    }),
});
