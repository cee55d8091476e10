/**
 * The admin HTTP listener (`--admin-port`, loopback unless `--admin-address`):
 *
 *   GET  /            live status page (status-page.ts; no build step, no external assets)
 *   GET  /metrics     Prometheus text (admin/metrics.ts)
 *   GET  /healthz     200 once a config is active, else 503
 *   GET  /config      active config (secret-looking fields redacted) and its md5
 *   GET  /route?op=get&key=K   the route tree walked with Traversal: handles, destinations and their TKO state
 *   GET  /stats       JSON snapshot (what the status page draws)
 *   GET  /hot-keys    hot keys overall and per destination (?k=N)
 *   GET  /tap?prefix=P&limit=N&sample=S&values=1   NDJSON stream of live requests/replies
 *   GET  /log-level   current level; POST/PUT /log-level?level=debug changes it at runtime
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { setLogLevel } from '../log.js';
import { LatencyHistogram } from '../metrics/latency-histogram.js';
import { createMetrics } from './metrics.js';
import { ALL_RESULTS, isRoutableOp, opIndicesWhere, OPS, Request } from '../protocol/types.js';
import { Traversal } from '../routes/route-handle.js';
import type { Observability } from '../observe/observer.js';
import type { RouterCore } from '../router/router-core.js';
import { ProxyStats } from '../router/router-stats.js';
import { STATUS_PAGE_HTML } from './status-page.js';
import type { TapListener } from '../observe/tap.js';

const SECRET_KEY = /pass(word|wd)?|secret|token|credential|private|api_?key|auth/i;
export const REDACTED = '[redacted]';

/** A deep copy of `v` with the values of secret-looking fields replaced. */
export function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(x);
    return out;
  }
  return v;
}

/** Walk the active tree for `op key` (sends nothing). */
export function traverseRoute(core: RouterCore, op: string, key: string): Traversal {
  if (!isRoutableOp(op)) throw new Error(`unknown operation: ${op}`);
  const req = Request.synthesize(op, Buffer.from(key, 'utf8'), `${op} `, '', null, 0);
  const t = new Traversal();
  t.visit(core.root, req);
  return t;
}

const RESULT_STRIDE = ALL_RESULTS.length;
const FOUND = ALL_RESULTS.indexOf('found');
const NOTFOUND = ALL_RESULTS.indexOf('notfound');
/** The get ops whose hits and misses the status page charts (the ones duration_get_us averages over). */
const CHARTED_GET_OPS = opIndicesWhere((o) => o.durationStat === 'get');

interface HistorySample {
  t: number;
  requests: number;
  hits: number;
  misses: number;
  errors: number;
  p50Us: number;
  p99Us: number;
}

/** Once a second: traffic and interval latency, last 120 s, for the status page's charts. */
class History {
  readonly samples: HistorySample[] = [];
  private last = new LatencyHistogram();
  private lastRequests = 0;
  private lastHits = 0;
  private lastMisses = 0;
  private lastErrors = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly core: RouterCore) {
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  sample(): void {
    const s = this.core.stats;
    const now = new LatencyHistogram();
    for (const h of s.latency) now.addFrom(h);
    const interval = new LatencyHistogram();
    for (let i = 0; i < now.counts.length; i++) interval.counts[i] = (now.counts[i] as number) - (this.last.counts[i] as number);
    interval.count = now.count - this.last.count;
    this.last = now;
    let hits = 0;
    let misses = 0;
    // Hits and misses of get-like ops from the op × result table.
    for (const i of CHARTED_GET_OPS) {
      hits += s.byOpResult[i * RESULT_STRIDE + FOUND] as number;
      misses += s.byOpResult[i * RESULT_STRIDE + NOTFOUND] as number;
    }
    const requests = s.requestSuccess + s.requestErrors;
    this.samples.push({
      t: Date.now(),
      requests: requests - this.lastRequests,
      hits: hits - this.lastHits,
      misses: misses - this.lastMisses,
      errors: s.requestErrors - this.lastErrors,
      p50Us: Math.round(interval.percentileUs(0.5)),
      p99Us: Math.round(interval.percentileUs(0.99)),
    });
    this.lastRequests = requests;
    this.lastHits = hits;
    this.lastMisses = misses;
    this.lastErrors = s.requestErrors;
    if (this.samples.length > 120) this.samples.shift();
  }

  close(): void {
    clearInterval(this.timer);
  }
}


/** The JSON behind /stats and the status page. */
export function statsJson(core: RouterCore, obs: Observability, history: readonly HistorySample[]): Record<string, unknown> {
  const s = core.stats;
  const ops: Record<string, unknown> = {};
  for (let i = 0; i < OPS.length; i++) {
    const h = s.latency[i] as LatencyHistogram;
    if (h.count === 0) continue;
    ops[ProxyStats.opName(i)] = {
      count: h.count,
      avg_us: Math.round((h.sumMs * 1000) / h.count),
      p50_us: Math.round(h.percentileUs(0.5)),
      p95_us: Math.round(h.percentileUs(0.95)),
      p99_us: Math.round(h.percentileUs(0.99)),
      p999_us: Math.round(h.percentileUs(0.999)),
    };
  }
  const pools: Record<string, string[]> = {};
  for (const [name, pool] of core.active.built.pools) pools[name] = pool.servers.map((x) => x.address);
  const destinations = obs.liveDestinations().map((ds) => {
    const d = ds.destination;
    return {
      address: d.address,
      pool: ds.pool,
      state: d.state(),
      tko: d.isTko(),
      inflight: d.inflightCount(),
      pending: d.pendingCount(),
      sent: d.sent,
      replied: d.replied,
      errors: d.errors,
      timeouts: d.timeouts,
      avg_latency_us: d.replied === 0 ? 0 : Math.round(d.latencySumUs / d.replied),
      p99_latency_us: Math.round(ds.latency.percentileUs(0.99)),
      connections_opened: d.connectionsOpened,
      connections_closed: d.connectionsClosed,
      connection_resets: d.connectionResets,
    };
  });
  const prefixes =
    obs.prefixStats === null
      ? null
      : obs.prefixStats.all().map((r) => ({
          prefix: r.prefix,
          requests: r.requests,
          hits: r.hits,
          misses: r.misses,
          hit_rate: r.hits + r.misses === 0 ? null : r.hits / (r.hits + r.misses),
          bytes_in: r.bytesIn,
          bytes_out: r.bytesOut,
        }));
  const r = core.routeStats;
  return {
    version: core.versionString,
    pid: process.pid,
    uptime: s.uptimeSeconds(),
    config: {
      generation: core.active.generation,
      md5: core.active.source.md5,
      file: core.active.source.sourcePath,
      age: Math.floor((Date.now() - core.active.loadedAt) / 1000),
      failures: s.configFailures,
      events: obs.configEvents,
    },
    clients: { connections: s.numClientConnections, total: s.totalClientConnections },
    requests: { success: s.requestSuccess, errors: s.requestErrors },
    ops,
    pools,
    destinations,
    prefixes,
    hot_keys: obs.hotKeys === null ? null : obs.hotKeys.report(10),
    hot_key_cache: obs.cache === null ? null : { entries: obs.cache.size, hits: obs.cache.hits, fills: obs.cache.fills, invalidations: obs.cache.invalidations },
    routes: { failover_all: r.failoverAll, failover_all_failed: r.failoverAllFailed, shadow_sent: r.shadowSent, shadow_dropped: r.shadowDropped, spooled_deletes: r.spooledDeletes },
    history,
  };
}

export interface AdminHttp {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`);
}

export async function startAdminHttp(core: RouterCore, obs: Observability, rootLog: Logger, port: number, host: string): Promise<AdminHttp> {
  const log = rootLog.child({ subsystem: 'admin' });
  const registry = createMetrics(core, obs);
  const history = new History(core);
  const sockets = new Set<import('node:net').Socket>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const isGet = method === 'GET' || method === 'HEAD';
    if (!isGet && url.pathname !== '/log-level') {
      json(res, 405, { error: `method ${method} not allowed` });
      return;
    }
    switch (url.pathname) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
        return;
      case '/metrics':
        send(res, 200, registry.contentType, await registry.metrics());
        return;
      case '/healthz': {
        const active = (core as { active?: unknown }).active !== undefined;
        json(res, active ? 200 : 503, active ? { status: 'ok', generation: core.active.generation } : { status: 'starting' });
        return;
      }
      case '/config':
        json(res, 200, {
          md5: core.active.source.md5,
          file: core.active.source.sourcePath,
          generation: core.active.generation,
          loaded_at: new Date(core.active.loadedAt).toISOString(),
          config: redact(core.active.source.data),
        });
        return;
      case '/route': {
        const op = q.get('op') ?? 'get';
        const key = q.get('key');
        if (key === null) {
          json(res, 400, { error: 'route: key is required (/route?op=get&key=K)' });
          return;
        }
        let t: Traversal;
        try {
          t = traverseRoute(core, op, key);
        } catch (err) {
          json(res, 400, { error: err instanceof Error ? err.message : String(err) });
          return;
        }
        const byAddr = new Map(core.destinations.all().map((d) => [d.address, d]));
        json(res, 200, {
          op,
          key,
          handles: t.nodes,
          destinations: t.destinations.map((address) => {
            const d = byAddr.get(address);
            return { address, state: d?.state() ?? 'unknown', tko: d?.isTko() ?? false, tko_reason: d?.tko.reason ?? '' };
          }),
        });
        return;
      }
      case '/stats':
        json(res, 200, statsJson(core, obs, history.samples));
        return;
      case '/hot-keys': {
        if (obs.hotKeys === null) {
          json(res, 404, { error: 'hot-key tracking is off (--no-hot-keys)' });
          return;
        }
        const k = Math.max(1, Math.min(1000, Number(q.get('k') ?? 20) || 20));
        json(res, 200, obs.hotKeys.report(k));
        return;
      }
      case '/tap': {
        const limit = Math.max(1, Math.min(100_000, Number(q.get('limit') ?? 100) || 100));
        const sample = Math.max(1, Number(q.get('sample') ?? 1) || 1);
        const wantValues = q.get('values') === '1';
        if (wantValues && !core.options.tapAllowValues) {
          json(res, 403, { error: 'tap: values need --tap-allow-values' });
          return;
        }
        const prefix = q.get('prefix');
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        res.flushHeaders();
        const l: TapListener = {
          prefix: prefix === null || prefix === '' ? null : Buffer.from(prefix, 'utf8'),
          remaining: limit,
          sample,
          values: wantValues,
          seen: 0,
          write: (line) => {
            res.write(line);
          },
          end: () => res.end(),
        };
        obs.tap.add(l);
        res.on('close', () => obs.tap.remove(l));
        return;
      }
      case '/log-level': {
        if (isGet) {
          json(res, 200, { level: rootLog.level });
          return;
        }
        let level = q.get('level');
        if (level === null) {
          let body = '';
          for await (const chunk of req) body += String(chunk);
          level = body.trim();
          if (level.startsWith('{')) level = String((JSON.parse(level) as { level?: unknown }).level ?? '');
        }
        try {
          const from = rootLog.level;
          setLogLevel(rootLog, level);
          log.info({ from, to: level }, 'log level changed');
          json(res, 200, { level: rootLog.level });
        } catch (err) {
          json(res, 400, { error: err instanceof Error ? err.message : String(err) });
        }
        return;
      }
      default:
        json(res, 404, { error: `no such endpoint: ${url.pathname}` });
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'admin request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ address: host, port: bound }, 'admin listener started');
  return {
    port: bound,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        history.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
