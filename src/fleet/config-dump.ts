/**
 * Config dumps (mcrouter's `--config-dump-root` and `--max-dumped-config-age`): after every successful
 * load, the sources of the config that now serves (its text and the text of every import) are saved under
 * the dump root; a start that cannot read its config source (etcd unreachable, the key or file missing)
 * loads the saved copy instead when it is younger than the max age, says so at warn, and switches back to
 * the source when it answers. Used for file configs as for etcd ones; inline configs are never dumped.
 *
 * Layout: one JSON file per config source, `DIR/<source, made file-safe>-<md5 prefix of it>.json`:
 *
 *   {"format": 1, "source": "etcd:/mcrelay/config", "name": "etcd://127.0.0.1:2379/mcrelay/config",
 *    "kind": "etcd", "key": "/mcrelay/config", "saved_at": 1767225600000, "md5": "…", "text": "…",
 *    "imports": {"/mcrelay/pools.json": "…", "/mcrelay/optional": null}}
 *
 * A write goes to a temp file renamed over the dump, so a crash never leaves half a dump; writes are
 * asynchronous (off the reload's critical work) and coalesced, the newest config winning.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ConfigSource, FetchedConfig } from '../config/loader.js';
import { resolveImportKey } from './etcd-url.js';

/** Where a config comes from: a file (imports relative to its directory) or an etcd key (relative to the key). */
export type DumpOrigin = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'etcd'; readonly key: string; readonly name: string };

export interface DumpedConfig {
  /** The config as saved, ready for loadConfigSource({ fetched }). */
  readonly fetched: FetchedConfig;
  readonly savedAt: number;
  readonly md5: string;
  /** The dump file it was read from. */
  readonly file: string;
}

interface DumpRecord {
  format: 1;
  source: string;
  name: string;
  kind: 'file' | 'etcd';
  key: string | null;
  saved_at: number;
  md5: string;
  text: string;
  imports: Record<string, string | null>;
}

/** The one id a config source is dumped under: `file:/abs/path` or `etcd:/key` (endpoints may change). */
export function dumpSourceId(origin: DumpOrigin): string {
  return origin.kind === 'file' ? `file:${origin.path}` : `etcd:${origin.key}`;
}

export class ConfigDump {
  private writing: Promise<void> | null = null;
  private next: { file: string; body: string } | null = null;
  /** Dumps written, and writes that failed (logged at warn). */
  written = 0;
  failures = 0;

  constructor(
    readonly root: string,
    private readonly log: Logger,
  ) {}

  /** The dump file of a source. */
  fileFor(origin: DumpOrigin): string {
    const id = dumpSourceId(origin);
    const safe = id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(-80);
    return join(resolve(this.root), `${safe}-${createHash('md5').update(id).digest('hex').slice(0, 8)}.json`);
  }

  /** Save the sources of a config that loaded (asynchronously; see the module comment). */
  save(origin: DumpOrigin, source: ConfigSource, now: number = Date.now()): void {
    const imports: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
    for (const [k, v] of source.importSources) imports[k] = v;
    const record: DumpRecord = {
      format: 1,
      source: dumpSourceId(origin),
      name: origin.kind === 'file' ? origin.path : origin.name,
      kind: origin.kind,
      key: origin.kind === 'etcd' ? origin.key : null,
      saved_at: now,
      md5: source.md5,
      text: source.text,
      imports,
    };
    this.next = { file: this.fileFor(origin), body: `${JSON.stringify(record)}\n` };
    if (this.writing === null) this.writing = this.drain();
  }

  /** Resolves when every save so far is on disk (or failed). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async drain(): Promise<void> {
    for (let job = this.next; job !== null; job = this.next) {
      this.next = null;
      const tmp = `${job.file}.tmp-${process.pid}`;
      try {
        await mkdir(dirname(job.file), { recursive: true });
        await writeFile(tmp, job.body, { mode: 0o600 });
        await rename(tmp, job.file);
        this.written++;
      } catch (err) {
        this.failures++;
        this.log.warn({ file: job.file, err: err instanceof Error ? err.message : String(err) }, 'config dump: could not save the config');
      }
    }
    this.writing = null;
  }

  /**
   * The saved copy of a source, when there is one younger than `maxAgeMs`; else null, and why (for the
   * log line of a start that has nothing to serve).
   */
  load(origin: DumpOrigin, maxAgeMs: number, now: number = Date.now()): { dump: DumpedConfig | null; why: string } {
    const file = this.fileFor(origin);
    let record: DumpRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as DumpRecord;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { dump: null, why: code === 'ENOENT' ? `no config dump at ${file}` : `config dump ${file} unreadable: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (record.format !== 1 || record.source !== dumpSourceId(origin) || typeof record.text !== 'string' || typeof record.saved_at !== 'number') {
      return { dump: null, why: `config dump ${file} is not a dump of ${dumpSourceId(origin)}` };
    }
    const ageMs = now - record.saved_at;
    if (ageMs > maxAgeMs) return { dump: null, why: `config dump ${file} is ${Math.round(ageMs / 1000)} s old (max ${Math.round(maxAgeMs / 1000)} s)` };
    const key = record.key;
    const base = dirname(record.name);
    const imports = new Map<string, string | null>(Object.entries(record.imports ?? {}));
    const fetched: FetchedConfig = {
      name: record.name,
      text: record.text,
      resolveImport: origin.kind === 'etcd' && key !== null ? (p) => resolveImportKey(key, p) : (p) => resolve(base, p),
      imports,
    };
    return { dump: { fetched, savedAt: record.saved_at, md5: record.md5, file }, why: '' };
  }
}
