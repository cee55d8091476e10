/**
 * PrefixSelectorRoute: sends each request to the policy whose key prefix is the longest prefix of the
 * request's routing key (routing prefix removed, cut at `|#|`), else to `wildcard`. Prefixes are matched,
 * never stripped: the child sees the key unchanged. mcrouter example: policies `a`→A, `ab`→B, wildcard C
 * send `/a/a/abcd` to B, `acdc` to A and `b` to C.
 *
 * When everything fails: a key that matches no policy when there is no `wildcard` gets `local_error` without
 * a message (`SERVER_ERROR local error`: mcrouter's selector yields no target, and RootRoute answers that
 * with its ErrorReply). Otherwise the chosen child's
 * reply, whatever it is.
 *
 * Ops: all. Speed: the prefixes are compiled into a byte trie at build time; a lookup walks the routing key's
 * bytes once (at most as deep as the longest prefix), with no string decoding and no allocation.
 * Differences from mcrouter: mcrouter only accepts this route at the root of a tree; mcrelay accepts it
 * anywhere. An empty prefix is rejected (use `wildcard`).
 */
import { frozenReply, errorReply, type Request } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { joinPointer } from '../json-pointer.js';

const NO_ROUTE = frozenReply(errorReply('local_error'));

/** One trie node; `next` is indexed by byte, created lazily (sparse Map: prefixes are few and short). */
interface TrieNode {
  handle: RouteHandle | null;
  next: Map<number, TrieNode> | null;
}

export class PrefixSelectorRoute implements RouteHandle {
  readonly type = 'PrefixSelectorRoute';
  readonly name = 'PrefixSelectorRoute';
  /** mcrouter makes this choice in RootRoute's map (RouteSelectorMap): no handle of its own in route_handles. */
  readonly routeNames: readonly string[] = [];
  private readonly root: TrieNode = { handle: null, next: null };

  /**
   * @param policies supplies prefix (bytes, latin1/utf8 as written in the config) → route; prefixes non-empty
   * @param wildcard supplies the route for keys no prefix matches, or null (then they get an error)
   */
  constructor(policies: ReadonlyMap<string, RouteHandle>, private readonly wildcard: RouteHandle | null) {
    for (const [prefix, handle] of policies) {
      const bytes = Buffer.from(prefix, 'utf8');
      if (bytes.length === 0) throw new Error('PrefixSelectorRoute: empty prefix');
      let node = this.root;
      for (const byte of bytes) {
        node.next ??= new Map();
        let child = node.next.get(byte);
        if (child === undefined) {
          child = { handle: null, next: null };
          node.next.set(byte, child);
        }
        node = child;
      }
      node.handle = handle;
    }
  }

  /** The route for a routing key: the longest matching prefix's, else the wildcard, else null. */
  select(routingKey: Buffer): RouteHandle | null {
    let best = this.wildcard;
    let node: TrieNode | undefined = this.root;
    for (let i = 0; i < routingKey.length; i++) {
      const next: Map<number, TrieNode> | null = node.next;
      if (next === null) break;
      node = next.get(routingKey[i] as number);
      if (node === undefined) break;
      if (node.handle !== null) best = node.handle;
    }
    return best;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const target = this.select(req.routingKey());
    if (target === null) done(NO_ROUTE);
    else target.route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    const target = this.select(req.routingKey());
    if (target !== null) t.visit(target, req);
  }
}

export interface PrefixSelectorRouteOptions {
  policies?: Record<string, unknown>;
  wildcard?: unknown;
}

export const prefixSelectorRouteFactory = defineRoute<PrefixSelectorRouteOptions>({
  type: 'PrefixSelectorRoute',
  description: 'Sends each request to the policy with the longest key prefix matching the routing key, else to the wildcard.',
  schema: {
    type: 'object',
    properties: {
      policies: {
        type: 'object',
        description: 'Key prefix → route. The longest prefix of the routing key wins; the prefix stays in the key.',
        additionalProperties: routeNodeSchema('The route for keys with this prefix.'),
      },
      wildcard: routeNodeSchema('The route for keys that match no policy. Without it such keys get an error reply.'),
    },
    additionalProperties: false,
  },
  fromString: (rest) => ({ wildcard: rest }),
  create(o, b, path) {
    if (o.policies === undefined && o.wildcard === undefined) {
      b.fail(path, 'PrefixSelectorRoute: needs "policies" or "wildcard"');
    }
    const policies = new Map<string, RouteHandle>();
    // Sorted, so named handles inside policies resolve in a deterministic order (as mcrouter does).
    for (const prefix of Object.keys(o.policies ?? {}).sort()) {
      const p = joinPointer(`${path}/policies`, prefix);
      if (prefix === '') b.fail(p, 'PrefixSelectorRoute: empty prefix; use "wildcard" for the default route');
      policies.set(prefix, b.route((o.policies ?? {})[prefix], p));
    }
    const wildcard = o.wildcard === undefined ? null : b.route(o.wildcard, `${path}/wildcard`);
    return new PrefixSelectorRoute(policies, wildcard);
  },
});
