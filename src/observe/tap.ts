/**
 * Traffic tap (what mcrouter's mcpiper gives): live requests and replies streamed as NDJSON to whoever
 * listens on `/tap`. With no listener, `active` is false and the observer skips the tap after one boolean
 * read; nothing is formatted, sampled or buffered.
 *
 * Each line: {"ts":…, "op":"get", "key":"user:1", "result":"found", "reqBytes":0, "replyBytes":42, "latencyUs":88}
 * plus `"value"` (latin1 text of the reply's or request's data) only when the listener asked `values=1`.
 */
import type { Reply, Request } from '../protocol/types.js';

export interface TapListener {
  readonly prefix: Buffer | null;
  /** Records still to send; the listener ends at 0. */
  remaining: number;
  /** Take 1 in `sample` matching records. */
  readonly sample: number;
  readonly values: boolean;
  seen: number;
  write(line: string): void;
  end(): void;
}

export class Tap {
  /** True while anyone listens: the one check the request path makes. */
  active = false;
  private readonly listeners = new Set<TapListener>();

  add(l: TapListener): void {
    this.listeners.add(l);
    this.active = true;
  }

  remove(l: TapListener): void {
    this.listeners.delete(l);
    this.active = this.listeners.size > 0;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  record(req: Request, reply: Reply, ms: number): void {
    for (const l of this.listeners) {
      const key = req.key;
      if (l.prefix !== null && (key.length < l.prefix.length || key.compare(l.prefix, 0, l.prefix.length, 0, l.prefix.length) !== 0)) continue;
      if (l.sample > 1 && l.seen++ % l.sample !== 0) continue;
      const rec: Record<string, string | number> = {
        ts: Date.now(),
        op: req.op,
        key: req.keyString(),
        result: reply.result,
        reqBytes: req.value?.length ?? 0,
        replyBytes: reply.raw?.length ?? 0,
        latencyUs: Math.round(ms * 1000),
      };
      if (l.values) {
        const v = req.value ?? (reply.result === 'found' && reply.raw !== null ? valueOf(reply.raw) : null);
        if (v !== null) rec['value'] = v.toString('latin1');
      }
      l.write(`${JSON.stringify(rec)}\n`);
      if (--l.remaining <= 0) {
        this.remove(l);
        l.end();
      }
    }
  }
}

/** The data of a `VALUE k f n\r\n<data>\r\n` block (or of a meta reply with data). */
function valueOf(raw: Buffer): Buffer | null {
  const nl = raw.indexOf(0x0a);
  if (nl === -1 || nl + 1 >= raw.length) return null;
  const end = raw.length >= 2 && raw[raw.length - 2] === 0x0d ? raw.length - 2 : raw.length;
  return raw.subarray(nl + 1, end);
}
