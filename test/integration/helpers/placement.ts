/**
 * Where keys land, read back from the servers themselves: set every key through a proxy (pipelined), then
 * ask each backend directly which keys it holds (`mg <key> k`). Shared by the placement comparisons with
 * nutcracker (placement-nutcracker, import-twemproxy).
 */
import { expect } from 'vitest';
import { connect, type RawClient } from './raw-client.js';

/** For each key, the index in `backends` of the one holding it, or -1 (a key on two backends fails). */
export async function locate(backends: readonly RawClient[], keys: readonly string[]): Promise<number[]> {
  const where = new Array<number>(keys.length).fill(-1);
  for (let b = 0; b < backends.length; b++) {
    const c = backends[b] as RawClient;
    const out = await c.roundTrip(keys.map((k) => `mg ${k} k\r\n`).join(''), 20_000);
    const lines = out.toString('utf8').split('\r\n').filter((l) => l.length > 0);
    expect(lines.length).toBe(keys.length);
    lines.forEach((l, i) => {
      if (l.startsWith('HD')) {
        expect(where[i], `key ${keys[i]} on two backends`).toBe(-1);
        where[i] = b;
      }
    });
  }
  return where;
}

/** Set every key through the proxy on `port`, then locate them on `backends`. */
export async function placeThrough(port: number, backends: readonly RawClient[], keys: readonly string[]): Promise<number[]> {
  const client = await connect(port);
  try {
    await client.send(keys.map((k) => `set ${k} 0 0 1\r\nx\r\n`).join(''));
    const reply = await client.read('STORED\r\n'.length * keys.length, 20_000);
    expect(reply.toString()).toBe('STORED\r\n'.repeat(keys.length));
  } finally {
    client.destroy();
  }
  return locate(backends, keys);
}

/** Empty every backend between comparisons. */
export async function flushBackends(backends: readonly RawClient[]): Promise<void> {
  for (const c of backends) expect((await c.roundTrip('flush_all\r\n')).toString()).toBe('OK\r\n');
}
