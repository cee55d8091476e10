/**
 * Every config under test/fixtures/configs: valid ones must build, invalid ones must fail with exactly the
 * message (JSON pointer included) in their sibling `<name>.expected` file. `{file}` in an expected message
 * stands for the fixture's absolute path. Lenient ones (configs mcrouter runs although they carry keys it
 * does not know, or server forms mcrelay once refused) must build with exactly the warnings, one per line, of
 * their sibling `<name>.warnings` (empty: none).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { validateConfig } from '../../../src/config/validate.js';
import { ConfigError } from '../../../src/config-error.js';

const ROOT = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));
const CONFIG_EXT = new Set(['.json', '.yaml', '.yml']);
const list = (dir: string): string[] => readdirSync(join(ROOT, dir)).filter((f) => CONFIG_EXT.has(extname(f))).sort();

describe('valid fixtures build', () => {
  const files = list('valid');
  test('there are valid fixtures', () => expect(files.length).toBeGreaterThanOrEqual(8));
  test.each(files)('%s', (file) => {
    const r = validateConfig(`file:${join(ROOT, 'valid', file)}`);
    if (!r.ok) throw r.error;
    expect(r.built.root.aliases()).toContain('/././');
  });
});

describe('invalid fixtures fail with the exact error', () => {
  const files = list('invalid');
  test('there are invalid fixtures', () => expect(files.length).toBeGreaterThanOrEqual(20));
  test.each(files)('%s', (file) => {
    const path = join(ROOT, 'invalid', file);
    const expectedFile = join(ROOT, 'invalid', `${basename(file, extname(file))}.expected`);
    expect(existsSync(expectedFile), `${file} needs a sibling ${basename(expectedFile)}`).toBe(true);
    const expected = readFileSync(expectedFile, 'utf8').trimEnd().replaceAll('{file}', path);
    const r = validateConfig(path);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(ConfigError);
    expect(r.error.message).toBe(expected);
    // The path is the pointer the message starts with.
    if (r.error.path !== '') expect(r.error.message.startsWith(`${r.error.path}: `)).toBe(true);
  });
});

describe('lenient fixtures build, with exactly their warnings', () => {
  const files = list('lenient');
  test('there are lenient fixtures', () => expect(files.length).toBeGreaterThanOrEqual(6));
  test.each(files)('%s', (file) => {
    const warningsFile = join(ROOT, 'lenient', `${basename(file, extname(file))}.warnings`);
    expect(existsSync(warningsFile), `${file} needs a sibling ${basename(warningsFile)}`).toBe(true);
    const r = validateConfig(`file:${join(ROOT, 'lenient', file)}`);
    if (!r.ok) throw r.error;
    const expected = readFileSync(warningsFile, 'utf8').trimEnd();
    expect(r.built.warnings).toEqual(expected === '' ? [] : expected.split('\n'));
  });
});
