/**
 * The embedded router (createRouter) against real memcached on ephemeral loopback ports. What each call
 * returns is compared with what memcached itself answers for the same command over a raw socket, and
 * where a key landed is read back from the servers. Figures the tests measure are printed with an
 * `[embedded]` prefix.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createRouter, McrelayError, OptionError, type Router, type RouterOptions } from '../../src/index.js';
import { furcHash } from '../../src/routes/hash/furc.js';
import { createSelector } from '../../src/routes/hash/selector.js';
import { startCountingRelay, type CountingRelay } from './helpers/counting-relay.js';
import { flushBackends, locate, placeThrough } from './helpers/placement.js';
import { sleep } from './helpers/ports.js';
import { startRelay } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function memcached(args: string[] = []): Promise<MemcachedServer> {
  const m = await startMemcached({ args });
  cleanup.push(() => {
    m.resume();
    return m.stop();
  });
  return m;
}

async function raw(port: number): Promise<RawClient> {
  const c = await connect(port, { timeoutMs: 20_000 });
  cleanup.push(() => c.destroy());
  return c;
}

async function router(options: RouterOptions): Promise<Router> {
  const r = await createRouter({ logLevel: 'silent', ...options });
  cleanup.push(() => r.close({ drainMs: 0 }));
  return r;
}

async function countingRelay(upstreamPort: number): Promise<CountingRelay> {
  const c = await startCountingRelay(upstreamPort);
  cleanup.push(() => c.close());
  return c;
}

function onePool(servers: readonly string[], name = 'A'): object {
  return { pools: { [name]: { servers } }, route: `PoolRoute|${name}` };
}

/** One memcached, a router over it, and a raw connection to the same server. */
async function single(args: string[] = []): Promise<{ m: MemcachedServer; r: Router; c: RawClient }> {
  const m = await memcached(args);
  const r = await router({ config: onePool([m.address]) });
  const c = await raw(m.port);
  return { m, r, c };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
/** memcached's answer to `bytes` as text. */
const ask = async (c: RawClient, bytes: string | Buffer): Promise<string> => (await c.roundTrip(bytes)).toString('latin1');
/** The first line memcached answers to `bytes`, without its `\r\n`. */
const firstLine = async (c: RawClient, bytes: string | Buffer): Promise<string> => (await ask(c, bytes)).split('\r\n')[0] as string;

/** A raw `get`/`gets` reply for one key → its flags, value and cas, or undefined on END. */
function parseValue(reply: Buffer): { flags: number; value: Buffer; cas?: bigint } | undefined {
  if (reply.equals(b('END\r\n'))) return undefined;
  const eol = reply.indexOf('\r\n');
  const parts = reply.toString('latin1', 0, eol).split(' ');
  expect(parts[0]).toBe('VALUE');
  const len = Number(parts[3]);
  const out: { flags: number; value: Buffer; cas?: bigint } = { flags: Number(parts[2]), value: reply.subarray(eol + 2, eol + 2 + len) };
  if (parts[4] !== undefined) out.cas = BigInt(parts[4]);
  expect(reply.subarray(eol + 2 + len).toString('latin1')).toBe('\r\nEND\r\n');
  return out;
}

/** A raw meta reply → status, flags (letter → token) and value, the shape meta() returns. */
function parseMeta(reply: Buffer): { status: string; flags: Record<string, string>; value?: Buffer } {
  const eol = reply.indexOf('\r\n');
  const tokens = reply.toString('latin1', 0, eol).split(' ');
  const status = tokens[0] as string;
  let i = 1;
  let value: Buffer | undefined;
  if (status === 'VA') {
    const len = Number(tokens[1]);
    value = reply.subarray(eol + 2, eol + 2 + len);
    i = 2;
  }
  const flags: Record<string, string> = {};
  for (; i < tokens.length; i++) {
    const t = tokens[i] as string;
    flags[t.charAt(0)] = t.slice(1);
  }
  return value === undefined ? { status, flags } : { status, flags, value };
}

/** The value block memcached sends for a hit: `VALUE <key> <flags> <len>\r\n<data>\r\nEND\r\n`. */
function valueReply(key: string | Buffer, flags: number, data: Buffer): Buffer {
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return Buffer.concat([b('VALUE '), k, b(` ${flags} ${data.length}\r\n`), data, b('\r\nEND\r\n')]);
}

/** Await `p`, expecting a McrelayError; returns it. */
async function rejection(p: Promise<unknown>): Promise<McrelayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(McrelayError);
    return err as McrelayError;
  }
  throw new Error('expected the call to reject, and it resolved');
}

describe('1. every method against real memcached', () => {
  it('set/add/replace/append/prepend: the server holds the exact bytes and flags, and the booleans are its STORED/NOT_STORED', async () => {
    const { r, c } = await single();
    const v = Buffer.from([0x00, 0x01, 0x0d, 0x0a, 0xff, 0x20, 0x7f, 0x45, 0x4e, 0x44, 0x0d, 0x0a]);
    expect(await r.set('st:a', v, { flags: 4294967295 })).toBe(true);
    expect(await c.roundTrip('get st:a\r\n')).toEqual(valueReply('st:a', 4294967295, v));

    // add over an existing key: memcached says NOT_STORED, the router false.
    expect(await r.add('st:a', 'x')).toBe(false);
    expect(await ask(c, 'add st:a 0 0 1\r\nx\r\n')).toBe('NOT_STORED\r\n');
    expect(await c.roundTrip('get st:a\r\n')).toEqual(valueReply('st:a', 4294967295, v));
    expect(await r.add('st:b', 'bee', { flags: 7 })).toBe(true);
    expect(await c.roundTrip('get st:b\r\n')).toEqual(valueReply('st:b', 7, b('bee')));

    // replace of a missing key.
    expect(await r.replace('st:none', 'x')).toBe(false);
    expect(await ask(c, 'replace st:none 0 0 1\r\nx\r\n')).toBe('NOT_STORED\r\n');
    expect(await ask(c, 'get st:none\r\n')).toBe('END\r\n');
    expect(await r.replace('st:b', 'bees', { flags: 8 })).toBe(true);
    expect(await c.roundTrip('get st:b\r\n')).toEqual(valueReply('st:b', 8, b('bees')));

    // append/prepend keep the flags (memcached ignores theirs) and concatenate the bytes.
    expect(await r.append('st:b', '-tail', { flags: 99 })).toBe(true);
    expect(await r.prepend('st:b', Buffer.from([0xfe, 0x2d]))).toBe(true);
    expect(await c.roundTrip('get st:b\r\n')).toEqual(valueReply('st:b', 8, Buffer.concat([Buffer.from([0xfe, 0x2d]), b('bees-tail')])));
    expect(await r.append('st:none', 'x')).toBe(false);
    expect(await r.prepend('st:none', 'x')).toBe(false);
    expect(await ask(c, 'append st:none 0 0 1\r\nx\r\nprepend st:none 0 0 1\r\nx\r\n')).toBe('NOT_STORED\r\nNOT_STORED\r\n');

    // A string value is stored as its UTF-8 bytes; ttl reaches the server as the exptime.
    expect(await r.set('st:u', 'zß€', { ttl: 100 })).toBe(true);
    expect(await c.roundTrip('get st:u\r\n')).toEqual(valueReply('st:u', 0, Buffer.from('zß€', 'utf8')));
    const t = Number(/ t(-?\d+)/.exec(await ask(c, 'mg st:u t\r\n'))?.[1]);
    expect(t).toBeGreaterThanOrEqual(98);
    expect(t).toBeLessThanOrEqual(100);
    // The empty value.
    expect(await r.set('st:e', '')).toBe(true);
    expect(await c.roundTrip('get st:e\r\n')).toEqual(valueReply('st:e', 0, Buffer.alloc(0)));
  });

  it('get/gets/getMulti return what a raw get/gets shows; misses are undefined or absent', async () => {
    const { r, c } = await single();
    expect(await ask(c, 'set g:a 42 0 3\r\nabc\r\nset g:b 0 0 0\r\n\r\nset g:c 1 0 2\r\n\r\n\r\n')).toBe('STORED\r\nSTORED\r\nSTORED\r\n');

    for (const k of ['g:a', 'g:b', 'g:c']) {
      const theirs = parseValue(await c.roundTrip(`get ${k}\r\n`));
      const mine = await r.get(k);
      expect(mine).toBeDefined();
      expect(mine?.value).toEqual(theirs?.value);
      expect(mine?.flags).toBe(theirs?.flags);
      expect(mine?.cas).toBeUndefined();
      const theirsCas = parseValue(await c.roundTrip(`gets ${k}\r\n`));
      const mineCas = await r.gets(k);
      expect(mineCas?.cas).toBe(theirsCas?.cas);
      expect(mineCas?.value).toEqual(theirsCas?.value);
      expect(typeof mineCas?.cas).toBe('bigint');
    }
    expect(await ask(c, 'get g:none\r\n')).toBe('END\r\n');
    expect(await r.get('g:none')).toBeUndefined();
    expect(await r.gets('g:none')).toBeUndefined();

    const keys = ['g:a', 'g:none', 'g:b', 'g:none2', 'g:c'];
    const multi = await r.getMulti(keys);
    const rawMulti = await ask(c, `get ${keys.join(' ')}\r\n`);
    const present = [...rawMulti.matchAll(/^VALUE (\S+) /gm)].map((x) => x[1] as string);
    expect([...multi.keys()].sort()).toEqual(present.sort());
    expect(multi.has('g:none')).toBe(false);
    expect(multi.get('g:a')?.value.toString()).toBe('abc');
    expect(multi.get('g:a')?.flags).toBe(42);
    expect(multi.get('g:c')?.value).toEqual(b('\r\n'));
    expect((await r.getMulti([])).size).toBe(0);
  });

  it('cas: stored with the current token, exists with a stale one, not_found for a missing key, as memcached answers', async () => {
    const { r, c } = await single();
    expect(await r.set('cas:a', 'v1')).toBe(true);
    const first = await r.gets('cas:a');
    const token = first?.cas;
    expect(token).toBeDefined();
    expect(parseValue(await c.roundTrip('gets cas:a\r\n'))?.cas).toBe(token);

    expect(await r.cas('cas:a', 'v2', token as bigint, { flags: 3 })).toBe('stored');
    expect(await c.roundTrip('get cas:a\r\n')).toEqual(valueReply('cas:a', 3, b('v2')));
    // The old token is stale now, for the router and for memcached alike.
    expect(await r.cas('cas:a', 'v3', token as bigint)).toBe('exists');
    expect(await ask(c, `cas cas:a 0 0 2 ${String(token)}\r\nv4\r\n`)).toBe('EXISTS\r\n');
    expect(await c.roundTrip('get cas:a\r\n')).toEqual(valueReply('cas:a', 3, b('v2')));

    expect(await r.cas('cas:none', 'x', 1n)).toBe('not_found');
    expect(await ask(c, 'cas cas:none 0 0 1 1\r\nx\r\n')).toBe('NOT_FOUND\r\n');

    // A token from a raw gets works through the router.
    const rawToken = parseValue(await c.roundTrip('gets cas:a\r\n'))?.cas as bigint;
    expect(await r.cas('cas:a', 'v5', rawToken)).toBe('stored');
    expect(await c.roundTrip('get cas:a\r\n')).toEqual(valueReply('cas:a', 0, b('v5')));
  });

  it('delete and touch: true/false are DELETED/NOT_FOUND and TOUCHED/NOT_FOUND; touch sets the server TTL', async () => {
    const { r, c } = await single();
    expect(await r.set('dt:a', 'x')).toBe(true);
    expect(await r.delete('dt:a')).toBe(true);
    expect(await ask(c, 'get dt:a\r\n')).toBe('END\r\n');
    expect(await r.delete('dt:a')).toBe(false);
    expect(await ask(c, 'delete dt:a\r\n')).toBe('NOT_FOUND\r\n');

    expect(await r.set('dt:t', 'x')).toBe(true);
    expect(await ask(c, 'mg dt:t t\r\n')).toBe('HD t-1\r\n');
    expect(await r.touch('dt:t', 500)).toBe(true);
    const t = Number(/ t(-?\d+)/.exec(await ask(c, 'mg dt:t t\r\n'))?.[1]);
    expect(t).toBeGreaterThanOrEqual(498);
    expect(t).toBeLessThanOrEqual(500);
    expect(await ask(c, 'touch dt:t 600\r\n')).toBe('TOUCHED\r\n');
    expect(await r.touch('dt:none', 10)).toBe(false);
    expect(await ask(c, 'touch dt:none 10\r\n')).toBe('NOT_FOUND\r\n');
  });

  it('incr/decr: the new value as memcached computes it (wrap, floor at 0), undefined on a missing key', async () => {
    const { r, c } = await single();
    expect(await ask(c, 'incr n:none 1\r\ndecr n:none 1\r\n')).toBe('NOT_FOUND\r\nNOT_FOUND\r\n');
    expect(await r.incr('n:none', 1)).toBeUndefined();
    expect(await r.decr('n:none', 1)).toBeUndefined();

    // Each step runs on two keys with the same start: one through the router, one over the raw socket.
    const max = '18446744073709551615';
    const steps: [string, 'incr' | 'decr', bigint][] = [
      ['10', 'incr', 5n],
      ['10', 'decr', 100n],
      [max, 'incr', 1n],
      ['7', 'incr', 2n ** 64n - 1n],
      ['1000', 'decr', 1n],
    ];
    for (const [i, [start, op, delta]] of steps.entries()) {
      expect(await ask(c, `set n:r${i} 0 0 ${start.length}\r\n${start}\r\nset n:w${i} 0 0 ${start.length}\r\n${start}\r\n`)).toBe('STORED\r\nSTORED\r\n');
      const mine = await (op === 'incr' ? r.incr(`n:r${i}`, delta) : r.decr(`n:r${i}`, delta));
      const theirs = (await firstLine(c, `${op} n:w${i} ${delta}\r\n`)).trim();
      expect(mine, `${op} ${start} by ${delta}`).toBe(BigInt(theirs));
      // The stored bytes agree too (memcached pads a shorter decr result with spaces).
      const stored = parseValue(await c.roundTrip(`get n:w${i}\r\n`))?.value;
      expect(stored).toBeDefined();
      expect(await c.roundTrip(`get n:r${i}\r\n`)).toEqual(valueReply(`n:r${i}`, 0, stored as Buffer));
    }
    expect(await r.incr('n:r0', 1)).toBe(16n);
  });

  it('meta: mg/ms/md/ma status, flags and value match the raw meta answers', async () => {
    const { r, c } = await single();
    expect(await r.set('m:a', 'meta-value', { flags: 77, ttl: 300 })).toBe(true);
    const mine = await r.meta('mg', 'm:a', ['v', 'f', 't']);
    const theirs = parseMeta(await c.roundTrip('mg m:a v f t\r\n'));
    expect(mine.status).toBe(theirs.status);
    expect(mine.status).toBe('VA');
    expect(mine.value).toEqual(theirs.value);
    expect(mine.value?.toString()).toBe('meta-value');
    expect(mine.flags['f']).toBe(theirs.flags['f']);
    expect(mine.flags['f']).toBe('77');
    expect(Math.abs(Number(mine.flags['t']) - Number(theirs.flags['t']))).toBeLessThanOrEqual(1);
    expect(Object.keys(mine.flags).sort()).toEqual(Object.keys(theirs.flags).sort());

    // Flags without a value: cas, size, key, opaque: all exact.
    const flags = ['c', 's', 'k', 'Oop1'];
    expect(await r.meta('mg', 'm:a', flags)).toEqual(parseMeta(await c.roundTrip(`mg m:a ${flags.join(' ')}\r\n`)));
    // A miss.
    expect(await r.meta('mg', 'm:none', ['v'])).toEqual(parseMeta(await c.roundTrip('mg m:none v\r\n')));
    expect((await r.meta('mg', 'm:none', ['v'])).status).toBe('EN');

    // ms stores bytes and client flags; the server shows them.
    const val = Buffer.from([0x00, 0x0d, 0x0a, 0xff]);
    const ms = await r.meta('ms', 'm:b', ['F9', 'T0'], val);
    expect(ms).toEqual(parseMeta(await c.roundTrip(Buffer.concat([b('ms m:b2 4 F9 T0\r\n'), val, b('\r\n')]))));
    expect(ms.status).toBe('HD');
    expect(await c.roundTrip('get m:b\r\n')).toEqual(valueReply('m:b', 9, val));
    // ms in add mode (ME) over an existing key: NS; in append mode (MA): HD and the bytes appended.
    expect(await r.meta('ms', 'm:b', ['ME'], 'zz')).toEqual(parseMeta(await c.roundTrip('ms m:b2 2 ME\r\nzz\r\n')));
    expect((await r.meta('ms', 'm:b', ['ME'], 'zz')).status).toBe('NS');
    expect(await r.meta('ms', 'm:b', ['MA'], 'zz')).toEqual(parseMeta(await c.roundTrip('ms m:b2 2 MA\r\nzz\r\n')));
    expect(await c.roundTrip('get m:b\r\n')).toEqual(valueReply('m:b', 9, Buffer.concat([val, b('zz')])));
    expect(await c.roundTrip('get m:b2\r\n')).toEqual(valueReply('m:b2', 9, Buffer.concat([val, b('zz')])));

    // md: HD, then NF.
    expect(await r.meta('md', 'm:b', [])).toEqual({ status: 'HD', flags: {} });
    expect(await ask(c, 'md m:b2\r\n')).toBe('HD\r\n');
    expect(await r.meta('md', 'm:b', [])).toEqual(parseMeta(await c.roundTrip('md m:b2\r\n')));
    expect((await r.meta('md', 'm:b', [])).status).toBe('NF');

    // ma: NF on a miss, auto-create with N/J, then increments.
    expect(await r.meta('ma', 'm:n', ['v'])).toEqual(parseMeta(await c.roundTrip('ma m:n2 v\r\n')));
    expect((await r.meta('ma', 'm:n', ['v'])).status).toBe('NF');
    const viv = ['N0', 'J13', 'v'];
    expect(await r.meta('ma', 'm:n', viv)).toEqual(parseMeta(await c.roundTrip(`ma m:n2 ${viv.join(' ')}\r\n`)));
    const inc = ['D5', 'v'];
    const incMine = await r.meta('ma', 'm:n', inc);
    expect(incMine).toEqual(parseMeta(await c.roundTrip(`ma m:n2 ${inc.join(' ')}\r\n`)));
    expect(incMine.value?.toString()).toBe('18');
  });

  it('binary keys as Buffer: stored under exactly those bytes', async () => {
    const { r, c } = await single();
    const key = Buffer.from([0x80, 0xff, 0xc3, 0x28, 0x21, 0x7e, 0xfe, 0xa0]);
    expect(await r.set(key, 'bin', { flags: 3 })).toBe(true);
    expect(await c.roundTrip(Buffer.concat([b('get '), key, b('\r\n')]))).toEqual(valueReply(key, 3, b('bin')));
    expect((await r.get(key))?.value.toString()).toBe('bin');
    const mg = await r.meta('mg', key, ['v', 'f']);
    expect(mg.value?.toString()).toBe('bin');
    expect(mg.flags['f']).toBe('3');
    // A raw set under the same bytes is what the router reads.
    expect(await ask(c, Buffer.concat([b('set '), key, b(' 5 0 2\r\nhi\r\n')]))).toBe('STORED\r\n');
    expect(await r.get(key)).toEqual({ value: b('hi'), flags: 5 });
    expect(await r.delete(key)).toBe(true);
    expect(await c.roundTrip(Buffer.concat([b('get '), key, b('\r\n')]))).toEqual(b('END\r\n'));

    // 250 bytes is the longest key memcached takes; a 250-byte binary key works end to end.
    const long = Buffer.alloc(250);
    for (let i = 0; i < long.length; i++) long[i] = 0x21 + (i % 0x5e) + (i % 2 === 0 ? 0x80 : 0);
    expect(await r.set(long, 'L')).toBe(true);
    expect(await c.roundTrip(Buffer.concat([b('get '), long, b('\r\n')]))).toEqual(valueReply(long, 0, b('L')));
    expect((await r.get(long))?.value.toString()).toBe('L');

    // A string key is its UTF-8 bytes.
    expect(await r.set('ключ', 'v')).toBe(true);
    expect(await c.roundTrip(Buffer.concat([b('get '), Buffer.from('ключ', 'utf8'), b('\r\n')]))).toEqual(valueReply('ключ', 0, b('v')));
  });

  it('bad keys reject with McrelayError CLIENT_ERROR and the line memcached sends for the same command', async () => {
    const { r, c } = await single();
    const long = 'k'.repeat(251);
    // memcached's own lines for a 251-byte key, per command (the data block of a refused set is read
    // as a command, hence only the first line).
    const theirs = {
      get: await firstLine(c, `get ${long}\r\n`),
      gets: await firstLine(c, `gets ${long}\r\n`),
      set: await firstLine(c, `set ${long} 0 0 1\r\nx\r\n`),
      delete: await firstLine(c, `delete ${long}\r\n`),
      touch: await firstLine(c, `touch ${long} 10\r\n`),
      incr: await firstLine(c, `incr ${long} 1\r\n`),
      mg: await firstLine(c, `mg ${long} v\r\n`),
    };
    const mine = {
      get: await rejection(r.get(long)),
      gets: await rejection(r.gets(long)),
      set: await rejection(r.set(long, 'x')),
      delete: await rejection(r.delete(long)),
      touch: await rejection(r.touch(long, 10)),
      incr: await rejection(r.incr(long, 1)),
      mg: await rejection(r.meta('mg', long, ['v'])),
    };
    for (const [op, line] of Object.entries(theirs)) {
      const err = mine[op as keyof typeof mine];
      expect(err.code, op).toBe('CLIENT_ERROR');
      expect(err.message, op).toBe(line);
    }
    // Nothing of it reached the server.
    expect(await ask(c, `get ${'k'.repeat(250)}\r\n`)).toBe('END\r\n');

    // A key with a space: memcached reads `set a b 0 0 1` as key `a` with flags `b`.
    const spaceLine = await firstLine(c, 'set a b 0 0 1\r\nx\r\n');
    for (const p of [r.set('a b', 'x'), r.get('a b'), r.delete('a b'), r.getMulti(['ok', 'a b']), r.meta('mg', 'a b', ['v'])]) {
      const err = await rejection(p);
      expect(err.code).toBe('CLIENT_ERROR');
      expect(err.message).toBe(spaceLine);
    }
    // Empty keys and control characters are refused the same way.
    for (const k of ['', 'a\r\nb', 'a\x00b', 'tab\t', Buffer.alloc(0)]) {
      const err = await rejection(r.get(k));
      expect(err.code).toBe('CLIENT_ERROR');
      expect(err.message).toMatch(/^CLIENT_ERROR /);
    }
    expect(await ask(c, 'get a\r\n')).toBe('END\r\n');
  });

  it('bad arguments and server-side errors reject with the line memcached sends', async () => {
    const { r, c } = await single();
    await ask(c, 'set n:text 0 0 3\r\nabc\r\nset n:ten 0 0 2\r\n10\r\n');
    // memcached's own errors pass through unchanged.
    const nonNumeric = await rejection(r.incr('n:text', 1));
    expect(nonNumeric.code).toBe('CLIENT_ERROR');
    expect(nonNumeric.message).toBe(await firstLine(c, 'incr n:text 1\r\n'));
    const tooBig = await rejection(r.set('big', Buffer.alloc(2 * 1024 * 1024, 0x61)));
    const rawTooBig = await firstLine(c, Buffer.concat([b(`set big2 0 0 ${2 * 1024 * 1024}\r\n`), Buffer.alloc(2 * 1024 * 1024, 0x61), b('\r\n')]));
    expect(rawTooBig).toMatch(/^SERVER_ERROR /);
    expect(tooBig.code).toBe('SERVER_ERROR');
    expect(tooBig.message).toBe(rawTooBig);
    expect(await ask(c, 'get big\r\n')).toBe('END\r\n');
    // A delta memcached would refuse.
    for (const [delta, text] of [[-1, '-1'], [1.5, '1.5']] as const) {
      const err = await rejection(r.incr('n:ten', delta));
      expect(err.code).toBe('CLIENT_ERROR');
      expect(err.message).toBe(await firstLine(c, `incr n:ten ${text}\r\n`));
    }
    expect(await ask(c, 'get n:ten\r\n')).toBe('VALUE n:ten 0 2\r\n10\r\nEND\r\n');
  });

  /*
   * McrelayError's message is documented as the line memcached would have sent. For client flags memcached
   * refuses, memcached sends `CLIENT_ERROR bad command line format`; the router's own check says
   * `CLIENT_ERROR bad flags` instead.
   */
  it('client flags memcached refuses (-1, 1.5) reject with the line memcached sends for the same set', async () => {
    const { r, c } = await single();
    const theirs: string[] = [];
    const mine: string[] = [];
    for (const [flags, text] of [[-1, '-1'], [1.5, '1.5']] as const) {
      theirs.push(`flags ${text}: ${await firstLine(c, `set fl:a ${text} 0 1\r\nx\r\n`)}`);
      const err = await rejection(r.set('fl:a', 'x', { flags }));
      expect(err.code).toBe('CLIENT_ERROR');
      mine.push(`flags ${text}: ${err.message}`);
    }
    for (const t of theirs) expect(t).toMatch(/: CLIENT_ERROR /);
    // 2^32 does not fit the 32-bit flags: refused (memcached 1.6.18 itself stores it as flags 0).
    expect((await rejection(r.set('fl:a', 'x', { flags: 2 ** 32 }))).code).toBe('CLIENT_ERROR');
    expect(await ask(c, 'get fl:a\r\n')).toBe('END\r\n');
    expect(mine).toEqual(theirs);
  });
});

describe('1. (continued) same-turn calls, stats, close', () => {
  it('300 meta ms and then 300 meta mg in one turn each, on a cold router: every reply is its own key\'s', async () => {
    const { r, c } = await single();
    const n = 300;
    const val = (i: number): string => `val-${i}-${'x'.repeat(i)}`;
    const stored = await Promise.all(Array.from({ length: n }, (_, i) => r.meta('ms', `cm:${i}`, [`F${i}`, 'T0'], val(i))));
    expect(stored.every((x) => x.status === 'HD')).toBe(true);
    for (let i = 0; i < n; i += 1) expect((await c.roundTrip(`get cm:${i}\r\n`)).toString(), `cm:${i}`).toBe(valueReply(`cm:${i}`, i, b(val(i))).toString());
    const got = await Promise.all(Array.from({ length: n }, (_, i) => r.meta('mg', `cm:${i}`, ['v', 'f', 'k'])));
    got.forEach((x, i) => {
      expect(x.value?.toString()).toBe(val(i));
      expect(x.flags).toEqual({ f: String(i), k: `cm:${i}` });
    });
  });

  it('stats(): per-destination sent/replied agree with the server\'s own counters', async () => {
    const { m, r, c } = await single();
    const statsOf = async (): Promise<Map<string, number>> =>
      new Map([...(await ask(c, 'stats\r\n')).matchAll(/^STAT (\S+) (\d+)\r$/gm)].map((x) => [x[1] as string, Number(x[2])]));
    const s0 = await statsOf();
    for (let i = 0; i < 12; i++) await r.set(`sx:${i}`, 'v');
    await Promise.all(Array.from({ length: 20 }, (_, i) => r.get(`sx:${i}`)));
    await r.delete('sx:0');
    const s1 = await statsOf();
    const st = r.stats();
    expect(st.outstanding).toBe(0);
    expect(st.config.generation).toBe(1);
    expect(st.config.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(st.destinations).toHaveLength(1);
    const d = st.destinations[0];
    expect(d?.address).toBe(m.address);
    expect(d?.state).toBe('up');
    expect((s1.get('cmd_set') ?? 0) - (s0.get('cmd_set') ?? 0)).toBe(12);
    expect((s1.get('cmd_get') ?? 0) - (s0.get('cmd_get') ?? 0)).toBe(20);
    expect((s1.get('get_hits') ?? 0) - (s0.get('get_hits') ?? 0)).toBe(12);
    expect((s1.get('delete_hits') ?? 0) - (s0.get('delete_hits') ?? 0)).toBe(1);
    // The router counts keys sent: 12 sets + 20 gets + 1 delete.
    expect(d?.sent).toBe(33);
    expect(d?.replied).toBe(33);
    expect(st.requests.sent).toBe(33);
    expect(st.requests.errors).toBe(0);
  });

  it('close(): calls in flight finish within drainMs, later calls reject, a second close is a no-op', async () => {
    const m = await memcached();
    const r = await createRouter({ config: onePool([m.address]), logLevel: 'silent', serverTimeoutMs: 5_000 });
    expect(await r.set('cl:a', 'A')).toBe(true);
    // One call answered during the drain, one that cannot be (its server is stopped until after it).
    const answered = r.get('cl:a');
    const closing = r.close({ drainMs: 300 });
    expect((await answered)?.value.toString()).toBe('A');
    await closing;
    const after = await rejection(r.get('cl:a'));
    expect(after.message).toMatch(/^SERVER_ERROR /);
    await r.close();

    const r2 = await createRouter({ config: onePool([m.address]), logLevel: 'silent', serverTimeoutMs: 5_000 });
    expect(await r2.set('cl:b', 'B')).toBe(true);
    m.pause();
    const stuck = r2.get('cl:b');
    const t0 = performance.now();
    await r2.close({ drainMs: 200 });
    const err = await rejection(stuck);
    const ms = performance.now() - t0;
    m.resume();
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(2_000);
    expect(err.message).toMatch(/^SERVER_ERROR /);
  });
});

describe('2. placement', () => {
  it('500 keys land on the same server of a 4-server Ch3 pool through the embedded router as through the sidecar', async () => {
    const servers = await Promise.all([0, 1, 2, 3].map(() => memcached()));
    const addresses = servers.map((m) => m.address);
    const config = onePool(addresses);
    const backends = await Promise.all(servers.map((m) => raw(m.port)));
    const keys = Array.from({ length: 500 }, (_, i) => `place:${i}:${(i * 7919).toString(36)}`);

    const r = await router({ config });
    expect(await Promise.all(keys.map((k) => r.set(k, 'x')))).toEqual(keys.map(() => true));
    const embedded = await locate(backends, keys);
    await flushBackends(backends);

    const sidecar = await startRelay({ config });
    cleanup.push(() => sidecar.close());
    const viaSidecar = await placeThrough(sidecar.port, backends, keys);

    expect(embedded.filter((w) => w < 0)).toEqual([]);
    // Every server got a share (a placement that ignored the key would not).
    for (let i = 0; i < 4; i++) expect(embedded.filter((w) => w === i).length, `server ${i}`).toBeGreaterThan(60);
    expect(embedded).toEqual(viaSidecar);

    // The pool's hash: Ch3 (furc over the key bytes, the pool size as range) picks the same index.
    const selector = createSelector({ hashFunc: 'Ch3' }, servers.map((m) => ({ host: m.host, port: m.port })));
    for (let i = 0; i < keys.length; i += 25) {
      const k = Buffer.from(keys[i] as string, 'utf8');
      expect(furcHash(k, 4), keys[i]).toBe(embedded[i]);
      expect(selector.select(k), keys[i]).toBe(embedded[i]);
    }
  });
});

describe('3. batching', () => {
  it('100 get() calls in one turn over a 2-server pool are one get line per destination, all answered right', async () => {
    const servers = await Promise.all([0, 1].map(() => memcached()));
    const relays = await Promise.all(servers.map((m) => countingRelay(m.port)));
    const r = await router({ config: onePool(relays.map((x) => x.address)) });
    const keys = Array.from({ length: 100 }, (_, i) => `batch:${i}`);
    // Cold: the burst queues while the connections are opened, then goes out as one line per server.
    expect(await Promise.all(keys.map((k) => r.get(k)))).toEqual(keys.map(() => undefined));
    expect(relays.map((x) => x.connections())).toEqual([1, 1]);
    expect(relays.map((x) => x.getLines.length)).toEqual([1, 1]);
    expect(relays.flatMap((x) => x.getLines.flat()).sort()).toEqual([...keys].sort());
    const coldLines = relays.map((x) => x.getLines[0]?.length ?? 0);
    expect(await Promise.all(keys.map((k, i) => r.set(k, `value-${i}`, { flags: i })))).toEqual(keys.map(() => true));
    // Which server holds which key, asked of the servers themselves.
    const where = await locate(await Promise.all(servers.map((m) => raw(m.port))), keys);
    const expected = [0, 1].map((s) => keys.filter((_, i) => where[i] === s).sort());
    expect(expected[0]?.length).toBeGreaterThan(10);
    expect(expected[1]?.length).toBeGreaterThan(10);
    for (const x of relays) x.reset();

    const items = await Promise.all(keys.map((k) => r.get(k)));
    items.forEach((item, i) => {
      expect(item?.value.toString(), keys[i]).toBe(`value-${i}`);
      expect(item?.flags).toBe(i);
    });
    relays.forEach((x, s) => {
      expect(x.getLines.length, `get lines at server ${s}`).toBe(1);
      expect([...(x.getLines[0] ?? [])].sort()).toEqual(expected[s]);
      expect([...x.commands.keys()]).toEqual(['get']);
    });
    expect(relays.map((x) => x.getLines[0]?.length)).toEqual(coldLines);
    expect(relays.map((x) => x.connections())).toEqual([1, 1]);
    console.log(`[embedded] batching: 100 concurrent get() → ${relays.map((x, s) => `server ${s}: ${x.getLines.length} line(s), ${x.getLines[0]?.length ?? 0} keys`).join('; ')}`);
  });

  /*
   * targetMaxPendingRequests (--target-max-pending-requests, mcrouter's max_outstanding) counts keys, not
   * lines: merging same-turn gets into one line saves syscalls and parsing, not queue room. With a limit of
   * 10 and 100 get() calls in one turn to one server over a connected destination, the first 10 are
   * queued (and written as one 10-key line) and the other 90 are refused at once, each rejecting with
   * McrelayError (code SERVER_ERROR, result local_error, "SERVER_ERROR Max pending requests (10) reached for
   * destination …"); nothing of them reaches the server. Calls made once the first ten are answered go
   * through again. The same holds before the connection is up (the burst then waits in the destination's
   * queue, capped at 10 as well). A getMulti is one get() per key, so getMulti with more keys for one
   * server than the limit can never succeed: it rejects with the same error. The test measures and
   * prints this rather than assuming it.
   */
  it('targetMaxPendingRequests: 10 with 100 concurrent gets to one server: 10 served in one line, 90 refused per key', async () => {
    const m = await memcached();
    const relay = await countingRelay(m.port);
    const r = await router({ config: onePool([relay.address]), targetMaxPendingRequests: 10 });
    const keys = Array.from({ length: 100 }, (_, i) => `mp:${i}`);
    for (const k of keys) expect(await r.set(k, `v:${k}`)).toBe(true);
    relay.reset();

    const t0 = performance.now();
    const settled = await Promise.allSettled(keys.map((k) => r.get(k)));
    const ms = performance.now() - t0;
    const ok = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [i] : []));
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    const codes = new Map<string, number>();
    for (const e of errors) {
      expect(e).toBeInstanceOf(McrelayError);
      const err = e as McrelayError;
      const key = `${err.code}/${err.result}: ${err.message.replace(/\d+\.\d+\.\d+\.\d+:\d+/, 'ADDR')}`;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    console.log(
      `[embedded] targetMaxPendingRequests=10, 100 concurrent gets to one server: ${ok.length} served, ${errors.length} rejected ` +
        `(${[...codes].map(([k, n]) => `${n}× ${k}`).join('; ')}), get lines at the server: ${relay.getLines.map((l) => l.length).join('+')} keys, ${ms.toFixed(1)} ms`,
    );
    // Served calls got their own values.
    for (const i of ok) expect((settled[i] as PromiseFulfilledResult<{ value: Buffer } | undefined>).value?.value.toString()).toBe(`v:${keys[i] as string}`);
    expect(ok.length).toBe(10);
    expect(ok).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(errors.length).toBe(90);
    expect([...codes.keys()]).toEqual(['SERVER_ERROR/local_error: SERVER_ERROR Max pending requests (10) reached for destination ADDR']);
    // What reached the server: only the served keys, as one line.
    expect(relay.getLines).toEqual([keys.slice(0, 10)]);
    // Afterwards the room is back.
    expect((await r.get('mp:99'))?.value.toString()).toBe('v:mp:99');
    const multi = await rejection(r.getMulti(keys.slice(0, 11)));
    expect(multi.message).toMatch(/^SERVER_ERROR Max pending requests \(10\) reached for destination /);
    // (getMulti rejects at the first refused key; its other ten gets are still in flight for a moment.)
    const drained = Date.now() + 5_000;
    while (r.stats().destinations[0]?.inflight !== 0 && Date.now() < drained) await sleep(5);
    expect((await r.getMulti(keys.slice(0, 10))).size).toBe(10);

    // Cold (no connection yet): the same split.
    const cold = await router({ config: onePool([relay.address]), targetMaxPendingRequests: 10 });
    relay.reset();
    const coldSettled = await Promise.allSettled(keys.map((k) => cold.get(k)));
    const coldOk = coldSettled.flatMap((x, i) => (x.status === 'fulfilled' ? [i] : []));
    console.log(`[embedded] targetMaxPendingRequests=10, cold: ${coldOk.length} served, ${100 - coldOk.length} rejected, get lines ${relay.getLines.map((l) => l.length).join('+')} keys`);
    expect(coldOk).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(relay.getLines).toEqual([keys.slice(0, 10)]);
  });
});

/** What a traffic loop saw: calls that succeeded and failed, misses, and hits with a wrong value. */
interface Loop {
  ok: number;
  failed: number;
  wrong: number;
  misses: number;
  failures: string[];
}

/**
 * `callers` concurrent loops of set(k) then get(k) on fresh keys until `stop()` returns true. A get that
 * finds the key must carry the value just set (a miss is counted, not failed).
 */
async function trafficLoop(r: Router, callers: number, prefix: string, stop: () => boolean): Promise<Loop> {
  const res: Loop = { ok: 0, failed: 0, wrong: 0, misses: 0, failures: [] };
  const note = (err: unknown): void => {
    res.failed++;
    if (res.failures.length < 5) res.failures.push(err instanceof McrelayError ? `${err.code}: ${err.message}` : String(err));
  };
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; !stop(); i++) {
        const k = `${prefix}:${c}:${i}`;
        const v = `v-${c}-${i}`;
        try {
          const stored = await r.set(k, v);
          if (stored) res.ok++;
          else note('set returned false');
          const item = await r.get(k);
          res.ok++;
          if (item === undefined) res.misses++;
          else if (item.value.toString() !== v) res.wrong++;
        } catch (err) {
          note(err);
        }
      }
    }),
  );
  return res;
}

describe('4. failover', () => {
  it('FailoverRoute [main, gutter]: SIGKILL of the main server under a get/set loop, every call succeeds via the gutter', async () => {
    const main = await memcached();
    const gutter = await memcached();
    const r = await router({
      config: {
        pools: { main: { servers: [main.address] }, gutter: { servers: [gutter.address] } },
        route: { type: 'FailoverRoute', children: ['PoolRoute|main', 'PoolRoute|gutter'] },
      },
    });
    const started = Date.now();
    let killedAt = 0;
    const killer = (async () => {
      await sleep(500);
      main.kill();
      killedAt = Date.now();
    })();
    const res = await trafficLoop(r, 8, 'fo', () => Date.now() - started > 2_500);
    await killer;
    console.log(`[embedded] failover: ${res.ok} calls ok, ${res.failed} failed, ${res.misses} misses, ${res.wrong} wrong values; main killed at +${killedAt - started} ms`);
    expect(res.failures).toEqual([]);
    expect(res.failed).toBe(0);
    expect(res.wrong).toBe(0);
    expect(res.ok).toBeGreaterThan(200);
    // The gutter took the writes after the kill: a new set lands there.
    expect(await r.set('fo:after', 'g')).toBe(true);
    const g = await raw(gutter.port);
    expect(await ask(g, 'get fo:after\r\n')).toBe('VALUE fo:after 0 1\r\ng\r\nEND\r\n');
    expect((await r.get('fo:after'))?.value.toString()).toBe('g');
  });
});

describe('5. all servers down', () => {
  const BUDGET_MS = 200 + 50;
  const CODES = ['CONNECT', 'UNAVAILABLE', 'TIMEOUT'];

  /** Each kind of call, twice, one at a time: each must reject with a down-code within the budget. */
  async function everyCallFails(r: Router, label: string): Promise<void> {
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => r.get('down:a')],
      ['set', () => r.set('down:a', 'x')],
      ['delete', () => r.delete('down:a')],
      ['getMulti', () => r.getMulti(['down:a', 'down:b', 'down:c'])],
      ['meta', () => r.meta('mg', 'down:a', ['v'])],
      ['incr', () => r.incr('down:n', 1)],
    ];
    const seen: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [name, call] of calls) {
        const t0 = performance.now();
        const err = await rejection(call());
        const ms = performance.now() - t0;
        seen.push(`${name}:${err.code}:${ms.toFixed(0)}ms`);
        expect(CODES, `${label} ${name}: ${err.code} ${err.message}`).toContain(err.code);
        expect(ms, `${label} ${name} took ${ms.toFixed(1)} ms (${err.code})`).toBeLessThanOrEqual(BUDGET_MS);
      }
    }
    console.log(`[embedded] all down (${label}): ${seen.join(' ')}`);
  }

  it('(a) servers killed (connection refused): every call rejects with CONNECT/UNAVAILABLE within 250 ms', async () => {
    const servers = await Promise.all([0, 1].map(() => memcached()));
    const r = await router({ config: onePool(servers.map((m) => m.address)), serverTimeoutMs: 200 });
    for (let i = 0; i < 10; i++) expect(await r.set(`warm:${i}`, 'x')).toBe(true);
    for (const m of servers) await m.stop();
    // Let the router see the connections close, so every call below meets a refused connect (a call
    // that races the close is the next test).
    await sleep(100);
    await everyCallFails(r, 'killed');
  });

  /*
   * A call already on the wire when its server dies: the connection closes under it. The router's result
   * is mcrouter's for that case (remote_error, "Connection closed by the server."), which codeOf maps to
   * SERVER_ERROR, the code of an error the server itself answered. The server never answered: a caller
   * that retries CONNECT/UNAVAILABLE/TIMEOUT would take this one as final.
   */
  it('a call in flight when its server is SIGKILLed rejects with a connection code, not SERVER_ERROR', async () => {
    const m = await memcached();
    const r = await router({ config: onePool([m.address]), serverTimeoutMs: 1000 });
    expect(await r.set('warm', 'x')).toBe(true);
    m.pause();
    const t0 = performance.now();
    const p = r.get('warm');
    await sleep(50);
    m.kill();
    const err = await rejection(p);
    const ms = performance.now() - t0;
    console.log(`[embedded] in flight at SIGKILL: ${err.code} (${err.result}) "${err.message}" after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(900);
    expect(CODES, `${err.code} ${err.result} ${err.message}`).toContain(err.code);
  });

  it('(b) servers SIGSTOPped (timeouts): every call rejects within 250 ms', async () => {
    const servers = await Promise.all([0, 1].map(() => memcached()));
    const r = await router({ config: onePool(servers.map((m) => m.address)), serverTimeoutMs: 200 });
    for (let i = 0; i < 10; i++) expect(await r.set(`warm:${i}`, 'x')).toBe(true);
    for (const m of servers) m.pause();
    await everyCallFails(r, 'paused');
  });

  it('(b) FailoverRoute of two paused pools: the deadline holds over the failover chain', async () => {
    const a = await memcached();
    const bb = await memcached();
    const r = await router({
      config: {
        pools: { A: { servers: [a.address] }, B: { servers: [bb.address] } },
        route: { type: 'FailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] },
      },
      serverTimeoutMs: 200,
    });
    expect(await r.set('warm', 'x')).toBe(true);
    a.pause();
    bb.pause();
    await everyCallFails(r, 'failover of paused pools');
  });
});

describe('6. reload under traffic', () => {
  it('reload(config) 10 times between two configs (and once with an invalid one) under 50 callers: zero failed calls', async () => {
    const m1 = await memcached();
    const m2 = await memcached();
    const cfgA = onePool([m1.address], 'A');
    const cfgB = onePool([m2.address], 'B');
    const r = await router({ config: cfgA });
    const gen0 = r.stats().config.generation;
    let done = false;
    const traffic = trafficLoop(r, 50, 'rl', () => done);
    const results: boolean[] = [];
    let invalid: boolean | string = 'not tried';
    let keptAfterInvalid: { before: object; after: object } | null = null;
    for (let i = 0; i < 10; i++) {
      await sleep(190);
      results.push(r.reload(i % 2 === 0 ? cfgB : cfgA));
      if (i === 4) {
        const before = r.stats().config;
        try {
          invalid = r.reload({ pools: { A: { servers: 5 } }, route: 'PoolRoute|A' });
        } catch (err) {
          invalid = `threw ${String(err)}`;
        }
        keptAfterInvalid = { before, after: r.stats().config };
      }
    }
    await sleep(150);
    done = true;
    const res = await traffic;
    console.log(`[embedded] reload under traffic: ${res.ok} calls ok, ${res.failed} failed, ${res.misses} misses, ${res.wrong} wrong; generation ${gen0} → ${r.stats().config.generation}`);
    expect(results).toEqual(Array.from({ length: 10 }, () => true));
    expect(invalid).toBe(false);
    expect(keptAfterInvalid?.after).toEqual(keptAfterInvalid?.before);
    expect(res.failures).toEqual([]);
    expect(res.failed).toBe(0);
    expect(res.wrong).toBe(0);
    expect(res.ok).toBeGreaterThan(500);
    expect(r.stats().config.generation).toBe(gen0 + 10);

    // The last config (cfgA: m1) serves, and an invalid reload now leaves it in place.
    expect(r.reload('{"pools": {"A": {"servers": [5]}}, "route": "PoolRoute|A"}')).toBe(false);
    expect(r.reload('{ not json')).toBe(false);
    expect(r.stats().config.generation).toBe(gen0 + 10);
    expect(await r.set('rl:last', 'L')).toBe(true);
    expect(await ask(await raw(m1.port), 'get rl:last\r\n')).toBe('VALUE rl:last 0 1\r\nL\r\nEND\r\n');
    expect(await ask(await raw(m2.port), 'get rl:last\r\n')).toBe('END\r\n');
  });

  /*
   * Router.reload(config) promises false for an invalid config with the old one serving. A config string
   * that names a source the option parser refuses (an etcd URL without a key) throws OptionError out of
   * reload() instead: the check runs before the guarded rebuild.
   */
  it('reload() with an invalid config source returns false and never throws', async () => {
    const m = await memcached();
    const r = await router({ config: onePool([m.address]) });
    const before = r.stats().config;
    const outcomes: string[] = [];
    for (const bad of ['etcd://', 'file:/nonexistent/mcrelay.json', '', '{ not json', '[]']) {
      try {
        outcomes.push(`${JSON.stringify(bad)}: ${String(r.reload(bad))}`);
      } catch (err) {
        outcomes.push(`${JSON.stringify(bad)}: threw ${err instanceof Error ? err.name : String(err)}`);
      }
    }
    expect(r.stats().config).toEqual(before);
    expect(await r.set('still', 'ok')).toBe(true);
    expect(await ask(await raw(m.port), 'get still\r\n')).toBe('VALUE still 0 2\r\nok\r\nEND\r\n');
    expect(outcomes).toEqual(['"etcd://": false', '"file:/nonexistent/mcrelay.json": false', '"": false', '"{ not json": false', '"[]": false']);
  });

  it('a file: config rewritten on disk is picked up (generation grows) under 50 callers: zero failed calls', async () => {
    const m1 = await memcached();
    const m2 = await memcached();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-embedded-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify(onePool([m1.address])));
    const r = await router({ config: `file:${file}`, reconfigurationDelayMs: 100 });
    const gen0 = r.stats().config.generation;
    expect(gen0).toBeGreaterThanOrEqual(1);
    let done = false;
    const traffic = trafficLoop(r, 50, 'fr', () => done);
    const generations: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      // Write a new file and rename it into place, as config deployers do.
      const next = path.join(dir, `next-${i}.json`);
      fs.writeFileSync(next, JSON.stringify(onePool([i % 2 === 0 ? m2.address : m1.address])));
      fs.renameSync(next, file);
      const deadline = Date.now() + 10_000;
      while (r.stats().config.generation < gen0 + i + 1 && Date.now() < deadline) await sleep(20);
      generations.push(r.stats().config.generation);
    }
    // An invalid file: the old config keeps serving.
    fs.writeFileSync(file, '{"pools": {"A": {"servers": 5}}, "route": "PoolRoute|A"}');
    await sleep(600);
    const afterInvalid = r.stats().config.generation;
    done = true;
    const res = await traffic;
    console.log(`[embedded] file: reload under traffic: ${res.ok} calls ok, ${res.failed} failed, ${res.misses} misses; generations ${gen0} → ${generations.join(' → ')}, after an invalid file ${afterInvalid}`);
    expect(generations).toEqual([gen0 + 1, gen0 + 2, gen0 + 3]);
    expect(afterInvalid).toBe(gen0 + 3);
    expect(res.failures).toEqual([]);
    expect(res.failed).toBe(0);
    expect(res.wrong).toBe(0);
    // The last good file pointed at m2.
    expect(await r.set('fr:last', 'L')).toBe(true);
    expect(await ask(await raw(m2.port), 'get fr:last\r\n')).toBe('VALUE fr:last 0 1\r\nL\r\nEND\r\n');
  });
});

describe('7. 1 MB binary values', () => {
  it('a random 1,048,576-byte value and one of all 256 byte values round-trip byte-exact via set/get and ms/mg', async () => {
    const { r, c } = await single(['-I', '2m']);
    const random = randomBytes(1_048_576);
    const every = Buffer.alloc(1_048_576);
    for (let i = 0; i < every.length; i++) every[i] = i & 0xff;
    for (const [name, v] of [['random', random], ['all256', every]] as const) {
      expect(await r.set(`big:${name}`, v, { flags: 11 })).toBe(true);
      // The server holds exactly these bytes.
      expect((await c.roundTrip(`get big:${name}\r\n`)).equals(valueReply(`big:${name}`, 11, v))).toBe(true);
      const got = await r.get(`big:${name}`);
      expect(got?.flags).toBe(11);
      expect(got?.value.length).toBe(v.length);
      expect(got?.value.equals(v)).toBe(true);

      expect(await r.meta('ms', `bigm:${name}`, ['T0', 'F12'], v)).toEqual({ status: 'HD', flags: {} });
      expect((await c.roundTrip(`get bigm:${name}\r\n`)).equals(valueReply(`bigm:${name}`, 12, v))).toBe(true);
      const mg = await r.meta('mg', `bigm:${name}`, ['v', 'f', 's']);
      expect(mg.status).toBe('VA');
      expect(mg.flags).toEqual({ f: '12', s: String(v.length) });
      expect(mg.value?.equals(v)).toBe(true);
    }
    // Concurrent big gets interleaved with small ones on the one connection.
    const many = await Promise.all([r.get('big:random'), r.get('nope'), r.get('big:all256'), r.meta('mg', 'bigm:random', ['v'])]);
    expect(many[0]?.value.equals(random)).toBe(true);
    expect(many[1]).toBeUndefined();
    expect(many[2]?.value.equals(every)).toBe(true);
    expect(many[3].value?.equals(random)).toBe(true);
  });

  it('values of every size class (copied, arena views, own buffers) stay intact after later traffic', async () => {
    const { r } = await single(['-I', '2m']);
    const sizes = [0, 1, 100, 16 * 1024, 16 * 1024 + 1, 20_000, 40_000, 63 * 1024, 64 * 1024, 65 * 1024, 200_000, 1_000_000];
    const values = sizes.map((n) => randomBytes(n));
    expect(await Promise.all(values.map((v, i) => r.set(`sz:${i}`, v)))).toEqual(values.map(() => true));
    const first = await Promise.all(values.map((_, i) => r.get(`sz:${i}`)));
    const firstMeta = await Promise.all(values.map((_, i) => r.meta('mg', `sz:${i}`, ['v'])));
    // Later replies on the same connection must not reuse the bytes the first results point into.
    for (let round = 0; round < 3; round++) {
      await Promise.all(values.map((v, i) => r.set(`sz:${i}`, randomBytes(v.length))));
      await Promise.all(values.map((_, i) => r.get(`sz:${i}`)));
    }
    first.forEach((item, i) => expect(item?.value.equals(values[i] as Buffer), `get, ${sizes[i]} bytes`).toBe(true));
    firstMeta.forEach((res, i) => expect(res.value?.equals(values[i] as Buffer), `mg, ${sizes[i]} bytes`).toBe(true));
  });
});

describe('8. config and option errors', () => {
  it('an invalid config rejects with ConfigError whose path is the JSON pointer', async () => {
    const m = await memcached();
    const cases: [object | string, string][] = [
      [{ pools: { A: { servers: 5 } }, route: 'PoolRoute|A' }, '/pools/A/servers'],
      [{ pools: { A: { servers: [m.address] } }, route: 'PoolRoute|B' }, '/route'],
      [{ pools: { A: { servers: [m.address] } }, route: { type: 'FailoverRoute', children: ['PoolRoute|A', 'NoSuchRoute|x'] } }, '/route/children/1'],
    ];
    for (const [config, pointer] of cases) {
      let err: unknown;
      try {
        const r = await createRouter({ config, logLevel: 'silent' });
        cleanup.push(() => r.close({ drainMs: 0 }));
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(config)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path, JSON.stringify(config)).toBe(pointer);
      expect((err as ConfigError).message.startsWith(`${pointer}: `)).toBe(true);
    }
  });

  it('an unknown option name rejects naming it', async () => {
    const m = await memcached();
    const config = onePool([m.address]);
    const bad = [
      { serverTimeotMs: 200 },
      { ports: [11211] },
    ];
    for (const extra of bad) {
      const name = Object.keys(extra)[0] as string;
      const p = createRouter({ config, logLevel: 'silent', ...extra } as unknown as RouterOptions);
      await expect(p).rejects.toBeInstanceOf(OptionError);
      await expect(p).rejects.toMatchObject({ option: name });
      await expect(p).rejects.toThrow(name);
    }
    // A known option with a value of the wrong type is named too.
    const p = createRouter({ config, logLevel: 'silent', serverTimeoutMs: 'fast' } as unknown as RouterOptions);
    await expect(p).rejects.toMatchObject({ option: 'serverTimeoutMs' });
  });
});
