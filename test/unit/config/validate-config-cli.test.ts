/**
 * `mcrelay --validate-config` against one valid and one invalid config (mcrouter's test_validate_config
 * pair): exit 0 and "config is valid", or exit 1 with the exact ConfigError message on stderr.
 * Runs the built CLI (dist/cli.js; built on demand by the integration harness's ensureBuilt()).
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '../../integration/helpers/proxy-harness.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'configs');

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
}

describe('mcrelay --validate-config', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  test('a valid config exits 0', () => {
    const r = run(['--validate-config', '--config', `file:${join(FIXTURES, 'valid', 'prefix-routes.json')}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('config is valid');
  });

  test('an invalid config exits non-zero with the path and message', () => {
    const expected = readFileSync(join(FIXTURES, 'invalid', 'deep-wrong-type.expected'), 'utf8').trim();
    const r = run(['--validate-config', '--config', `file:${join(FIXTURES, 'invalid', 'deep-wrong-type.json')}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(expected);
  });

  test('unknown keys are warnings on stderr with their pointer and a suggestion; exit 0', () => {
    const fixture = join(FIXTURES, 'lenient', 'pool-locality.json');
    const expected = readFileSync(join(FIXTURES, 'lenient', 'pool-locality.warnings'), 'utf8').trimEnd().split('\n');
    const r = run(['--validate-config', '--config', `file:${fixture}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('config is valid\n');
    expect(r.stderr).toBe(expected.map((w) => `mcrelay: warning: ${w}\n`).join(''));
    expect(r.stderr).toContain('did you mean "server_timeout"?');
  });

  test('--validate-config=run validates, then serves; an invalid config still exits 1', async () => {
    expect(run(['--validate-config=run', '--config-str', '{"route": "Nope"}', '-p', '0']).status).toBe(1);
    expect(run(['--validate-config=exit', '--config-str', '{"route": "NullRoute"}']).status).toBe(0);
    const child = spawn(process.execPath, [CLI, '--validate-config=run', '--config-str', '{"route": "NullRoute", "x": 1}', '-p', '0'], { cwd: REPO_ROOT });
    try {
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /"ports":\[(\d+)/.exec(err);
          if (m !== null) {
            clearInterval(timer);
            resolve(Number(m[1]));
          }
        }, 20);
        child.once('exit', (code) => {
          clearInterval(timer);
          reject(new Error(`exited ${String(code)}: ${err}`));
        });
      });
      expect(out).toBe('config is valid\n');
      expect(err).toContain('mcrelay: warning: /x: unknown property "x" ignored\n');
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.write('get k\r\n'));
        s.setEncoding('utf8').once('data', (d: string) => {
          s.destroy();
          resolve(d);
        });
        s.once('error', reject);
      });
      expect(reply).toBe('END\r\n');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('-R is honoured', () => {
    const cfg = '{"routes": {"/dc/c1/": "NullRoute"}}';
    expect(run(['--validate-config', '--config-str', cfg]).status).toBe(1);
    expect(run(['--validate-config', '--config-str', cfg, '-R', '/dc/c1/']).status).toBe(0);
  });
});
