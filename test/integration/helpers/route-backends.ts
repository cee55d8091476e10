/**
 * Shared setup for the route integration tests: a relay in front of real memcached processes, written to
 * THROUGH the relay and read DIRECTLY from each backend to prove where a key landed (and where it did not).
 *
 * `useRouteBackends()` registers an `afterEach` that undoes, newest first, everything its helpers started
 * (servers, relays, client connections) plus anything a test pushes onto `cleanups`. The protocol helpers
 * below it are plain functions over a {@link RawClient}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterEach, expect } from 'vitest';
import { parseConfigText } from '../../../src/config/loader.js';
import { validateConfig } from '../../../src/config/validate.js';
import { sleep } from './ports.js';
import { REPO_ROOT, startRelay, type RelayProcess } from './proxy-harness.js';
import { connect, type RawClient } from './raw-client.js';
import { startMemcached, type MemcachedServer } from './real-memcached.js';

/** A test file's backends, relays and clients, all stopped after each test. */
export interface RouteBackends {
  /** Run after each test, newest first; the helpers push their own stops here too. */
  readonly cleanups: Array<() => Promise<void> | void>;
  /** Start `n` real memcached servers (resumed if paused, then killed, after the test). */
  servers(n: number): Promise<MemcachedServer[]>;
  /** Start mcrelay with `config` and extra CLI `args`. */
  relay(config: object, args?: string[]): Promise<RelayProcess>;
  /** A raw client connected to `port`. */
  client(port: number): Promise<RawClient>;
  /** Direct clients, one per backend. */
  direct(ss: readonly MemcachedServer[]): Promise<RawClient[]>;
  /** The value of `key` read directly from a backend, or null. */
  directGet(server: { port: number }, key: string): Promise<string | null>;
  /** Remaining TTL of `key` on a backend (`mg <key> t`): -1 = never expires, null = not there. */
  directTtl(server: { port: number }, key: string): Promise<number | null>;
}

/** Call at the top level of a test file: the helpers it returns clean up after each test of that file. */
export function useRouteBackends(): RouteBackends {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });

  async function servers(n: number): Promise<MemcachedServer[]> {
    const out = await Promise.all(Array.from({ length: n }, () => startMemcached()));
    for (const s of out) cleanups.push(() => { s.resume(); return s.stop(); });
    return out;
  }

  async function relay(config: object, args: string[] = []): Promise<RelayProcess> {
    const r = await startRelay({ config, args });
    cleanups.push(() => r.close());
    return r;
  }

  async function client(port: number): Promise<RawClient> {
    const c = await connect(port, { timeoutMs: 5000 });
    cleanups.push(() => c.destroy());
    return c;
  }

  async function direct(ss: readonly MemcachedServer[]): Promise<RawClient[]> {
    return Promise.all(ss.map((s) => client(s.port)));
  }

  async function directGet(server: { port: number }, key: string): Promise<string | null> {
    const c = await client(server.port);
    const r = await cmd(c, `get ${key}`);
    const m = /^VALUE \S+ \d+ \d+\r\n([\s\S]*?)\r\nEND\r\n$/.exec(r);
    return m === null ? null : (m[1] ?? null);
  }

  async function directTtl(server: { port: number }, key: string): Promise<number | null> {
    const c = await client(server.port);
    const r = await cmd(c, `mg ${key} t`);
    const m = /^HD t(-?\d+)/.exec(r);
    return m === null ? null : Number(m[1]);
  }

  return { cleanups, servers, relay, client, direct, directGet, directTtl };
}

/** A reply as text. */
export const text = (b: Buffer): string => b.toString('latin1');

/** One command, its reply as text (everything before the MN the client appends). */
export async function cmd(c: RawClient, line: string): Promise<string> {
  return (await c.roundTrip(`${line}\r\n`)).toString('latin1');
}

/** `set` with flags 0 and `exptime`; the reply as text. */
export async function set(c: RawClient, key: string, value: string, exptime = 0): Promise<string> {
  return cmd(c, `set ${key} 0 ${exptime} ${value.length}\r\n${value}`);
}

/** `set` with `flags` and `exptime`; the reply as text. */
export async function setWithFlags(c: RawClient, key: string, value: string, flags = 0, exptime = 0): Promise<string> {
  return text(await c.roundTrip(`set ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`));
}

/** The value of `key` (null on a miss); throws on any reply that is neither a hit nor a miss. */
export async function get(c: RawClient, key: string): Promise<string | null> {
  const r = text(await c.roundTrip(`get ${key}\r\n`));
  if (r === 'END\r\n') return null;
  const m = /^VALUE \S+ \d+ \d+\r\n([\s\S]*)\r\nEND\r\n$/.exec(r);
  if (m === null) throw new Error(`get ${key}: unexpected reply ${JSON.stringify(r)}`);
  return m[1] ?? '';
}

/** Poll until `check` is true (background copies land asynchronously). */
export async function eventually(check: () => Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`eventually: ${what}`);
}

/** One numeric stat from `stats [group]`; throws when it is missing. */
export async function statValue(c: RawClient, name: string, group = ''): Promise<number> {
  const r = text(await c.roundTrip(`stats${group === '' ? '' : ` ${group}`}\r\n`));
  const m = new RegExp(`STAT ${name} (\\d+)`).exec(r);
  if (m === null) throw new Error(`no stat ${name} in ${r}`);
  return Number(m[1]);
}

/**
 * An examples/ config with its placeholder ports 11311.. replaced by `servers`' ports, then `edit`ed and
 * validated. Asserts first that the example's YAML and JSON forms parse to the same config.
 */
export function example(name: string, servers: readonly { port: number }[], edit: (c: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const dir = path.join(REPO_ROOT, 'examples');
  const jsonText = fs.readFileSync(path.join(dir, `${name}.json`), 'utf8');
  const yamlText = fs.readFileSync(path.join(dir, `${name}.yaml`), 'utf8');
  const fromJson = parseConfigText(jsonText, `${name}.json`, false);
  expect(JSON.parse(JSON.stringify(parseYaml(yamlText)))).toEqual(JSON.parse(JSON.stringify(fromJson)));
  let configText = JSON.stringify(fromJson);
  servers.forEach((s, i) => {
    configText = configText.split(`127.0.0.1:${11311 + i}`).join(`127.0.0.1:${s.port}`);
  });
  const config = JSON.parse(configText) as Record<string, unknown>;
  edit(config);
  const v = validateConfig({ configStr: JSON.stringify(config) });
  if (!v.ok) throw v.error;
  return config;
}
