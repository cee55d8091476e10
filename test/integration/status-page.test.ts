/**
 * The status page rendered by a real headless browser (Debian chromium): the DOM after the page's script ran
 * must show pools, destinations with health and latency, prefix hit rates, hot keys, config events and SVG
 * charts. A screenshot is saved to test-output/status-page.png. Skips (with the reason) when chromium is absent.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort, sleep } from './helpers/ports.js';
import { REPO_ROOT, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';

const CHROMIUM = ['chromium', 'chromium-browser'].find((b) => spawnSync('which', [b]).status === 0);
if (CHROMIUM === undefined) process.stdout.write('status-page.test: skipped, no chromium on PATH (apt-get install chromium)\n');

let be: MockMemcached;
let relay: RelayProcess;
let url: string;

function chromium(extra: readonly string[]): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-chromium-'));
  try {
    const r = spawnSync(CHROMIUM as string, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--virtual-time-budget=3000', ...extra, url], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`chromium failed (${String(r.status)}): ${r.stderr}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

describe.runIf(CHROMIUM !== undefined)('status page in headless chromium', () => {
  beforeAll(async () => {
    be = await startMock({ builtin: true });
    const port = await getFreePort();
    relay = await startRelay({ config: { pools: { main: { servers: [be.address] } }, route: 'PoolRoute|main' }, args: ['--admin-port', String(port), '--prefix-stats', '--hot-keys'] });
    url = `http://127.0.0.1:${port}/`;
    const c = await connect(relay.port);
    // Two seconds of traffic so the server-side history has points to chart.
    for (let s = 0; s < 3; s++) {
      let cmds = 'set user:1 0 0 5\r\nalice\r\n';
      for (let i = 0; i < 50; i++) cmds += `get user:1\r\nget user:${i}\r\nget sess:${i % 3}\r\n`;
      await c.roundTrip(cmds);
      await sleep(1000);
    }
    await c.close();
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await be?.close();
  });

  test('the rendered DOM shows every panel with live data', () => {
    const dom = chromium(['--dump-dom']);
    expect(dom).toContain('<title>mcrelay status</title>');
    expect(dom).toMatch(/id="version">[^<]*mcrelay[^<]* \(pid \d+\)</);
    expect(dom).toMatch(new RegExp(`<td><code>${be.address}</code></td><td>main</td><td class="up">up</td><td>\\d+</td><td>\\d+</td>`));
    expect(dom).toContain(`<td>main</td><td><code>${be.address}</code></td>`);
    expect(dom).toMatch(/<td><code>user:<\/code><\/td><td>\d+<\/td><td>\d+%<\/td>/);
    expect(dom).toMatch(/<td><code>sess:<\/code><\/td><td>150<\/td><td>0%<\/td>/);
    expect(dom).toMatch(/<td><code>user:1<\/code><\/td><td>\d+<\/td><td>\d+\.\d%<\/td>/);
    expect(dom).toMatch(/class="ok">loaded md5 [0-9a-f]{8}</);
    expect(dom).toMatch(/<svg id="chart-traffic"[^>]*><polyline[^>]+points="[\d., ]+"/);
    expect(dom).toMatch(/<svg id="chart-latency"[^>]*><polyline/);
    expect(dom).toMatch(/<td>get<\/td><td>\d+<\/td>/);
  });

  test('a screenshot is saved under test-output/', () => {
    const out = path.join(REPO_ROOT, 'test-output', 'status-page.png');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    chromium([`--screenshot=${out}`, '--window-size=1280,900', '--hide-scrollbars']);
    const png = fs.readFileSync(out);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000);
  });
});

test('chromium availability is reported', () => {
  expect(typeof (CHROMIUM ?? 'absent')).toBe('string');
});
