import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { PemWatcher, readPem, PemFileError } from '../../../src/tls/pem-files.js';
import { TlsStats } from '../../../src/tls/tls-stats.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-pem-'));
  dirs.push(d);
  return d;
}

describe('readPem', () => {
  test('missing and empty files name the file', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'empty.pem'), '');
    expect(() => readPem({ cert: path.join(d, 'nope.pem'), key: null, ca: null })).toThrow(PemFileError);
    expect(() => readPem({ cert: path.join(d, 'empty.pem'), key: null, ca: null })).toThrow(/empty\.pem is empty/);
    expect(readPem({ cert: null, key: null, ca: null })).toEqual({ cert: null, key: null, ca: null });
  });
});

describe('PemWatcher', () => {
  test('applies on change; a failed apply keeps the old material and is retried on the next change only', () => {
    const d = tmp();
    const cert = path.join(d, 'c.pem');
    const key = path.join(d, 'k.pem');
    fs.writeFileSync(cert, 'one');
    fs.writeFileSync(key, 'one');
    const stats = new TlsStats();
    let fail = false;
    let applied = 0;
    const w = new PemWatcher({ cert, key, ca: null }, 0, () => {
      if (fail) throw new Error('key values mismatch');
      applied++;
    }, pino({ level: 'silent' }), stats, 'server');
    expect(w.check()).toBe(false); // nothing changed
    fs.writeFileSync(cert, 'two-two');
    fail = true;
    expect(w.check()).toBe(false);
    expect(stats.certReloadFailures).toBe(1);
    expect(w.check()).toBe(false); // same files: not retried, not logged again
    expect(stats.certReloadFailures).toBe(1);
    fail = false;
    fs.writeFileSync(key, 'two-two');
    expect(w.check()).toBe(true);
    expect(applied).toBe(1);
    expect(stats.certReloads).toBe(1);
    expect(w.check()).toBe(false);
  });

  test('a symlink swap (Kubernetes ..data style) counts as a change', () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'v1'));
    fs.mkdirSync(path.join(d, 'v2'));
    fs.writeFileSync(path.join(d, 'v1', 'c.pem'), 'v1');
    fs.writeFileSync(path.join(d, 'v2', 'c.pem'), 'v2!');
    fs.symlinkSync('v1', path.join(d, 'data'));
    const cert = path.join(d, 'data', 'c.pem');
    let applied = 0;
    const w = new PemWatcher({ cert, key: null, ca: null }, 0, () => void applied++, pino({ level: 'silent' }), new TlsStats(), 'upstream');
    fs.symlinkSync('v2', path.join(d, 'data.new'));
    fs.renameSync(path.join(d, 'data.new'), path.join(d, 'data'));
    expect(w.check()).toBe(true);
    expect(applied).toBe(1);
  });
});
