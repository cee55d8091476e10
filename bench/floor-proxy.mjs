#!/usr/bin/env node
// The least a memcached proxy on Node can do per request: the floor under mcrelay's CPU per request.
//
//   node bench/floor-proxy.mjs --port P --upstream 127.0.0.1:PORT[,127.0.0.1:PORT2,...]
//
// One memcached, one shared pipelined upstream connection, everything a turn's clients sent goes
// upstream in one write, and each client gets its replies in one write per turn: the same syscalls per
// request as mcrelay (and nutcracker with server_connections: 1). What it leaves out is everything that is
// not moving bytes: no routing or hashing, no timeouts, TKO, stats, observers, error replies, or checks
// of what the client sent beyond finding where each request ends. Reads go through the same shared buffers
// mcrelay uses (needs a built tree: npm run build). It understands only what the bench
// sends (get/gets lines and storage commands) and the replies to those. It is a yardstick for
// bench/run.sh (`--targets ...,floor`), not a proxy to run.
//
// With several upstreams (the mget scenarios' pools) it also does the least a pool proxy must: each key
// is hashed (32-bit FNV-1a, modulo the number of servers: no ring, no look-up table) and a multi-get is
// split into one get line per server it touches, all of a turn's lines to a server in one write; the
// servers' VALUE blocks go to the client as they came (server by server, as nutcracker does, never put
// back into the request's key order), then one END. A storage command goes whole to its key's server.
import net from 'node:net';
// mcrelay's own client-read path (one shared read buffer, each read copied out), so the floor pays no
// more for reads than mcrelay does (Node's default is a fresh 64 KB buffer per read, shrunk afterwards).
import { readThroughSharedBuffer } from '../dist/server/client-reads.js';
import { num, token, writeAll } from './floor-common.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt('port', '0'));
const upstreams = String(opt('upstream', '127.0.0.1:11211')).split(',');
const [upHost, upPort] = String(upstreams[0]).split(':');

const CR = 13;
const LF = 10;
const SP = 32;

if (upstreams.length > 1) {
  const { startPoolFloor } = await import('./floor-pool.mjs');
  startPoolFloor(port, upstreams);
} else startSingle();

function startSingle() {
  /** Clients waiting for replies, in the order their requests went upstream (one entry per request). */
  const fifo = [];
  let fifoHead = 0;
  /** Request bytes for the next upstream write. */
  let upChunks = [];
  let upScheduled = false;
  /** Clients with reply pieces to write at the end of this turn. */
  const dirty = [];

  // Upstream replies: read into one buffer and copied out per read, for the same reason.
  const UP_READ = Buffer.allocUnsafeSlow(64 * 1024);
  const up = net.connect({ port: Number(upPort), host: upHost, onread: { buffer: UP_READ, callback: (n, buf) => void onUpstream(Buffer.from(buf.subarray(0, n))) } });
  up.setNoDelay(true);

  function flushUp() {
    upScheduled = false;
    writeAll(up, upChunks);
    upChunks = [];
  }

  function flushClients() {
    for (const c of dirty) {
      writeAll(c.sock, c.pieces);
      c.pieces = [];
      c.dirty = false;
    }
    dirty.length = 0;
  }

  // ------------------------------------------------------------------ clients
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    // pend: bytes of a storage command whose data block is still arriving (sent upstream only once the
    // request is complete, so requests of different clients never interleave); line: a partial line.
    const c = { sock, pieces: [], dirty: false, line: null, skip: 0, pend: [] };
    const onChunk = (chunk) => {
      let buf = chunk;
      if (c.line !== null) {
        buf = Buffer.concat([c.line, chunk]);
        c.line = null;
      }
      const len = buf.length;
      let pos = 0;
      let start = 0;
      const complete = (to) => {
        for (const p of c.pend) upChunks.push(p);
        c.pend = [];
        upChunks.push(buf.subarray(start, to));
        start = to;
        fifo.push(c);
      };
      while (pos < len) {
        if (c.skip > 0) {
          const n = Math.min(c.skip, len - pos);
          c.skip -= n;
          pos += n;
          if (c.skip === 0) complete(pos);
          continue;
        }
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) {
          c.line = buf.subarray(pos);
          break;
        }
        const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
        const b0 = buf[pos];
        const ls = pos;
        pos = nl + 1;
        // A storage command (set/add/replace/append/prepend/cas): its data block follows; get/gets: done.
        if (b0 === 0x73 /* s */ || b0 === 0x61 /* a */ || b0 === 0x72 /* r */ || b0 === 0x70 /* p */ || (b0 === 0x63 /* c */ && buf[ls + 1] === 0x61)) {
          const [ts, te] = token(buf, ls, end, 4);
          const n = num(buf, ts, te);
          if (n >= 0) {
            c.skip = n + 2;
            continue;
          }
        }
        complete(pos);
      }
      if (c.skip > 0 && start < len) c.pend.push(buf.subarray(start));
      if (upChunks.length > 0 && !upScheduled) {
        upScheduled = true;
        setImmediate(flushUp);
      }
    };
    if (!readThroughSharedBuffer(sock, onChunk)) sock.on('data', onChunk);
    sock.on('error', () => sock.destroy());
  });

  // ------------------------------------------------------------------ replies
  /** Bytes of a VALUE data block (and its \r\n) still to pass through, and a partial line. */
  let upSkip = 0;
  let upLine = null;
  let replyStart = 0;
  function onUpstream(chunk) {
    let buf = chunk;
    if (upLine !== null) {
      buf = Buffer.concat([upLine, chunk]);
      upLine = null;
    }
    const len = buf.length;
    let pos = 0;
    replyStart = 0;
    const give = (to) => {
      // buf[replyStart, to) belongs to the client at the head of the FIFO.
      if (to > replyStart) {
        const c = fifo[fifoHead];
        c.pieces.push(buf.subarray(replyStart, to));
        if (!c.dirty) {
          c.dirty = true;
          dirty.push(c);
        }
      }
      replyStart = to;
    };
    while (pos < len) {
      if (upSkip > 0) {
        const n = Math.min(upSkip, len - pos);
        upSkip -= n;
        pos += n;
        continue;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        // Hand over what is complete; keep the partial line for the next chunk.
        give(pos);
        upLine = buf.subarray(pos);
        break;
      }
      const ls = pos;
      pos = nl + 1;
      if (buf[ls] === 0x56 /* VALUE <key> <flags> <bytes> [<cas>] */) {
        const e = nl > ls && buf[nl - 1] === CR ? nl - 1 : nl;
        const [bs, be] = token(buf, ls, e, 3);
        upSkip = num(buf, bs, be) + 2;
        continue;
      }
      // END, STORED, NOT_STORED, ... : the reply to the head request is complete.
      give(pos);
      fifoHead++;
      if (fifoHead > 4096 && fifoHead * 2 > fifo.length) {
        fifo.splice(0, fifoHead);
        fifoHead = 0;
      }
    }
    // A reply still arriving: what came so far is the head client's.
    if (upLine === null) give(len);
    if (dirty.length > 0) flushClients();
  }

  up.on('connect', () => {
    server.listen(port, '127.0.0.1', () => {
      console.log(`floor-proxy listening on ${server.address().port}`);
    });
  });
  up.on('error', (err) => {
    console.error(`floor-proxy: upstream ${err.message}`);
    process.exit(1);
  });
}
