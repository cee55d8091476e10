/**
 * AzAffinityRoute (mcrelay's own; mcrouter has no zone concept, memcached proxy's routelib has
 * `route_zfailover`, EVCache replicates to every zone and reads the local zone first): one route per
 * availability zone in `zones`, and this host's zone in `local_zone` (default: `--local-zone` or env
 * `MCRELAY_LOCAL_ZONE`).
 *
 * Reads (get-like ops) go to the local zone first. A hit is returned at once. On a miss or an error the
 * read goes to every other zone in parallel (one turn, so multi-get batching is kept); the first hit wins.
 * With no hit anywhere: a miss if any zone (local or remote) answered a miss, else the local zone's error.
 * So losing a whole zone, local or remote, fails no read that another zone can answer.
 * Writes, deletes, touch and arithmetic go to every zone at once and reply per `write_policy`:
 *   - `all` (default): wait for every zone, reply with the worst reply (AllSyncRoute);
 *   - `local`: reply with the local zone's reply; the other zones are background copies (AllInitialRoute,
 *     bounded by the route context, drops counted);
 *   - `majority`: reply once a result is seen in a majority of zones (AllMajorityRoute).
 * Other ops (version, stats, ...) go to the local zone only.
 *
 * Replies when everything fails: reads: the local error (or a miss, see above); writes: per write_policy.
 * Limits: with `write_policy: all`, a dead zone makes every write fail (until its destinations are TKO,
 * which fail fast); use `local` or `majority` to keep writes succeeding through a zone outage. There is no
 * repair of a zone that missed writes while it was down; reads fall through to other zones on its misses.
 * A remote hit is not copied back to the local zone (wrap zones in L1L2CacheRoute/WarmUpRoute for that).
 */
import { isError, isGetLike, isHit, isMiss, opGroup, type Reply, type Request } from '../protocol/types.js';
import { routeAllInitial } from './all-initial-route.js';
import { routeAllMajority } from './all-majority-route.js';
import { routeAllSync, traverseAll } from './all-sync-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export type WritePolicy = 'all' | 'local' | 'majority';

export class AzAffinityRoute implements RouteHandle {
  readonly type = 'AzAffinityRoute';
  readonly name: string;
  /** mcrelay's own route (no mcrouter counterpart), named in mcrouter's style. */
  readonly routeNames: readonly string[];
  /** Local zone first, then the others in config order. */
  private readonly all: readonly RouteHandle[];

  /**
   * @param local supplies the local zone's route
   * @param remote supplies every other zone's route
   */
  constructor(
    readonly localZone: string,
    private readonly local: RouteHandle,
    private readonly remote: readonly RouteHandle[],
    readonly writePolicy: WritePolicy,
  ) {
    this.all = [local, ...remote];
    this.name = `AzAffinityRoute|${localZone}`;
    this.routeNames = [`az-affinity|local_zone=${localZone}|write_policy=${writePolicy}`];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (isGetLike(req.op)) {
      this.routeRead(req, ctx, done);
      return;
    }
    const g = opGroup(req.op);
    if (g === 'other' || this.remote.length === 0) {
      this.local.route(req, ctx, done);
      return;
    }
    switch (this.writePolicy) {
      case 'all':
        routeAllSync(this.all, req, ctx, done);
        break;
      case 'local':
        routeAllInitial(this.all, req, ctx, done);
        break;
      case 'majority':
        routeAllMajority(this.all, req, ctx, done);
        break;
    }
  }

  private routeRead(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.local.route(req, ctx, (localReply) => {
      if (isHit(localReply) || this.remote.length === 0 || (!isMiss(localReply) && !isError(localReply))) {
        done(localReply);
        return;
      }
      let pending = this.remote.length;
      let finished = false;
      let miss: Reply | null = isMiss(localReply) ? localReply : null;
      for (const zone of this.remote) {
        zone.route(req, ctx, (r) => {
          pending--;
          if (finished) return;
          if (isHit(r)) {
            finished = true;
            done(r);
            return;
          }
          if (miss === null && isMiss(r)) miss = r;
          if (pending === 0) {
            finished = true;
            done(miss ?? localReply);
          }
        });
      }
    });
  }

  traverse(req: Request, t: Traversal): void {
    const g = opGroup(req.op);
    if (isGetLike(req.op) || g === 'other') t.visit(this.local, req);
    else traverseAll(this.all, req, t);
  }
}

export interface AzAffinityRouteOptions {
  local_zone?: string;
  zones: Record<string, unknown>;
  write_policy: WritePolicy;
}

export const azAffinityRouteFactory = defineRoute<AzAffinityRouteOptions>({
  type: 'AzAffinityRoute',
  description: 'Zone-aware replication: reads from the local zone, falling back to all other zones in parallel; writes to every zone.',
  schema: {
    type: 'object',
    properties: {
      local_zone: {
        type: 'string', minLength: 1,
        description: 'This host\'s zone, a key of `zones`. Default: --local-zone, else env MCRELAY_LOCAL_ZONE.',
      },
      zones: {
        type: 'object',
        minProperties: 1,
        description: 'Zone name → route holding that zone\'s copy of the data (e.g. "PoolRoute|cache-us-east-1a").',
        additionalProperties: routeNodeSchema('The route of one zone.'),
      },
      write_policy: {
        type: 'string', enum: ['all', 'local', 'majority'], default: 'all',
        description: 'When a write (set/add/.../delete/touch/incr/decr) replies: all = after every zone (worst reply), local = with the local zone\'s reply (others in background), majority = once most zones agree.',
      },
    },
    required: ['zones'],
    additionalProperties: false,
  },
  create(o, b, path) {
    const names = Object.keys(o.zones);
    const localZone = o.local_zone ?? b.options.localZone;
    if (localZone === null || localZone === undefined) {
      return b.fail(`${path}/local_zone`, 'AzAffinityRoute: no local zone; set local_zone, --local-zone or MCRELAY_LOCAL_ZONE');
    }
    if (!names.includes(localZone)) {
      const where = o.local_zone !== undefined ? `${path}/local_zone` : `${path}/zones`;
      return b.fail(where, `AzAffinityRoute: local zone "${localZone}" is not one of the zones (${names.join(', ')})`);
    }
    const built = new Map<string, RouteHandle>();
    for (const name of names) built.set(name, b.route(o.zones[name], `${path}/zones/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`));
    const remote = names.filter((n) => n !== localZone).map((n) => built.get(n) as RouteHandle);
    return new AzAffinityRoute(localZone, built.get(localZone) as RouteHandle, remote, o.write_policy);
  },
});
