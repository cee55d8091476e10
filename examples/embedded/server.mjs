#!/usr/bin/env node
// A small HTTP service with mcrelay's router embedded in the process (no sidecar).
//
//   GET /user/:id   the user, read through memcached with router.fetch(); a miss costs one 50 ms "database" call
//   GET /stats      how often this process called the database, and the router's own counters
//   GET /healthz    200
//
// The router's config is mcrelay.json beside this file; its servers' port 11211 is replaced by MEMCACHED_PORT
// when that is set. HTTP listens on 127.0.0.1:PORT (default 8080). SIGHUP re-reads mcrelay.json and reloads the
// router; SIGINT/SIGTERM stop accepting, let in-flight requests finish, then close the router.
//
// Run: memcached -p 11211 &  npm run build  (at the repository root)  node examples/embedded/server.mjs
import fs from 'node:fs';
import http from 'node:http';
import { createRouter, McrelayError } from '../../dist/index.js';

const HTTP_PORT = Number(process.env.PORT ?? 8080);
const MEMCACHED_PORT = process.env.MEMCACHED_PORT;
const CONFIG_FILE = new URL('./mcrelay.json', import.meta.url);

/** mcrelay.json as an object, with the placeholder port 11211 swapped for MEMCACHED_PORT if it is set. */
function loadConfig() {
  const config = JSON.parse(fs.readFileSync(CONFIG_FILE, 'utf8'));
  if (MEMCACHED_PORT !== undefined) {
    for (const pool of Object.values(config.pools)) {
      pool.servers = pool.servers.map((s) => s.replace(/:11211$/, `:${MEMCACHED_PORT}`));
    }
  }
  return config;
}

// ------------------------------------------------------------------ the slow "database"
let dbCalls = 0;

/** Pretends to be a database: 50 ms per lookup. Returns the row as JSON bytes. */
async function loadFromSlowDb(id) {
  dbCalls++;
  await new Promise((r) => setTimeout(r, 50));
  const row = { id, name: `user ${id}`, loadedAt: new Date().toISOString(), loadedBy: process.pid };
  return Buffer.from(JSON.stringify(row));
}

// ------------------------------------------------------------------ HTTP
const router = await createRouter({ config: loadConfig(), serverTimeoutMs: 1000 });

function send(res, status, body, headers = {}) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length, ...headers });
  res.end(bytes);
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET') return send(res, 405, { error: 'GET only' });

  const user = /^\/user\/(\d{1,12})$/.exec(url.pathname);
  if (user) {
    const id = user[1];
    const started = process.hrtime.bigint();
    try {
      // Read-through: a hit returns the cached bytes; on a miss exactly one caller runs the loader and stores
      // the result for 60 s; in the last 30 s of that one caller refreshes it early while the rest keep
      // getting the cached value; after the 60 s the value is kept 10 s more, served stale while one caller reloads.
      const value = await router.fetch(`user:${id}`, () => loadFromSlowDb(id), { ttl: 60, recacheSeconds: 30, staleSeconds: 10 });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return send(res, 200, value, { 'x-fetch-ms': ms.toFixed(1) });
    } catch (err) {
      // The cache is unreachable or timed out: answer from the database rather than fail the request.
      if (err instanceof McrelayError) return send(res, 200, await loadFromSlowDb(id), { 'x-cache': 'bypass' });
      throw err;
    }
  }
  if (url.pathname === '/stats') return send(res, 200, { dbCalls, router: toJson(router.stats()) });
  if (url.pathname === '/healthz') return send(res, 200, { ok: true });
  return send(res, 404, { error: 'try GET /user/42' });
}

/** Router stats as plain JSON (bigints as strings, Maps as objects). */
function toJson(v) {
  return JSON.parse(JSON.stringify(v ?? null, (_k, x) => (typeof x === 'bigint' ? String(x) : x instanceof Map ? Object.fromEntries(x) : x)));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) send(res, 500, { error: String(err?.message ?? err) });
    else res.destroy();
  });
});
server.listen(HTTP_PORT, '127.0.0.1', () => {
  const servers = Object.values(loadConfig().pools).flatMap((p) => p.servers).join(', ');
  console.log(`listening on http://127.0.0.1:${HTTP_PORT}/user/42  (memcached: ${servers})`);
});

process.on('SIGHUP', () => {
  Promise.resolve()
    .then(() => router.reload(loadConfig()))
    .then(
      (ok) => console.log(ok === false ? 'config rejected, old config kept' : 'config reloaded'),
      (err) => console.error(`reload failed, old config kept: ${err?.message ?? err}`),
    );
});

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: draining`);
  await new Promise((r) => server.close(r));
  await router.close({ drainMs: 2000 });
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
