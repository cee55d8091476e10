import { mkdtempSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { configErrorOf } from './helpers/config-error.js';
import { parseLenientJson } from '../../../src/config/json-lenient.js';
import { loadConfigSource, parseConfigText } from '../../../src/config/loader.js';

const dir = mkdtempSync(join(tmpdir(), 'mcrelay-loader-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const errorOf = configErrorOf;

describe('loadConfigSource', () => {
  const text = '{"route": "NullRoute"}\n';
  test('file:PATH, a bare path, and a relative path against cwd', () => {
    const p = file('a.json', text);
    for (const spec of [`file:${p}`, p]) {
      const s = loadConfigSource(spec);
      expect(s.sourcePath).toBe(p);
      expect(s.files).toEqual([p]);
      expect(s.text).toBe(text);
      expect(s.data).toEqual({ route: 'NullRoute' });
      expect(s.md5).toBe(createHash('md5').update(text).digest('hex'));
    }
    expect(loadConfigSource('a.json', dir).sourcePath).toBe(p);
    expect(loadConfigSource('file:a.json', dir).sourcePath).toBe(p);
  });

  test('inline JSON (a value starting with "{") and --config-str', () => {
    for (const spec of ['  {"route": "NullRoute"}', { configStr: '{"route": "NullRoute"}' }]) {
      const s = loadConfigSource(spec);
      expect(s.sourcePath).toBeNull();
      expect(s.files).toEqual([]);
      expect(s.data).toEqual({ route: 'NullRoute' });
    }
  });

  test('.yaml and .yml files are YAML, producing the same model', () => {
    const y = loadConfigSource(file('a.yaml', 'route: NullRoute\npools:\n  A: {servers: ["h:1"]}\n'));
    const y2 = loadConfigSource(file('a.yml', 'route: NullRoute\npools:\n  A: {servers: ["h:1"]}\n'));
    const j = loadConfigSource('{"route": "NullRoute", "pools": {"A": {"servers": ["h:1"]}}}');
    expect(y.data).toEqual(j.data);
    expect(y2.data).toEqual(j.data);
  });

  test('an unreadable file is MCP_ERR_CONFIG_READ', () => {
    const e = errorOf(() => loadConfigSource(join(dir, 'missing.json')));
    expect(e.code).toBe('MCP_ERR_CONFIG_READ');
    expect(e.message).toContain('missing.json');
    expect(errorOf(() => loadConfigSource('file:')).code).toBe('MCP_ERR_CONFIG_READ');
  });
});

describe('mcrouter JSON dialect', () => {
  const parse = (t: string) => parseLenientJson(t, 'cfg');
  test('comments and trailing commas; comment markers inside strings are text', () => {
    expect(parse(`// head
      { /* a */ "a": [1, 2, /* x */ 3,], // tail
        "url": "http://x/*y*/", "s": "//", "e": "\\"\\u0041\\n", }
      /* end */`)).toEqual({ a: [1, 2, 3], url: 'http://x/*y*/', s: '//', e: '"A\n' });
  });

  test('values are exactly standard JSON', () => {
    const t = '{"n": [0, -0, 1.5, -2e3, 1E+2, 12345678901234567890], "b": [true, false, null], "o": {}, "l": []}';
    expect(parse(t)).toEqual(JSON.parse(t));
  });

  test.each([
    ['{"a": 1\n "b": 2}', "cfg:2:2: expected ',' or '}' after property value, got \"\\\"\""],
    ['{"a": 1,, }', 'cfg:1:9: expected a property name in double quotes, got ","'],
    ['{a: 1}', 'cfg:1:2: expected a property name in double quotes, got "a"'],
    ['{"a": "x', 'cfg:1:7: unterminated string'],
    ['{"a": 1} /* open', 'cfg:1:10: unterminated /* comment'],
    ['{"a": [1 2]}', "cfg:1:10: expected ',' or ']' after array element, got \"2\""],
    ['{"a": 01}', "cfg:1:8: expected ',' or '}' after property value, got \"1\""],
    ['{"a": .5}', 'cfg:1:7: unexpected "."'],
    ['{"a": NaN}', 'cfg:1:7: unexpected "N"'],
    ['{"a": 1} x', 'cfg:1:10: unexpected "x" after the end of the document'],
    ['', 'cfg:1:1: unexpected end of input'],
    ['{"a": "\\q"}', 'cfg:1:7: bad escape sequence in string'],
    ['{"a": "tab\there"}', 'cfg:1:11: control character in string (use an escape such as \\n)'],
  ])('%j → %s', (t, msg) => {
    const e = errorOf(() => parse(t));
    expect(e.message).toBe(msg);
    expect(e.code).toBe('MCP_ERR_CONFIG_PARSE');
    expect(e.path).toBe('');
  });

  test('__proto__ is rejected with its path; other keys live on null-prototype objects', () => {
    const e = errorOf(() => parse('{"pools": {"A": {"__proto__": {"polluted": 1}}}}'));
    expect(e.message).toBe('/pools/A/__proto__: "__proto__" is not allowed as a key');
    expect(e.code).toBe('MCP_ERR_CONFIG_FORBIDDEN_KEY');
    const v = parse('{"constructor": {"prototype": 1}, "toString": 2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(v['constructor']).toEqual({ prototype: 1 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // a missing key on a config object is undefined, not an Object.prototype member
    expect((parse('{}') as Record<string, unknown>)['hasOwnProperty']).toBeUndefined();
  });

  test('pointer tokens escape "/" and "~"', () => {
    const e = errorOf(() => parse('{"a/b": {"c~d": {"__proto__": 1}}}'));
    expect(e.path).toBe('/a~1b/c~0d/__proto__');
  });
});

describe('YAML', () => {
  test('__proto__ is rejected with its path, YAML objects have null prototypes', () => {
    expect(errorOf(() => parseConfigText('a:\n  - {__proto__: {x: 1}}\n', 'y', true)).message).toBe('/a/0/__proto__: "__proto__" is not allowed as a key');
    const v = parseConfigText('constructor: 1\n', 'y', true) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(v['constructor']).toBe(1);
  });

  test('syntax errors carry line:column', () => {
    expect(errorOf(() => parseConfigText('a: 1\nb: [1\nc: 2\n', 'y.yaml', true)).message).toMatch(/^y\.yaml:3:1: /);
    expect(errorOf(() => parseConfigText('a: 1\na: 2\n', 'y.yaml', true)).message).toMatch(/^y\.yaml:2:1: .*[Uu]nique/);
  });

  test('alias bombs are refused', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    const e = errorOf(() => parseConfigText(bomb, 'y.yaml', true));
    expect(e.code).toBe('MCP_ERR_CONFIG_PARSE');
  });

  test('non-JSON values are refused with their path', () => {
    expect(errorOf(() => parseConfigText('a: [1, .inf]\n', 'y', true)).message).toBe('/a/1: number Infinity is not allowed');
  });
});
