/**
 * `--stats-root DIR`: the stats files mcrouter writes for its tooling (McrouterLogger), in its format and on its
 * schedule. The prefix is `libmcrouter.<service>.<router>`: standalone mcrouter's service is `mcrouter` and its
 * router name the first listen port (0 with --listen-sock-fd only).
 *
 * - `<prefix>.startup_options`: written once at start, a JSON object of every option (flag name → value as a
 *   string) plus `"pid"`; touched at every interval afterwards, so its mtime tells the process is alive.
 * - `<prefix>.stats`: every --stats-logging-interval (10 s), the ods stats group as a JSON object, each key
 *   prefixed `<prefix>.`, counters as integers and rate stats as per-second doubles, then a newline.
 * - `<prefix>.config_sources_info`: every interval, `{"config_file": …, "mcrouter_config": <md5>,
 *   "config_import": {<path>: <md5>}}` (an inline config has only its md5), with no newline at the end.
 *
 * JSON is pretty-printed with sorted keys (folly toPrettySortedJson: two-space indent); every file is written
 * to a temporary name and renamed into place, so a reader never sees half a file. If the directory cannot be
 * created the files are not written (logged once); a write that fails is logged at debug, as mcrouter does.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export interface StatsFilesOptions {
  readonly root: string;
  readonly intervalMs: number;
  /** `libmcrouter.mcrouter.<port>`. */
  readonly prefix: string;
  readonly startupOptions: () => Record<string, string>;
  /** The ods values (names without the prefix; may gather from other workers first), or null before the first config. */
  readonly stats: () => Promise<Record<string, number> | null>;
  /** config_sources_info, or null before the first config is loaded. */
  readonly configSources: () => Record<string, unknown> | null;
  readonly log: Logger;
}

/** folly's toPrettySortedJson: keys sorted at every level, two-space indent. */
export function prettySortedJson(v: unknown): string {
  return JSON.stringify(sortKeys(v), null, 2);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

export function md5Hex(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex');
}

export class StatsFiles {
  private timer: NodeJS.Timeout | null = null;
  private writing = false;

  constructor(private readonly opts: StatsFilesOptions) {}

  file(suffix: 'stats' | 'startup_options' | 'config_sources_info'): string {
    return path.join(this.opts.root, `${this.opts.prefix}.${suffix}`);
  }

  /** Create the directory, write startup_options and the first stats, then every interval. False: disabled. */
  start(): boolean {
    const o = this.opts;
    if (o.intervalMs <= 0) return false;
    try {
      fs.mkdirSync(o.root, { recursive: true });
      fs.accessSync(o.root, fs.constants.W_OK);
    } catch (err) {
      o.log.error({ err: err instanceof Error ? err.message : String(err), root: o.root }, `Can't create or chmod ${o.root}, disabling stats logging`);
      return false;
    }
    this.write('startup_options', `${prettySortedJson({ ...o.startupOptions(), pid: String(process.pid) })}\n`);
    // The first stats as soon as a config serves (mcrouter writes them at start), then every interval.
    const first = (): void => {
      void this.tick().then((wrote) => {
        if (!wrote && this.timer !== null) setTimeout(first, 100).unref();
      });
    };
    this.timer = setInterval(() => void this.tick(), o.intervalMs);
    this.timer.unref();
    first();
    return true;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One interval: stats, config sources, and the touch of startup_options. False: nothing to write yet. */
  async tick(): Promise<boolean> {
    if (this.writing) return true;
    this.writing = true;
    try {
      const o = this.opts;
      const values = await o.stats();
      if (values === null) return false;
      const prefixed: Record<string, number> = {};
      for (const [k, v] of Object.entries(values)) prefixed[`${o.prefix}.${k}`] = v;
      this.write('stats', `${prettySortedJson(prefixed)}\n`);
      const sources = o.configSources();
      if (sources !== null) this.write('config_sources_info', prettySortedJson(sources));
      const now = new Date();
      try {
        fs.utimesSync(this.file('startup_options'), now, now);
      } catch {
        // Deleted under us: the next start writes it again (mcrouter only touches it too).
      }
      return true;
    } finally {
      this.writing = false;
    }
  }

  private write(suffix: 'stats' | 'startup_options' | 'config_sources_info', text: string): void {
    const target = this.file(suffix);
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(this.opts.root, { recursive: true });
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, target);
    } catch (err) {
      this.opts.log.debug({ err: err instanceof Error ? err.message : String(err), file: target }, 'Failed to write stats to disk');
    }
  }
}
