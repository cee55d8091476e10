/**
 * ErrorRoute: answers every request itself with an error reply and sends nothing.
 *
 * The reply's result is `result` (mcrouter `mc_res_*` name, default `mc_res_local_error` → `local_error`)
 * and its message is `response`; the session renders it as `SERVER_ERROR <response>` (or the result's
 * default text when `response` is empty). It always "fails": that is its purpose.
 *
 * Ops: all. Shorthand: `"ErrorRoute|some message"` sets `response`.
 * Limits: `enable_logging` (mcrouter logs every request) only logs at debug level here, so that a
 * misrouted flood cannot fill the log at the default level.
 */
import { frozenReply, errorReply, type Reply, type Request, type Result } from '../protocol/types.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** mcrouter `mc_res_*` result names accepted by `result`, mapped to ours. */
export const MC_RES_NAMES: Readonly<Record<string, Result>> = Object.freeze({
  mc_res_found: 'found',
  mc_res_notfound: 'notfound',
  mc_res_stored: 'stored',
  mc_res_notstored: 'notstored',
  mc_res_exists: 'exists',
  mc_res_deleted: 'deleted',
  mc_res_touched: 'touched',
  mc_res_ok: 'ok',
  mc_res_timeout: 'timeout',
  mc_res_connect_error: 'connect_error',
  mc_res_connect_timeout: 'connect_timeout',
  mc_res_tko: 'tko',
  mc_res_busy: 'busy',
  mc_res_try_again: 'try_again',
  mc_res_shutdown: 'shutdown',
  mc_res_remote_error: 'remote_error',
  mc_res_local_error: 'local_error',
  mc_res_client_error: 'client_error',
  mc_res_bad_key: 'bad_key',
  mc_res_permission_denied: 'permission_denied',
  mc_res_deadline_exceeded: 'deadline_exceeded',
});

/** Our result → mcrouter's `mc_res_*` name (carbon::resultToString). */
const RESULT_MC_RES: ReadonlyMap<Result, string> = new Map(Object.entries(MC_RES_NAMES).map(([mc, r]) => [r, mc]));

export interface ErrorRouteOptions {
  response: string;
  result: string;
  enable_logging: boolean;
}

export class ErrorRoute implements RouteHandle {
  readonly type = 'ErrorRoute';
  readonly name: string;
  /** mcrouter's `error|log|mc_res_local_error|<message>` (`no-log` without enable_logging; no message, no last part). */
  readonly routeNames: readonly string[];
  private readonly reply: Reply;

  /**
   * @param message supplies the reply text ('' → the result's default text)
   * @param result supplies the result code of every reply (default `local_error`)
   * @param enableLogging supplies enable_logging (default true, as mcrouter's ErrorRoute)
   */
  constructor(
    message: string,
    result: Result = 'local_error',
    private readonly enableLogging: boolean = true,
  ) {
    this.reply = frozenReply(errorReply(result, message === '' ? null : message));
    this.name = message === '' ? 'ErrorRoute' : `ErrorRoute|${message}`;
    const base = `error|${enableLogging ? 'log' : 'no-log'}|${RESULT_MC_RES.get(result) ?? `mc_res_${result}`}`;
    this.routeNames = [message === '' ? base : `${base}|${message}`];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (this.enableLogging && ctx.log.isLevelEnabled('debug')) {
      ctx.log.debug({ route: this.name, op: req.op, key: req.keyString() }, 'ErrorRoute reply');
    }
    done(this.reply);
  }

  traverse(_req: Request, _t: Traversal): void {
    // A leaf with no destinations.
  }
}

export const errorRouteFactory = defineRoute<ErrorRouteOptions>({
  type: 'ErrorRoute',
  description: 'Replies immediately with an error (default SERVER_ERROR local error); sends nothing.',
  schema: {
    type: 'object',
    properties: {
      response: { type: 'string', default: '', description: 'Error message sent to the client (SERVER_ERROR <response>).' },
      result: {
        type: 'string',
        enum: Object.keys(MC_RES_NAMES),
        default: 'mc_res_local_error',
        description: 'mcrouter result name of the reply.',
      },
      enable_logging: { type: 'boolean', default: true, description: 'Log each request at debug level.' },
    },
    additionalProperties: false,
  },
  fromString: (rest) => ({ response: rest }),
  create: (o) => new ErrorRoute(o.response, MC_RES_NAMES[o.result] ?? 'local_error', o.enable_logging),
});
