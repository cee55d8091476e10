/**
 * A config read from an etcd v3 key and watched there (`--config etcd://HOST:PORT/KEY`).
 *
 * What it does, in order:
 *   1. read the key, then every key its `@import`s name (relative to the config's key, etcd-url.ts),
 *      iterating until the JSONM preprocessor knows every import (loader.ts scanImports), so the load
 *      itself stays synchronous and does no I/O;
 *   2. watch each of those keys from the revision after that read, so no change falls in between (no
 *      polling);
 *   3. on a put or delete of any of them, update that key's value, fetch imports that became new, and hand
 *      the new snapshot to `onChange` (RouterCore reloads it exactly as a changed file: validate, build,
 *      swap, or reject with the JSON pointer and count `config_failures`). Events within COALESCE_MS are
 *      applied together.
 *
 * etcd going away never touches the data path: the active config keeps serving, the watches re-attach by
 * themselves with backoff capped at 2 s (etcd-client.ts) from the last revision each saw, and a read that
 * fails is retried with the same backoff. If the revision to resume from was compacted meanwhile, etcd
 * cancels the watch; then every key is read again and watched from the new read's revision.
 *
 * One instance per process; `close()` ends the client and every timer.
 */
import type { Etcd3, IRangeResponse, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { ConfigError } from '../config-error.js';
import { scanImports, type FetchedConfig } from '../config/loader.js';
import type { JsonmGlobalInputs } from '../config/jsonm.js';
import { createEtcdClient, reconnectDelayMs, type EtcdAuthOptions } from './etcd-client.js';
import { etcdName, resolveImportKey, type EtcdUrl } from './etcd-url.js';

/** Events closer together than this are applied as one change, ms (a transaction's puts, a script's). */
export const COALESCE_MS = 10;
/** Bounds on the import prefetch: rounds of scanImports, and distinct keys. */
const MAX_IMPORT_ROUNDS = 64;
const MAX_KEYS = 1000;
/** How long close() waits for etcd to confirm the watches' cancellation, ms. */
const CLOSE_WAIT_MS = 500;

export interface EtcdConfigSourceOptions {
  readonly url: EtcdUrl;
  readonly client: Etcd3;
  /** JSONM globals (import names may use macros and constants). */
  readonly globals: JsonmGlobalInputs;
  readonly log: Logger;
  /**
   * A new snapshot: the config or one of its imports changed in etcd, or etcd answered for the first time
   * after a start without it. Not called for the snapshot start() resolves with.
   */
  readonly onChange: (config: FetchedConfig, reason: string) => void;
  /** A plain value, not a config: its text is not scanned for `@import`s (the rollout record). */
  readonly plain?: boolean;
  /** The client is shared with others: close() leaves it open. */
  readonly shared?: boolean;
}

class Closed extends Error {}

function cmpRevision(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function nextRevision(r: string): string {
  return (BigInt(r) + 1n).toString();
}

export class EtcdConfigSource {
  /** The latest snapshot read from etcd; null until etcd first answers. */
  current: FetchedConfig | null = null;
  /** The etcd revision the snapshot is as of (the read's header revision, or the latest event applied). */
  revision: string | null = null;
  /** Whether the watches are attached (false from a disconnect until they re-attach). */
  connected = false;

  private values = new Map<string, string | null>();
  private readonly watchers = new Map<string, Watcher>();
  /** Serializes reads, settles and re-syncs: one runs at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private settleQueued = false;
  private resyncQueued = false;
  private settleTimer: NodeJS.Timeout | null = null;
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private disconnectedAt = 0;
  /** Keys changed by events not yet settled (for the reload's reason). */
  private readonly changed = new Set<string>();
  private closed = false;

  constructor(private readonly opts: EtcdConfigSourceOptions) {}

  /** `etcd://endpoints/key`. */
  get name(): string {
    return etcdName(this.opts.url);
  }

  /**
   * Read the config (and its imports) and start watching. Resolves with the snapshot, or with null when
   * etcd did not answer within `timeoutMs`: then it keeps trying in the background, and the first
   * snapshot it gets goes to `onChange`.
   */
  async start(timeoutMs: number): Promise<FetchedConfig | null> {
    const deadline = Date.now() + timeoutMs;
    const first = this.enqueue(() => this.resync(deadline));
    try {
      await first;
      return this.current;
    } catch (err) {
      if (err instanceof Closed) return null;
      this.opts.log.warn({ etcd: this.name, err: errText(err), timeoutMs }, 'etcd: no answer at start; retrying in the background');
      this.resyncQueued = true;
      void this.enqueue(async () => {
        this.resyncQueued = false;
        await this.resync(null);
        const c = this.current;
        if (c !== null) this.opts.onChange(c, `etcd answered (revision ${this.revision ?? '?'})`);
      }).catch(() => {});
      return null;
    }
  }

  /**
   * Stop watching and close the client. The watches are cancelled first (waiting at most CLOSE_WAIT_MS
   * for etcd to confirm): a watch left attached would keep re-dialling a closed client on its timer.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.sleeps.clear();
    const cancels = [...this.watchers.values()].map((w) => w.cancel().catch(() => {}));
    this.watchers.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(cancels), new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    if (this.opts.shared !== true) this.opts.client.close();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.closed ? Promise.reject(new Closed()) : task()));
    this.queue = run.catch(() => {});
    return run;
  }

  private snapshot(values: ReadonlyMap<string, string | null>): FetchedConfig {
    const key = this.opts.url.key;
    return {
      name: this.name,
      text: values.get(key) ?? null,
      resolveImport: (path) => resolveImportKey(key, path),
      imports: new Map(values),
    };
  }

  /** One read of `key`: its value (null when absent) and the store revision it was read at. */
  private async readKey(key: string): Promise<{ value: string | null; revision: string }> {
    const res: IRangeResponse = await this.opts.client.get(key).exec();
    const kv = res.kvs[0];
    return { value: kv === undefined ? null : kv.value.toString('utf8'), revision: res.header.revision };
  }

  /** `fn`, retried with capped backoff until it succeeds, the deadline passes (rethrows) or close(). */
  private async withRetry<T>(what: string, deadline: number | null, fn: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      if (this.closed) throw new Closed();
      try {
        const out = await fn();
        if (failures > 0) this.opts.log.info({ etcd: this.name, failures }, `etcd: ${what} succeeded after failures`);
        return out;
      } catch (err) {
        if (this.closed) throw new Closed();
        const wait = reconnectDelayMs(failures);
        if (deadline !== null && Date.now() + wait > deadline) throw err;
        if (failures === 0) this.opts.log.warn({ etcd: this.name, err: errText(err) }, `etcd: ${what} failed; still serving the current config, retrying (backoff up to 2 s)`);
        else this.opts.log.debug({ etcd: this.name, err: errText(err), failures }, `etcd: ${what} failed again`);
        await this.sleep(wait);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const s = { timer: setTimeout(() => {
        this.sleeps.delete(s);
        resolve();
      }, ms), wake: resolve };
      this.sleeps.add(s);
    });
  }

  /**
   * Fetch what `values` lacks for the config's imports, iterating until every import is known. Returns
   * the keys the config asks for and the lowest revision read (null when nothing was read).
   */
  private async fetchImports(values: Map<string, string | null>, deadline: number | null): Promise<{ asked: readonly string[]; revisions: Map<string, string> }> {
    const revisions = new Map<string, string>();
    let asked: readonly string[] = [];
    if (this.opts.plain === true) return { asked, revisions };
    for (let round = 0; round < MAX_IMPORT_ROUNDS; round++) {
      const scan = scanImports(this.snapshot(values), this.opts.globals);
      asked = scan.asked;
      const todo = scan.unfetched.filter((k) => !values.has(k));
      if (todo.length === 0 || values.size + todo.length > MAX_KEYS) break;
      const read = await this.withRetry('reading imports', deadline, () => Promise.all(todo.map((k) => this.readKey(k))));
      todo.forEach((k, i) => {
        const r = read[i];
        if (r === undefined) return;
        values.set(k, r.value);
        revisions.set(k, r.revision);
      });
    }
    return { asked, revisions };
  }

  /** Read every key afresh, then watch them all from after the read. */
  private async resync(deadline: number | null): Promise<void> {
    const key = this.opts.url.key;
    const main = await this.withRetry('reading the config key', deadline, () => this.readKey(key));
    const values = new Map<string, string | null>([[key, main.value]]);
    const { asked, revisions } = await this.fetchImports(values, deadline);
    let low = main.revision;
    for (const r of revisions.values()) if (cmpRevision(r, low) < 0) low = r;
    for (const k of [...values.keys()]) if (k !== key && !asked.includes(k)) values.delete(k);
    this.values = values;
    this.revision = main.revision;
    for (const w of this.watchers.values()) void w.cancel().catch(() => {});
    this.watchers.clear();
    for (const k of values.keys()) this.watch(k, nextRevision(low));
    this.current = this.snapshot(values);
  }

  /** After events: fetch imports that became new, watch the new keys, drop the old, publish. */
  private async settle(): Promise<void> {
    const key = this.opts.url.key;
    const values = new Map(this.values);
    const { asked, revisions } = await this.fetchImports(values, null);
    const wanted = new Set([key, ...asked]);
    for (const k of [...values.keys()]) if (!wanted.has(k)) values.delete(k);
    for (const [k, w] of this.watchers) {
      if (!wanted.has(k)) {
        void w.cancel().catch(() => {});
        this.watchers.delete(k);
      }
    }
    for (const [k, r] of revisions) if (!this.watchers.has(k)) this.watch(k, nextRevision(r));
    // Events that came in while imports were read are newer than what this settle saw: keep theirs.
    for (const [k, v] of this.values) if (values.has(k) && !revisions.has(k)) values.set(k, v);
    this.values = values;
    const next = this.snapshot(values);
    const before = this.current;
    const what = [...this.changed].join(', ');
    this.changed.clear();
    if (before !== null && sameSources(before, next, [key, ...asked])) return;
    this.current = next;
    this.opts.onChange(next, `etcd: ${what} (revision ${this.revision ?? '?'})`);
  }

  private watch(key: string, fromRevision: string): void {
    const w = this.opts.client.watch().key(key).startRevision(fromRevision).watcher();
    this.watchers.set(key, w);
    const mine = (): boolean => this.watchers.get(key) === w && !this.closed;
    w.on('put', (kv) => {
      if (mine()) this.onEvent(key, kv.value.toString('utf8'), kv.mod_revision);
    });
    w.on('delete', (kv) => {
      if (mine()) this.onEvent(key, null, kv.mod_revision);
    });
    let resumeFrom = fromRevision;
    w.on('connecting', () => {
      // Each attempt to re-attach (every backoff step while etcd is away) asks from the last revision seen.
      resumeFrom = String(w.lastRevision() ?? resumeFrom);
    });
    w.on('connected', () => {
      if (!mine() || this.connected) return;
      this.connected = true;
      if (this.disconnectedAt > 0) {
        this.opts.log.info({ etcd: this.name, key, fromRevision: resumeFrom, afterMs: Date.now() - this.disconnectedAt }, 'etcd: watch resumed from the last revision seen');
        this.disconnectedAt = 0;
      }
    });
    w.on('disconnected', (err) => {
      if (!mine()) return;
      // Once per outage: the watcher reports every failed attempt while etcd is away. An outage can begin
      // before the first watch stream was up (etcd gone right after the initial read); it counts too.
      const wasUp = this.connected;
      this.connected = false;
      if (!wasUp && this.disconnectedAt > 0) return;
      this.disconnectedAt = Date.now();
      this.opts.log.warn({ etcd: this.name, err: errText(err) }, 'etcd: watch disconnected; still serving the current config, reconnecting (backoff up to 2 s)');
    });
    w.on('error', (err) => {
      // etcd cancelled the watch: the revision to resume from was compacted (or the key range became
      // unwatchable). Read everything again and watch from there.
      if (!mine()) return;
      this.watchers.delete(key);
      this.opts.log.warn({ etcd: this.name, key, err: errText(err) }, 'etcd: watch cancelled by etcd (revision compacted?); reading the keys again');
      if (this.resyncQueued) return;
      this.resyncQueued = true;
      void this.enqueue(async () => {
        this.resyncQueued = false;
        const before = this.current;
        await this.resync(null);
        const c = this.current;
        if (c !== null && (before === null || !sameSources(before, c, [...this.values.keys()]))) this.opts.onChange(c, `etcd: re-read after a cancelled watch (revision ${this.revision ?? '?'})`);
      }).catch(() => {});
    });
  }

  private onEvent(key: string, value: string | null, modRevision: string): void {
    this.values.set(key, value);
    this.changed.add(`${value === null ? 'delete' : 'put'} ${key}`);
    if (this.revision === null || cmpRevision(modRevision, this.revision) > 0) this.revision = modRevision;
    if (this.settleTimer !== null || this.settleQueued) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      this.settleQueued = true;
      void this.enqueue(async () => {
        this.settleQueued = false;
        await this.settle();
      }).catch((err: unknown) => {
        if (!(err instanceof Closed)) this.opts.log.error({ etcd: this.name, err: errText(err) }, 'etcd: applying a change failed');
      });
    }, COALESCE_MS);
  }
}

/** True when `a` and `b` hold the same text for the config and each of `keys`. */
function sameSources(a: FetchedConfig, b: FetchedConfig, keys: readonly string[]): boolean {
  if (a.text !== b.text) return false;
  return keys.every((k) => a.imports.get(k) === b.imports.get(k));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Read an etcd config and its imports once, without watching (`--validate-config`). Throws ConfigError
 * (MCP_ERR_CONFIG_READ) when etcd does not answer within `timeoutMs`.
 */
export async function readEtcdConfigOnce(url: EtcdUrl, auth: EtcdAuthOptions, globals: JsonmGlobalInputs, log: Logger, timeoutMs: number): Promise<FetchedConfig> {
  const source = new EtcdConfigSource({ url, client: createEtcdClient(url, auth), globals, log, onChange: () => {} });
  try {
    const config = await source.start(timeoutMs);
    if (config === null) throw new ConfigError('', `cannot read config from ${source.name}: etcd did not answer within ${timeoutMs} ms`, 'MCP_ERR_CONFIG_READ');
    return config;
  } finally {
    await source.close();
  }
}
