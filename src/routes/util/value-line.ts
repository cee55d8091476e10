/**
 * Reading and writing the classic storage and VALUE lines, for routes that look inside values by their
 * client flags (L1L2CacheRoute's ncache sentinel, L1L2SizeSplitRoute's size-split sentinel, BigValueRoute's
 * index item) or synthesize hits (merged chunks, values read from another key).
 *
 *   VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n      a get/gets hit (Reply.raw)
 *   <op> <key> <flags> <exptime> <bytes>[ <cas>]           a storage command (Request head + key + tail)
 *
 * `hitFlags` runs on every hit such a route sees, so it reads in place and allocates nothing; the rest runs
 * only on the paths that rewrite.
 */
import { Request } from '../../protocol/types.js';

const SP = 0x20;
const D0 = 0x30;

/** Client flags of a classic hit, read in place; -1 when `raw` is not a VALUE line. */
export function hitFlags(raw: Buffer | null): number {
  if (raw === null || raw.length < 8 || raw[0] !== 0x56 /* V */) return -1;
  const keyEnd = raw.indexOf(SP, 6);
  if (keyEnd === -1) return -1;
  let flags = 0;
  let i = keyEnd + 1;
  for (; i < raw.length; i++) {
    const d = (raw[i] as number) - D0;
    if (d < 0 || d > 9) break;
    flags = flags * 10 + d;
  }
  return i === keyEnd + 1 ? -1 : flags;
}

/** The parts of a classic hit: flags, data (a view into `raw`), and the gets CAS token (or null). */
export interface HitParts {
  readonly flags: number;
  readonly data: Buffer;
  readonly cas: string | null;
}

export function hitParts(raw: Buffer | null): HitParts | null {
  if (raw === null || raw[0] !== 0x56) return null;
  const nl = raw.indexOf(0x0a);
  if (nl === -1) return null;
  const t = raw.toString('latin1', 0, raw[nl - 1] === 0x0d ? nl - 1 : nl).split(' ');
  if (t[0] !== 'VALUE' || t.length < 4) return null;
  const bytes = Number(t[3]);
  if (!Number.isInteger(bytes) || nl + 1 + bytes > raw.length) return null;
  return { flags: Number(t[2]), data: raw.subarray(nl + 1, nl + 1 + bytes), cas: t[4] ?? null };
}

/** A classic hit for `key`: `VALUE <key> <flags> <bytes>[ <cas>]\r\n` + the data parts + `\r\n`, one buffer. */
export function valueBlock(key: Buffer, flags: number, data: readonly Buffer[], cas: string | null): Buffer {
  let len = 0;
  for (const d of data) len += d.length;
  const head = Buffer.from(` ${flags >>> 0} ${len}${cas === null ? '' : ` ${cas}`}\r\n`, 'latin1');
  const out = Buffer.allocUnsafe(6 + key.length + head.length + len + 2);
  let o = out.write('VALUE ', 0, 'latin1');
  o += key.copy(out, o);
  o += head.copy(out, o);
  for (const d of data) o += d.copy(out, o);
  out.write('\r\n', o, 'latin1');
  return out;
}

/** The `<flags> <exptime> <bytes>[ <cas>]` of a classic storage command (set, add, replace, append, prepend, cas). */
export interface StorageLine {
  readonly flags: number;
  readonly exptime: number;
  readonly cas: string | null;
}

export function storageLine(req: Request): StorageLine {
  const t = req.tail.toString('latin1').split(' ').filter((x) => x.length > 0);
  return { flags: Number(t[0] ?? 0), exptime: Number(t[1] ?? 0), cas: req.op === 'cas' ? t[3] ?? null : null };
}

/** The same storage command with other flags and another data block (the exptime and CAS token kept). */
export function withFlagsAndValue(req: Request, flags: number, value: Buffer): Request {
  const line = storageLine(req);
  const cas = line.cas === null ? '' : ` ${line.cas}`;
  const tail = Buffer.from(` ${flags >>> 0} ${Math.trunc(line.exptime)} ${value.length}${cas}`, 'latin1');
  const r = new Request(req.op, req.key, req.head, tail, value, false, req.exptime);
  r.client = req.client;
  return r;
}

/** A request synthesized on behalf of `req` (chunk, sentinel, L2 copy) keeps its client, for fair queueing. */
export function onBehalfOf(req: Request, made: Request): Request {
  made.client = req.client;
  return made;
}
