/**
 * One client's malformed meta request must not fail another client's requests (issue 13's report): through a
 * one-server pool, a connection loops on `mg foo O123 qB \r\nmn\r\n` (memcached reads `qB` as the q flag and
 * sends nothing for the miss) while a second connection runs sets and gets. Before the meta grammar check,
 * mcrelay expected a reply to the mg, took the other client's `STORED` for it, reset the shared upstream
 * connection and failed everything in flight with `SERVER_ERROR bad reply from server: reply to mg`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onePoolConfig, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

describe('client isolation on a shared upstream connection', () => {
  let mc: MemcachedServer;
  let relay: RelayProcess;
  beforeAll(async () => {
    mc = await startMemcached();
    relay = await startRelay({ config: onePoolConfig([mc.address]) });
  });
  afterAll(async () => {
    await relay?.close();
    await mc?.stop();
  });

  it('a quiet mg spelled `qB` answers what memcached answers, and the other client sees no error', async () => {
    const direct = await connect(mc.port);
    const hostile = await connect(relay.port);
    const steady = await connect(relay.port);
    const bad = 'mg foo O123 qB \r\nmn\r\n';
    expect((await direct.roundTrip('mg foo O123 qB \r\n')).toString('latin1')).toBe('');
    let stop = false;
    let hostileRounds = 0;
    const hostileLoop = (async () => {
      while (!stop) {
        await hostile.send(bad.repeat(20));
        const got = await hostile.readUntil((buf) => (buf.length >= 80 ? 80 : -1));
        expect(got.toString('latin1')).toBe('MN\r\n'.repeat(20));
        hostileRounds++;
      }
    })();
    const errors: string[] = [];
    for (let i = 0; i < 300; i++) {
      const reply = (await steady.roundTrip(`set iso${i} 0 0 2\r\nv${i % 10}\r\nget iso${i}\r\n`)).toString('latin1');
      const want = `STORED\r\nVALUE iso${i} 0 2\r\nv${i % 10}\r\nEND\r\n`;
      if (reply !== want) errors.push(reply);
    }
    stop = true;
    await hostileLoop;
    expect(errors).toEqual([]);
    expect(hostileRounds).toBeGreaterThan(0);
    for (const c of [direct, hostile, steady]) await c.close();
  });

  it('a burst of invalid meta lines is answered by mcrelay itself, and the connection goes on', async () => {
    const c = await connect(relay.port);
    const reply = await c.roundTrip('mg k B\r\nms k 2 ZZ\r\nab\r\nmd k v v\r\nma k MZ\r\nmg k v\r\n');
    expect(reply.toString('latin1')).toBe(
      'CLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid mode for ma M token\r\nEN\r\n',
    );
    await c.close();
  });
});
