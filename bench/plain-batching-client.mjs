// The least a batching memcached client can do, for bench/embedded.mjs variant (e): one pipelined socket, the
// gets queued in one event-loop turn written as one `get k1 k2 …` line, sets written as they come, and a reply
// reader that knows nothing but VALUE/END/STORED. No routing, no timeouts, no failover, no error handling beyond
// rejecting everything when the socket closes. It exists to measure how fast any Node client can go on this
// workload and machine, so that the embedded router's figures have a ceiling beside them.
import net from 'node:net';

const CRLF = Buffer.from('\r\n');

export class PlainBatchingClient {
  constructor(host, port) {
    this.sock = net.connect({ host, port });
    this.sock.setNoDelay(true);
    /** Writes this turn: strings and Buffers. */
    this.out = [];
    /** Callers of the get line being built this turn ({ key, resolve, reject }), merged into one line. */
    this.getKeys = [];
    /** What the replies on the wire answer, in order: { kind: 'get', entries, i (next unanswered) } | { kind: 'set', resolve, reject }. */
    this.pending = [];
    this.head = 0;
    this.scheduled = false;
    this.buf = null;
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('close', () => this.failAll(new Error('connection closed')));
    this.sock.on('error', () => {});
  }

  ready() {
    return new Promise((res, rej) => { this.sock.once('connect', res); this.sock.once('error', rej); });
  }

  schedule() {
    if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flush()); }
  }

  closeGetLine() {
    if (this.getKeys.length === 0) return;
    const g = this.getKeys;
    this.out.push(`get ${g.map((e) => e.key).join(' ')}\r\n`);
    this.pending.push({ kind: 'get', entries: g, i: 0 });
    this.getKeys = [];
  }

  /** Resolves with the value Buffer, or undefined on a miss. */
  get(key) {
    return new Promise((resolve, reject) => {
      this.getKeys.push({ key, resolve, reject });
      if (this.getKeys.length === 100) this.closeGetLine();
      this.schedule();
    });
  }

  /** Resolves true when STORED. */
  set(key, value, ttl = 0) {
    return new Promise((resolve, reject) => {
      this.closeGetLine();
      this.out.push(`set ${key} 0 ${ttl} ${value.length}\r\n`, value, CRLF);
      this.pending.push({ kind: 'set', resolve, reject });
      this.schedule();
    });
  }

  flush() {
    this.scheduled = false;
    this.closeGetLine();
    const parts = this.out;
    this.out = [];
    if (parts.length === 0) return;
    this.sock.write(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))));
  }

  onData(d) {
    const b = this.buf === null ? d : Buffer.concat([this.buf, d]);
    let pos = 0;
    for (;;) {
      const p = this.pending[this.head];
      if (p === undefined) break;
      const eol = b.indexOf(CRLF, pos);
      if (eol < 0) break;
      if (p.kind === 'set') {
        p.resolve(b[pos] === 0x53 && b[pos + 1] === 0x54); // STORED
        pos = eol + 2;
        this.head++;
        continue;
      }
      if (b[pos] === 0x45) { // END: every key not yet answered missed
        for (let i = p.i; i < p.entries.length; i++) p.entries[i].resolve(undefined);
        pos = eol + 2;
        this.head++;
        continue;
      }
      // VALUE <key> <flags> <bytes>
      const line = b.toString('latin1', pos, eol);
      const sp1 = line.indexOf(' ', 6);
      const key = line.slice(6, sp1);
      const len = Number(line.slice(line.lastIndexOf(' ') + 1));
      const end = eol + 2 + len + 2;
      if (end > b.length) break;
      while (p.i < p.entries.length && p.entries[p.i].key !== key) p.entries[p.i++].resolve(undefined);
      const e = p.entries[p.i++];
      if (e) e.resolve(Buffer.from(b.subarray(eol + 2, eol + 2 + len)));
      pos = end;
    }
    if (this.head > 1024) { this.pending = this.pending.slice(this.head); this.head = 0; }
    this.buf = pos < b.length ? b.subarray(pos) : null;
  }

  failAll(err) {
    for (let i = this.head; i < this.pending.length; i++) {
      const p = this.pending[i];
      if (p.kind === 'set') p.reject(err);
      else for (let j = p.i; j < p.entries.length; j++) p.entries[j].reject(err);
    }
    this.pending = [];
    this.head = 0;
  }

  close() {
    this.sock.end();
  }
}
