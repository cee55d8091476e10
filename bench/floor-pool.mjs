// The floor proxy's pool mode (bench/floor-proxy.mjs with several --upstream addresses): the least a Node
// proxy does for a multi-get over a pool. See floor-proxy.mjs for what every floor leaves out.
//
// Per request: find the line's end, hash each key (FNV-1a 32, modulo the servers), append it to that
// server's get line for this request, and count the servers touched. Per turn: each server's lines in one
// write. Per server reply: VALUE headers framed, data blocks skipped over, and everything up to END handed to
// the request as slices of the read. When the last server answered, the client gets the slices and one END.
// A client's replies leave in the order its requests came.
import net from 'node:net';
import { readThroughSharedBuffer } from '../dist/server/client-reads.js';
import { num, token, writeAll } from './floor-common.mjs';

const CR = 13;
const LF = 10;
const SP = 32;
const END = Buffer.from('END\r\n');
const GET = Buffer.from('get');
const CRLF = Buffer.from('\r\n');

/**
 * One client request: the slices of its reply by server (a server's reply may span reads, and other
 * servers' reads come between), and how many servers still owe theirs.
 */
class Req {
  constructor(client, isGet, servers) {
    this.client = client;
    this.isGet = isGet;
    this.pieces = new Array(servers);
    this.left = 0;
  }

  add(s, piece) {
    const p = this.pieces[s];
    if (p === undefined) this.pieces[s] = [piece];
    else p.push(piece);
  }
}

/** A server's staged request bytes for this turn (copied out at the flush) and the requests it owes. */
class Upstream {
  constructor(addr, index) {
    const [host, port] = addr.split(':');
    this.index = index;
    this.stage = Buffer.allocUnsafe(256 * 1024);
    this.off = 0;
    this.chunks = [];
    this.owed = [];
    this.head = 0;
    this.skip = 0;
    this.line = null;
    const read = Buffer.allocUnsafeSlow(64 * 1024);
    this.sock = net.connect({ port: Number(port), host, onread: { buffer: read, callback: (n, b) => void this.onReply(Buffer.from(b.subarray(0, n))) } });
    this.sock.setNoDelay(true);
    this.sock.on('error', (err) => {
      console.error(`floor-proxy: upstream ${addr}: ${err.message}`);
      process.exit(1);
    });
  }

  put(src, s, e) {
    if (this.off + (e - s) > this.stage.length) this.spill();
    if (e - s > this.stage.length) {
      this.chunks.push(src.subarray(s, e));
      return;
    }
    src.copy(this.stage, this.off, s, e);
    this.off += e - s;
  }

  spill() {
    if (this.off > 0) this.chunks.push(Buffer.from(this.stage.subarray(0, this.off)));
    this.off = 0;
  }

  flush() {
    this.spill();
    const c = this.chunks;
    if (c.length === 0) return;
    writeAll(this.sock, c);
    this.chunks = [];
  }

  /** Replies: slices of `buf` go to the request at the head of `owed` until its END (or its one line). */
  onReply(buf) {
    if (this.line !== null) {
      buf = Buffer.concat([this.line, buf]);
      this.line = null;
    }
    const len = buf.length;
    let pos = 0;
    let from = 0;
    while (pos < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        this.line = buf.subarray(pos);
        break;
      }
      const ls = pos;
      pos = nl + 1;
      if (buf[ls] === 0x56 /* VALUE <key> <flags> <bytes> [<cas>] */) {
        const e = nl > ls && buf[nl - 1] === CR ? nl - 1 : nl;
        const [bs, be] = token(buf, ls, e, 3);
        this.skip = num(buf, bs, be) + 2;
        continue;
      }
      const r = this.owed[this.head];
      this.owed[this.head++] = undefined;
      // A get's END stays here (the client gets one END of its own); any other reply line goes through.
      const to = r.isGet ? ls : pos;
      if (to > from) r.add(this.index, buf.subarray(from, to));
      from = pos;
      if (--r.left === 0) r.client.done(r);
      if (this.head > 4096 && this.head * 2 > this.owed.length) {
        this.owed.splice(0, this.head);
        this.head = 0;
      }
    }
    // VALUE blocks of a reply still arriving belong to the head request.
    const to = this.line === null ? len : len - this.line.length;
    if (to > from) this.owed[this.head].add(this.index, buf.subarray(from, to));
    flushClients();
  }
}

let ups = [];
let upScheduled = false;
const dirty = [];

function flushUps() {
  upScheduled = false;
  for (const u of ups) u.flush();
}

function flushClients() {
  for (const c of dirty) c.flush();
  dirty.length = 0;
}

function fnv1a(buf, s, e) {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> 0;
}

class Client {
  constructor(sock) {
    this.sock = sock;
    this.queue = [];
    this.out = [];
    this.dirty = false;
    this.line = null;
    this.skip = 0;
    /** A storage command whose data block is still arriving: its server, request and bytes so far. */
    this.pendUp = null;
    this.pendReq = null;
    this.pend = [];
    /** Per server: whether this request has opened its get line there. */
    this.open = new Uint8Array(ups.length);
  }

  done() {
    const q = this.queue;
    while (q.length > 0 && q[0].left === 0) {
      const r = q.shift();
      for (const ps of r.pieces) if (ps !== undefined) for (const p of ps) this.out.push(p);
      if (r.isGet) this.out.push(END);
    }
    if (this.out.length > 0 && !this.dirty) {
      this.dirty = true;
      dirty.push(this);
    }
  }

  flush() {
    writeAll(this.sock, this.out);
    this.out = [];
    this.dirty = false;
  }

  get(buf, ls, end) {
    const r = new Req(this, true, ups.length);
    this.queue.push(r);
    const open = this.open;
    const n = ups.length;
    let i = ls + 3;
    for (;;) {
      while (i < end && buf[i] === SP) i++;
      if (i >= end) break;
      const ks = i;
      while (i < end && buf[i] !== SP) i++;
      const s = fnv1a(buf, ks, i) % n;
      const u = ups[s];
      if (open[s] === 0) {
        open[s] = 1;
        u.put(GET, 0, 3);
        u.owed.push(r);
        r.left++;
      }
      u.put(buf, ks - 1, i);
    }
    for (let s = 0; s < n; s++) {
      if (open[s] === 0) continue;
      open[s] = 0;
      ups[s].put(CRLF, 0, 2);
    }
    if (r.left === 0) this.done();
  }

  onChunk(chunk) {
    let buf = chunk;
    if (this.line !== null) {
      buf = Buffer.concat([this.line, chunk]);
      this.line = null;
    }
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      if (this.skip > 0) {
        // A storage command's data block: held until it is whole, so no other request gets between.
        const n = Math.min(this.skip, len - pos);
        this.pend.push(buf.subarray(pos, pos + n));
        this.skip -= n;
        pos += n;
        if (this.skip === 0) {
          const u = this.pendUp;
          for (const p of this.pend) u.put(p, 0, p.length);
          u.owed.push(this.pendReq);
          this.pend = [];
        }
        continue;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        this.line = buf.subarray(pos);
        break;
      }
      const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      const ls = pos;
      pos = nl + 1;
      if (buf[ls] === 0x67 /* g */) {
        this.get(buf, ls, end);
        continue;
      }
      // A storage command: whole to its key's server.
      const [ks, ke] = token(buf, ls, end, 1);
      const [ts, te] = token(buf, ls, end, 4);
      const u = ups[fnv1a(buf, ks, ke) % ups.length];
      const r = new Req(this, false, ups.length);
      r.left = 1;
      this.queue.push(r);
      this.pendUp = u;
      this.pendReq = r;
      this.pend = [buf.subarray(ls, pos)];
      this.skip = num(buf, ts, te) + 2;
    }
    if (!upScheduled) {
      upScheduled = true;
      setImmediate(flushUps);
    }
  }
}

/** Start the pool floor on `port` in front of `addrs` (host:port each). */
export function startPoolFloor(port, addrs) {
  ups = addrs.map((a, i) => new Upstream(a, i));
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    const c = new Client(sock);
    const onChunk = (chunk) => c.onChunk(chunk);
    if (!readThroughSharedBuffer(sock, onChunk)) sock.on('data', onChunk);
    sock.on('error', () => sock.destroy());
  });
  let connected = 0;
  for (const u of ups) {
    u.sock.on('connect', () => {
      if (++connected === ups.length) {
        server.listen(port, '127.0.0.1', () => console.log(`floor-proxy listening on ${server.address().port}`));
      }
    });
  }
}
