/**
 * `fetch`: read-through with thundering-herd protection across every process that shares the cache,
 * built on memcached's own meta flags rather than on a lock of ours:
 *
 *   mg <key> v f c t N<lock> [R<recache>]
 *
 * - On a miss, `N` makes memcached create an empty placeholder (living `lock` seconds) and hand the caller
 *   the win flag `W`; every other caller, on any host, gets the placeholder with `Z` (a win was already
 *   given). The winner runs the loader and stores the value with `ms`; the others re-read after a short
 *   wait (5 ms, doubling to 50 ms) until the value is there, or until `lock` has passed (a winner that
 *   died), when they load it themselves.
 * - With `R`, when a value has fewer than `recache` seconds left, one caller wins and reloads it early,
 *   while everyone else keeps getting the current value: no caller waits for a refresh.
 * - `staleSeconds` keeps a value `staleSeconds` past its ttl (it is stored with ttl + staleSeconds, and
 *   `R` counts those seconds in), so after the ttl one caller refreshes it and the others get the stale
 *   value meanwhile.
 *
 * Within one process there is at most one fetch per key at a time: concurrent callers share its promise.
 */
import type { Reply } from '../protocol/types.js';
import { McrelayError } from './mcrelay-error.js';

/** Options of `fetch`. */
export interface FetchOptions {
  /** Seconds the loaded value is fresh (memcached exptime; 0 = never expires). */
  ttl: number;
  /**
   * Refresh early: when the value has fewer than this many seconds left, one caller in the fleet reloads
   * it while the others keep getting the current value. Default 0 (no early refresh).
   */
  recacheSeconds?: number;
  /**
   * Serve the value this many seconds past `ttl` while one caller reloads it (stale-while-revalidate).
   * Default 0.
   */
  staleSeconds?: number;
  /**
   * How long the caller that won a miss has to store the value, seconds: the placeholder's lifetime, and
   * the longest the other callers wait before loading it themselves. Default 10.
   */
  lockSeconds?: number;
}

/** What read-through needs of the router. */
export interface MetaCaller {
  meta(command: 'mg' | 'ms' | 'md', key: Buffer, flags: readonly string[], value?: Buffer): Promise<{ status: string; flags: Record<string, string>; value?: Buffer }>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function seconds(n: number | undefined, what: string, dflt: number): number {
  if (n === undefined) return dflt;
  if (!Number.isFinite(n) || n < 0) throw new McrelayError('CLIENT_ERROR', `CLIENT_ERROR fetch: bad ${what}`);
  return Math.floor(n);
}

export class ReadThrough {
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(private readonly router: MetaCaller) {}

  fetch(key: string | Buffer, loader: () => Promise<Buffer | string> | Buffer | string, opts: FetchOptions): Promise<Buffer> {
    const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    const id = k.toString('latin1');
    const running = this.inflight.get(id);
    if (running !== undefined) return running;
    const p = this.run(k, loader, opts).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  private async load(loader: () => Promise<Buffer | string> | Buffer | string): Promise<Buffer> {
    const v = await loader();
    return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  }

  private async run(k: Buffer, loader: () => Promise<Buffer | string> | Buffer | string, opts: FetchOptions): Promise<Buffer> {
    const ttl = seconds(opts?.ttl, 'ttl', 0);
    const stale = seconds(opts.staleSeconds, 'staleSeconds', 0);
    const recache = seconds(opts.recacheSeconds, 'recacheSeconds', 0);
    const lock = Math.max(1, seconds(opts.lockSeconds, 'lockSeconds', 10));
    const storeTtl = ttl === 0 ? 0 : ttl + stale;
    const flags = ['v', 'c', 't', `N${lock}`];
    if (ttl > 0 && stale + recache > 0) flags.push(`R${stale + recache}`);
    const giveUpAt = Date.now() + lock * 1000;
    let wait = 5;
    for (;;) {
      const r = await this.router.meta('mg', k, flags);
      if (r.status === 'EN') {
        // No placeholder (a route that answered the miss itself): load, and store without the herd guard.
        const v = await this.load(loader);
        await this.store(k, v, storeTtl);
        return v;
      }
      const value = r.value ?? Buffer.alloc(0);
      if ('W' in r.flags) {
        let v: Buffer;
        try {
          v = await this.load(loader);
        } catch (err) {
          // Let the next caller try at once instead of waiting out the placeholder.
          if (value.length === 0 && r.flags['c'] !== undefined) await this.router.meta('md', k, [`C${r.flags['c']}`]).catch(() => undefined);
          throw err;
        }
        await this.store(k, v, storeTtl);
        return v;
      }
      // Another caller is loading. A value (recache or stale window) is served as it is; the empty
      // placeholder means "not there yet".
      if (value.length > 0 || !('Z' in r.flags)) return value;
      if (Date.now() >= giveUpAt) {
        const v = await this.load(loader);
        await this.store(k, v, storeTtl);
        return v;
      }
      await sleep(wait);
      wait = Math.min(50, wait * 2);
    }
  }

  private async store(k: Buffer, v: Buffer, ttl: number): Promise<void> {
    await this.router.meta('ms', k, [`T${ttl}`], v);
  }
}

export type { Reply };
