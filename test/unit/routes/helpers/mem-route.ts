/**
 * A tiny in-memory memcached as a route leaf, for routes that look inside values (L1L2SizeSplitRoute,
 * BigValueRoute): get/gets/gat/gats (VALUE lines with CAS tokens), set/add/replace/append/prepend/cas,
 * delete, touch. A negative exptime removes the item, as memcached does. `fail` makes every request answer
 * that result; `failKeys` only requests for keys matching it.
 */
import { Reply, type Request, type Result } from '../../../../src/protocol/types.js';
import { FakeRoute } from './fake-route.js';

export interface Item {
  flags: number;
  data: Buffer;
  exptime: number;
  cas: number;
}

export class MemRoute extends FakeRoute {
  readonly items = new Map<string, Item>();
  fail: Result | null = null;
  failKeys: { match: RegExp; result: Result } | null = null;
  private nextCas = 100;

  constructor(name: string, opts: { async?: boolean } = {}) {
    super(name, (req: Request) => this.handle(req), opts);
  }

  /** Store directly (test setup). */
  put(key: string, data: string | Buffer, flags = 0, exptime = 0): Item {
    const item = { flags, data: Buffer.from(data), exptime, cas: this.nextCas++ };
    this.items.set(key, item);
    return item;
  }

  value(key: string): string | undefined {
    return this.items.get(key)?.data.toString('latin1');
  }

  private handle(req: Request): Reply {
    if (this.fail !== null) return new Reply(this.fail);
    const k = req.keyString();
    if (this.failKeys !== null && this.failKeys.match.test(k)) return new Reply(this.failKeys.result);
    const cur = this.items.get(k);
    const t = req.tail.toString('latin1').trim().split(' ');
    switch (req.op) {
      case 'get': case 'gets': case 'gat': case 'gats': {
        if (cur === undefined) return new Reply('notfound');
        if (req.op === 'gat' || req.op === 'gats') cur.exptime = req.exptime;
        const cas = req.op === 'gets' || req.op === 'gats' ? ` ${cur.cas}` : '';
        return new Reply('found', Buffer.concat([Buffer.from(`VALUE ${k} ${cur.flags} ${cur.data.length}${cas}\r\n`), cur.data, Buffer.from('\r\n')]));
      }
      case 'set': case 'add': case 'replace': case 'append': case 'prepend': case 'cas': {
        const flags = Number(t[0]);
        const exptime = Number(t[1]);
        const data = Buffer.from(req.value ?? Buffer.alloc(0));
        if (req.op === 'add' && cur !== undefined) return new Reply('notstored');
        if ((req.op === 'replace' || req.op === 'append' || req.op === 'prepend') && cur === undefined) return new Reply('notstored');
        if (req.op === 'cas') {
          if (cur === undefined) return new Reply('notfound');
          if (String(cur.cas) !== t[3]) return new Reply('exists');
        }
        if (req.op === 'append' || req.op === 'prepend') {
          const c = cur as Item;
          c.data = req.op === 'append' ? Buffer.concat([c.data, data]) : Buffer.concat([data, c.data]);
          c.cas = this.nextCas++;
          return new Reply('stored');
        }
        if (exptime < 0) this.items.delete(k);
        else this.items.set(k, { flags, data, exptime, cas: this.nextCas++ });
        return new Reply('stored');
      }
      case 'delete':
        return this.items.delete(k) ? new Reply('deleted') : new Reply('notfound');
      case 'touch':
        if (cur === undefined) return new Reply('notfound');
        cur.exptime = Number(t[0]);
        return new Reply('touched');
      default:
        return new Reply('notfound');
    }
  }
}
