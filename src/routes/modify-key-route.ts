/**
 * ModifyKeyRoute: rewrites the request's key, then sends it to `target`. Steps, in this order:
 *
 *   set_routing_prefix  the key's `/region/cluster/` prefix becomes this one ("" removes it);
 *   ensure_key_prefix   the rest of the key gets this prefix unless it already starts with it;
 *   replace_key_prefix  (needs ensure_key_prefix) a key that starts with this string has it replaced by
 *                       ensure_key_prefix, e.g. ensure "v2:" + replace "v1:" turns `v1:u` into `v2:u`;
 *   set_key_suffix      the key gets this suffix unless it already ends with it.
 *
 * mcrouter's example: set_routing_prefix "/a/b/" + ensure_key_prefix "foo" turns `/b/c/o` into `/a/b/fooo`.
 *
 * When everything fails: the target's reply. A rewritten key longer than 250 bytes is not sent: the reply
 * is `bad_key` ("CLIENT_ERROR bad key"). Ops: every op with a key; the value bytes are shared, not copied.
 * Limits / differences from mcrouter: `replace_key_prefix` and `set_key_suffix` follow mcrelay's reading
 * above (mcrouter's exact rules for them are unverified); `modify_inplace` is accepted and has no effect
 * (mcrelay always makes a new Request). Meta requests with a base64 (`b`) key are passed through unchanged.
 */
import { frozenReply, errorReply, routingPrefixLength, type Request } from '../protocol/types.js';
import { isValidRoutingPrefix } from './root-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export const MAX_KEY_LENGTH = 250;
const KEY_TOO_LONG = frozenReply(errorReply('bad_key', 'ModifyKeyRoute: key too long after rewrite'));

export interface KeyRewrite {
  /** New routing prefix ("" = remove), or null to keep the key's own. */
  readonly setRoutingPrefix: string | null;
  readonly ensureKeyPrefix: string;
  readonly replaceKeyPrefix: string;
  readonly setKeySuffix: string;
}

function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  return buf.length - at >= prefix.length && buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

export class ModifyKeyRoute implements RouteHandle {
  readonly type = 'ModifyKeyRoute';
  readonly name = 'ModifyKeyRoute';
  readonly routeNames: readonly string[] = ['modify-key'];
  private readonly routingPrefix: Buffer | null;
  private readonly ensure: Buffer;
  private readonly replace: Buffer;
  private readonly suffix: Buffer;

  constructor(readonly target: RouteHandle, rw: KeyRewrite) {
    this.routingPrefix = rw.setRoutingPrefix === null ? null : Buffer.from(rw.setRoutingPrefix, 'utf8');
    this.ensure = Buffer.from(rw.ensureKeyPrefix, 'utf8');
    this.replace = Buffer.from(rw.replaceKeyPrefix, 'utf8');
    this.suffix = Buffer.from(rw.setKeySuffix, 'utf8');
  }

  /** The key the target will see (may be the same Buffer when nothing changes). */
  rewriteKey(key: Buffer): Buffer {
    const plen = routingPrefixLength(key);
    const prefix = this.routingPrefix ?? key.subarray(0, plen);
    let restStart = plen;
    let head: Buffer = this.ensure.length === 0 ? Buffer.alloc(0) : this.ensure;
    if (this.ensure.length > 0) {
      if (startsWith(key, plen, this.ensure)) head = Buffer.alloc(0);
      else if (this.replace.length > 0 && startsWith(key, plen, this.replace)) restStart = plen + this.replace.length;
    }
    const rest = key.subarray(restStart);
    const needSuffix = this.suffix.length > 0 && !(rest.length >= this.suffix.length && rest.subarray(rest.length - this.suffix.length).equals(this.suffix));
    const samePrefix = this.routingPrefix === null || (plen === prefix.length && startsWith(key, 0, prefix));
    if (samePrefix && head.length === 0 && restStart === plen && !needSuffix) return key;
    const parts: Buffer[] = [prefix, head, rest];
    if (needSuffix) parts.push(this.suffix);
    return Buffer.concat(parts);
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (req.wireKey !== null) {
      this.target.route(req, ctx, done);
      return;
    }
    const key = this.rewriteKey(req.key);
    if (key === req.key) {
      this.target.route(req, ctx, done);
      return;
    }
    if (key.length > MAX_KEY_LENGTH) {
      done(KEY_TOO_LONG);
      return;
    }
    this.target.route(req.withKey(key), ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    const key = this.rewriteKey(req.key);
    t.visit(this.target, key === req.key ? req : req.withKey(key));
  }
}

export interface ModifyKeyRouteOptions {
  target: unknown;
  set_routing_prefix?: string;
  ensure_key_prefix: string;
  replace_key_prefix: string;
  set_key_suffix: string;
  modify_inplace: boolean;
}

export const modifyKeyRouteFactory = defineRoute<ModifyKeyRouteOptions>({
  type: 'ModifyKeyRoute',
  description: 'Rewrites the key (routing prefix, key prefix, suffix) and sends the request to target.',
  schema: {
    type: 'object',
    properties: {
      target: routeNodeSchema('Where the rewritten request goes.'),
      set_routing_prefix: { type: 'string', description: 'Replace the key\'s /region/cluster/ routing prefix with this one ("" removes it).' },
      ensure_key_prefix: { type: 'string', default: '', description: 'Prefix the key (after the routing prefix) with this unless it already starts with it.' },
      replace_key_prefix: { type: 'string', default: '', description: 'With ensure_key_prefix: a key starting with this string gets it replaced by ensure_key_prefix.' },
      set_key_suffix: { type: 'string', default: '', description: 'Append this to the key unless it already ends with it.' },
      modify_inplace: { type: 'boolean', default: false, description: 'mcrouter memory optimisation; accepted, no effect.' },
    },
    required: ['target'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ target: rest }),
  create(o, b, path) {
    if (o.set_routing_prefix !== undefined && o.set_routing_prefix !== '' && !isValidRoutingPrefix(o.set_routing_prefix)) {
      b.fail(`${path}/set_routing_prefix`, `ModifyKeyRoute: "${o.set_routing_prefix}" is not a routing prefix (expected /region/cluster/ or "")`);
    }
    if (o.replace_key_prefix !== '' && o.ensure_key_prefix === '') {
      b.fail(`${path}/replace_key_prefix`, 'ModifyKeyRoute: replace_key_prefix needs ensure_key_prefix');
    }
    const target = b.route(o.target, `${path}/target`);
    return new ModifyKeyRoute(target, {
      setRoutingPrefix: o.set_routing_prefix ?? null,
      ensureKeyPrefix: o.ensure_key_prefix,
      replaceKeyPrefix: o.replace_key_prefix,
      setKeySuffix: o.set_key_suffix,
    });
  },
});
