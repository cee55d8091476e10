/**
 * Request rewrites and request synthesis for routes (exptime caps, L1 refills, warm-up copies).
 *
 * Rewrites touch only the command line, never the value bytes (memcached proxy's rule: a rewritten SET
 * must never send anything but the client's own value). They run off the common path (only routes that
 * rewrite call them), so clarity wins over speed here.
 */
import { opInfo, Request, type Op, type Reply } from './types.js';

/** Split a line fragment into space-separated tokens (as strings; line fragments are short). */
function tokens(b: Buffer): string[] {
  return b.toString('latin1').split(' ').filter((t) => t.length > 0);
}

/**
 * The same request with another exptime. Covers set/add/replace/append/prepend/cas (`<flags> <exptime>`),
 * touch, gat/gats and meta ms/mg/ma (`T` flag, added when absent). Other ops are returned unchanged.
 */
export function withExptime(req: Request, exptime: number): Request {
  const e = String(Math.trunc(exptime));
  switch (req.op) {
    case 'set': case 'add': case 'replace': case 'append': case 'prepend': case 'cas': {
      const t = tokens(req.tail); // flags exptime bytes [cas] [extra]
      if (t.length < 3) return req;
      t[1] = e;
      return req.withLine(req.head, Buffer.from(` ${t.join(' ')}`, 'latin1'), exptime);
    }
    case 'touch': {
      const t = tokens(req.tail);
      if (t.length < 1) return req;
      t[0] = e;
      return req.withLine(req.head, Buffer.from(` ${t.join(' ')}`, 'latin1'), exptime);
    }
    case 'gat': case 'gats':
      return req.withLine(Buffer.from(`${req.op} ${e} `, 'latin1'), req.tail, exptime);
    case 'ms': case 'mg': case 'ma': {
      const t = tokens(req.tail);
      const first = req.op === 'ms' ? 1 : 0; // ms: datalen comes first
      let found = false;
      for (let i = first; i < t.length; i++) {
        if ((t[i] as string).startsWith('T')) {
          t[i] = `T${e}`;
          found = true;
        }
      }
      if (!found) {
        if (req.op !== 'ms') return req; // mg/ma without T do not touch the TTL
        t.push(`T${e}`);
      }
      return req.withLine(req.head, Buffer.from(` ${t.join(' ')}`, 'latin1'), exptime);
    }
    default:
      return req;
  }
}

/** True for ops whose exptime a rewrite may change (mcrouter ModifyExptimeRoute: not deletes). */
export function carriesExptime(op: Op): boolean {
  return opInfo(op).exptime;
}

export interface ValueInfo {
  flags: number;
  data: Buffer;
  /** Remaining TTL in seconds from meta `t` (-1 = no expiry), or null when unknown. */
  ttl: number | null;
}

/**
 * The value of a hit: a classic `VALUE <key> <flags> <bytes> [cas]\r\n<data>\r\n` block or a meta
 * `VA <size> <flags>*\r\n<data>\r\n` reply (flags from `f`, TTL from `t` when requested). Null otherwise.
 */
export function valueOf(reply: Reply): ValueInfo | null {
  const raw = reply.raw;
  if (reply.result !== 'found' || raw === null) return null;
  const nl = raw.indexOf(0x0a);
  if (nl === -1) return null;
  const lineEnd = raw[nl - 1] === 0x0d ? nl - 1 : nl;
  const line = raw.toString('latin1', 0, lineEnd).split(' ');
  if (line[0] === 'VALUE') {
    const bytes = Number(line[3]);
    return { flags: Number(line[2]), data: raw.subarray(nl + 1, nl + 1 + bytes), ttl: null };
  }
  if (line[0] === 'VA') {
    const bytes = Number(line[1]);
    let flags = 0;
    let ttl: number | null = null;
    for (const f of line.slice(2)) {
      if (f.startsWith('f')) flags = Number(f.slice(1));
      else if (f.startsWith('t')) ttl = Number(f.slice(1));
    }
    return { flags, data: raw.subarray(nl + 1, nl + 1 + bytes), ttl };
  }
  return null;
}

/** `set|add|replace <key> <flags> <exptime> <bytes>` with `data` as the value. */
export function storageRequest(op: 'set' | 'add' | 'replace', key: Buffer, flags: number, exptime: number, data: Buffer): Request {
  return Request.synthesize(op, key, `${op} `, ` ${flags >>> 0} ${Math.trunc(exptime)} ${data.length}`, data, exptime);
}

/** `get <key>`. */
export function getRequest(key: Buffer): Request {
  return Request.synthesize('get', key, 'get ', '', null, 0);
}

/** `mg <key> <flags...>` (e.g. `v f t` to read value, client flags and remaining TTL). */
export function metaGetRequest(key: Buffer, flags: string): Request {
  return Request.synthesize('mg', key, 'mg ', flags.length > 0 ? ` ${flags}` : '', null, 0);
}

/** `ms <key> <datalen> <flags...>`. */
export function metaSetRequest(key: Buffer, data: Buffer, flags: string): Request {
  return Request.synthesize('ms', key, 'ms ', ` ${data.length}${flags.length > 0 ? ` ${flags}` : ''}`, data, 0);
}
