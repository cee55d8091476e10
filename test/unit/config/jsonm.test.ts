/**
 * JSONM preprocessing (src/config/jsonm.ts): mcrouter's macros, constants, `%param%`, `@calls`, built-ins,
 * `@import`, global constants, and errors that name the JSON pointer and the call chain.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../../src/config-error.js';
import { configErrorOf } from './helpers/config-error.js';
import type { JsonValue } from '../../../src/config/json-lenient.js';
import { jsonmGlobals, parseConfigParams, preprocessConfig, type PreprocessOptions } from '../../../src/config/jsonm.js';
import { loadConfigSource } from '../../../src/config/loader.js';
import { validateConfig } from '../../../src/config/validate.js';
import { Request, type Op } from '../../../src/protocol/types.js';
import { Traversal } from '../../../src/routes/route-handle.js';
import type { RootRoute } from '../../../src/routes/root-route.js';
import { ensureBuilt, REPO_ROOT } from '../../integration/helpers/proxy-harness.js';

const FIX = fileURLToPath(new URL('../../fixtures/configs/jsonm/', import.meta.url));

/** Plain (prototype-bearing) deep copy, so toEqual compares values only. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

/** Expand `{v}` with optional macros; returns the expanded `v`. */
function ex(v: JsonValue, macros?: JsonValue, opts: PreprocessOptions = {}): unknown {
  const doc: Record<string, JsonValue> = { v };
  if (macros !== undefined) doc['macros'] = macros;
  const out = preprocessConfig(doc, opts).data as Record<string, JsonValue>;
  return plain(out['v']);
}

function err(v: JsonValue, macros?: JsonValue, opts: PreprocessOptions = {}): ConfigError {
  return configErrorOf(() => ex(v, macros, opts));
}

const mac = (params: JsonValue[], result: JsonValue): JsonValue => ({ type: 'macroDef', params, result });
const cst = (result: JsonValue): JsonValue => ({ type: 'constDef', result });

function describeTree(root: RootRoute, keys: string[], ops: Op[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    for (const op of ops) {
      const t = new Traversal();
      t.visit(root, Request.synthesize(op, Buffer.from(key), `${op} `, '', null, 0));
      out.push(`${op} ${key}: ${t.nodes.map((n) => `${n.depth}:${n.name}`).join(' ')} -> ${t.destinations.join(',')}`);
    }
  }
  return out;
}

describe('mcrouter.md §1.7 example (4)', () => {
  test('builds to the same tree as its hand-expanded twin', () => {
    const options = { routePrefix: '/a/a/' };
    const macro = validateConfig(`file:${join(FIX, 'example4.json')}`, { options });
    const hand = validateConfig(`file:${join(FIX, 'example4-expanded.json')}`, { options });
    if (!macro.ok) throw macro.error;
    if (!hand.ok) throw hand.error;
    expect(plain(macro.source.data)).toEqual(plain(hand.source.data));
    expect((macro.source.raw as Record<string, unknown>)['macros']).toBeDefined();
    expect((macro.source.data as Record<string, unknown>)['macros']).toBeUndefined();
    expect(macro.built.root.aliases().sort()).toEqual(['/a/a/', '/b/b/', '/c/c/', '/d/d/']);
    const keys = ['/a/a/k', '/b/b/k', '/c/c/k', '/d/d/k', 'plain'];
    const ops: Op[] = ['get', 'set', 'delete'];
    const tree = describeTree(macro.built.root, keys, ops);
    expect(tree).toEqual(describeTree(hand.built.root, keys, ops));
    expect(tree.find((l) => l.startsWith('get /c/c/k'))).toContain('localhost:12347');
    expect([...macro.built.namedHandles.keys()]).toEqual(['all-sync']);
  });
});

describe('definitions and substitution', () => {
  test('macroDef with params, defaults and optionals; inline and object-form calls', () => {
    const macros = {
      pair: mac(['k', 'v'], { '%k%': '%v%' }),
      car: mac(['model', { name: 'color', default: 'green' }, { name: 'year', optional: true }], { model: '%model%', color: '%color%', y: '@defined(year)' }),
    };
    expect(ex('@pair(a,b)', macros)).toEqual({ a: 'b' });
    expect(ex('@car(Mercedes)', macros)).toEqual({ model: 'Mercedes', color: 'green', y: false });
    expect(ex('@car( Mercedes , red , 1999 )', macros)).toEqual({ model: 'Mercedes', color: 'red', y: true });
    expect(ex({ type: 'car', model: 'Audi', color: { rgb: [1, 2, 3] } }, macros)).toEqual({ model: 'Audi', color: { rgb: [1, 2, 3] }, y: false });
    // object-form "vars" are visible in the result
    expect(ex({ type: 'v', vars: { x: 'X' } }, { v: mac([], 'x=%x%') })).toEqual('x=X');
  });

  test('a whole-string %p% inserts any JSON value; inside a string it must be a string (or number)', () => {
    const macros = { list: cst([1, { a: true }]), name: cst('n'), num: cst(7) };
    expect(ex('%list%', macros)).toEqual([1, { a: true }]);
    expect(ex('pre-%name%-%num%', macros)).toBe('pre-n-7');
    expect(err('x%list%', macros).message).toBe('/v: %list% is array; only a string can be part of a longer string');
  });

  test('constants may use other constants and built-ins, in any order, and are expanded once', () => {
    const macros = { b: cst('%a%-b'), a: cst('@str(@add(@int(1),@int(2)))') };
    expect(ex('%b%', macros)).toBe('3-b');
  });

  test('macros may be an array of definition objects (later wins) and call each other', () => {
    const macros = [{ x: mac([], 'one') }, { x: mac([], 'two'), y: mac(['p'], ['@x', '%p%']) }];
    expect(ex('@y(@x())', macros)).toEqual(['two', 'two']);
  });

  test('a macro result does not see the caller\'s variables', () => {
    const macros = { outer: mac(['a'], '@inner()'), inner: mac([], '%a%') };
    expect(err('@outer(1)', macros).message).toBe('/macros/inner/result: unknown parameter or constant %a% (in @inner called at /macros/outer/result; @outer called at /v)');
  });

  test('escapes: \\\\ before @ % ( ) , and itself', () => {
    expect(ex('fake\\@x.y')).toBe('fake@x.y');
    expect(ex('100\\%')).toBe('100%');
    expect(ex('a\\\\b')).toBe('a\\b');
    expect(ex('@id(a\\,b)', { id: mac(['x'], '%x%') })).toBe('a,b');
    expect(ex('@id(f\\(x\\))', { id: mac(['x'], '%x%') })).toBe('f(x)');
  });

  test('nested calls as arguments, keys with substitutions, non-string values untouched', () => {
    const macros = { wrap: mac(['x'], { w: '%x%' }), k: cst('key') };
    expect(ex('@wrap(@wrap(a))', macros)).toEqual({ w: { w: 'a' } });
    expect(ex({ '%k%': [1, null, true, 2.5] }, macros)).toEqual({ key: [1, null, true, 2.5] });
  });

  test('a config without macros comes out equal, and the input is not modified', () => {
    const doc = { pools: { A: { servers: ['h:1'] } }, route: { type: 'PoolRoute', pool: 'A' } } as JsonValue;
    const before = JSON.stringify(doc);
    expect(plain(preprocessConfig(doc).data)).toEqual(JSON.parse(before));
    expect(JSON.stringify(doc)).toBe(before);
  });
});

describe('built-ins', () => {
  const cases: [string, JsonValue, unknown][] = [
    ['int', '@int(42)', 42],
    ['int of a double', { type: 'int', value: 2.9 }, 2],
    ['double', '@double(2.5)', 2.5],
    ['str', '@str(@int(5))', '5'],
    ['bool', '@bool(false)', false],
    ['bool of an int', '@bool(@int(1))', true],
    ['not', '@not(@bool(false))', true],
    ['and', '@and(@bool(true),@bool(false))', false],
    ['or', '@or(@bool(true),@bool(false))', true],
    ['less strings', '@less(bcd,abcd)', false],
    ['less ints', '@less(@int(2),@int(10))', true],
    ['equals', '@equals(a,a)', true],
    ['equals deep', { type: 'equals', A: { x: [1] }, B: { x: [1] } }, true],
    ['if', { type: 'if', condition: '@equals(a,a)', is_true: 'yes', is_false: '@fail(not taken)' }, 'yes'],
    ['if inline', '@if(@bool(false),a,b)', 'b'],
    ['isArray', { type: 'isArray', value: [] }, true],
    ['isBool', '@isBool(@bool(true))', true],
    ['isInt', '@isInt(@int(1))', true],
    ['isDouble', '@isDouble(@double(1.5))', true],
    ['isObject', { type: 'isObject', value: {} }, true],
    ['isString', '@isString(abc)', true],
    ['add/mul', '@add(@mul(@int(2),@int(3)),@int(5))', 11],
    ['sub', '@sub(@int(2),@int(5))', -3],
    ['div truncates', '@div(@int(-7),@int(2))', -3],
    ['mod', '@mod(@int(7),@int(3))', 1],
    ['bitwise', '@bitwiseOr(@bitwiseAnd(@int(12),@int(10)),@bitwiseLeftShift(@int(1),@int(4)))', 24],
    ['keys', { type: 'keys', dictionary: { a: 1, b: 2 } }, ['a', 'b']],
    ['values', { type: 'values', dictionary: { a: 1, b: 2 } }, [1, 2]],
    ['merge lists', { type: 'merge', params: [[1, 2], [3]] }, [1, 2, 3]],
    ['merge objects', { type: 'merge', params: [{ a: 1, b: 2 }, { b: 3, c: 4 }] }, { a: 1, b: 3, c: 4 }],
    ['merge strings', { type: 'merge', params: ['ab', 'cd'] }, 'abcd'],
    ['select object', { type: 'select', dictionary: { a: 1 }, key: 'a' }, 1],
    ['select array negative', { type: 'select', dictionary: [1, 2, 3], key: -1 }, 3],
    ['select default', { type: 'select', dictionary: { a: 1 }, key: 'z', default: 'd' }, 'd'],
    ['slice list (inclusive)', { type: 'slice', dictionary: [1, 2, 3, 4], from: 1, to: 2 }, [2, 3]],
    ['slice string', { type: 'slice', dictionary: 'abcdef', from: 2, to: 3 }, 'cd'],
    ['slice object', { type: 'slice', dictionary: { a: 1, b: 2, c: 3 }, from: 'b', to: 'c' }, { b: 2, c: 3 }],
    ['split', { type: 'split', dictionary: 'a.b.c.', delim: '.' }, ['a', 'b', 'c', '']],
    ['range', '@range(@int(1),@int(3))', [1, 2, 3]],
    ['contains string', '@contains(abacaba,aca)', true],
    ['contains list', { type: 'contains', dictionary: [1, 'x'], key: 'x' }, true],
    ['contains object', { type: 'contains', dictionary: { a: 1 }, key: 'b' }, false],
    ['empty', '@empty()', true],
    ['size', { type: 'size', dictionary: [1, 2] }, 2],
    ['sort', { type: 'sort', dictionary: ['b', 'c', 'a'] }, ['a', 'b', 'c']],
    ['set', { type: 'set', dictionary: { a: 1 }, key: 'b', value: 2 }, { a: 1, b: 2 }],
    ['shuffle keeps the elements', { type: 'sort', dictionary: { type: 'shuffle', dictionary: [3, 1, 2] } }, [1, 2, 3]],
    ['define', { type: 'define', vars: { A: 'B' }, result: '%A%' }, 'B'],
    ['defined', '@defined(nothing)', false],
  ];
  test.each(cases)('%s', (_name, input, expected) => {
    expect(ex(input)).toEqual(expected);
  });

  test('transform: object keys and items, list items', () => {
    expect(ex({ type: 'transform', keyTransform: '%item%', itemTransform: '%key%', dictionary: { a: 'b', b: 'c' } })).toEqual({ b: 'a', c: 'b' });
    expect(ex({ type: 'transform', itemTransform: 'h%item%:11211', dictionary: ['1', '2'] })).toEqual(['h1:11211', 'h2:11211']);
    expect(ex({ type: 'transform', itemName: 'x', keyName: 'i', itemTransform: { i: '%i%', x: '%x%' }, dictionary: ['a'] })).toEqual([{ i: 0, x: 'a' }]);
  });

  test('process folds', () => {
    expect(ex({ type: 'process', initialValue: '', dictionary: ['a', 'b', 'c', 'd'], transform: '%item%%value%' })).toBe('dcba');
  });

  test('foreach: filter, use, top, noMatchResult', () => {
    const from = { a: 1, b: 2, c: 3 };
    expect(ex({ type: 'foreach', from, where: '@less(%item%,@int(3))' })).toEqual({ a: 1, b: 2 });
    expect(ex({ type: 'foreach', from, use: ['%key%'] })).toEqual(['a', 'b', 'c']);
    expect(ex({ type: 'foreach', from: [5, 6, 7], top: 2 })).toEqual([5, 6]);
    expect(ex({ type: 'foreach', from, where: '@bool(false)', noMatchResult: 'none' })).toBe('none');
  });

  test('fail and type errors name the call site', () => {
    expect(err('@fail(stop here)').message).toBe('/v: stop here');
    expect(err({ list: ['@add(1,2)'] }).message).toBe('/v/list/0: @add: A is string, expected an int');
    expect(err('@div(@int(1),@int(0))').message).toBe('/v: @div: division by zero');
    expect(err({ type: 'select', dictionary: [1], key: 3 }).message).toBe('/v: select: index 3 is out of range [0, 1)');
  });
});

describe('global constants', () => {
  test('jsonmGlobals: defaults from -R and host id, --config-params never replace built-ins', () => {
    const g = jsonmGlobals({ routePrefix: '/dc1/c2/', hostId: 17, numProxies: 4, configParams: { env: 'prod', hostid: 'x' } });
    expect(plain(g)).toEqual({
      'default-route': '/dc1/c2/',
      'default-region': 'dc1',
      'default-cluster': 'c2',
      hostid: 17,
      'router-name': 'unknown',
      'service-name': 'unknown',
      'service-router-capable': 0,
      'router-info-name': 'Memcache',
      'num-proxies': 4,
      env: 'prod',
    });
    expect(ex('%default-region%/%env%/%router-info-name%', undefined, { globals: g })).toBe('dc1/prod/Memcache');
  });

  test('parseConfigParams', () => {
    expect(plain(parseConfigParams('a:1, b:x:y,'))).toEqual({ a: '1', b: 'x:y' });
    expect(() => parseConfigParams('nocolon')).toThrow('--config-params: expected name:value, got "nocolon"');
  });
});

describe('@import', () => {
  test('a pool list from a file; the file is watched; --config-params choose the pool', () => {
    const path = join(FIX, 'import-pools.json');
    const r = validateConfig(`file:${path}`);
    if (!r.ok) throw r.error;
    expect([...r.built.pools.keys()].sort()).toEqual(['main', 'spare']);
    expect(r.built.pools.get('main')?.servers.map((s) => s.address)).toEqual(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']);
    expect(r.source.files).toEqual([path, join(FIX, 'shared', 'pools.json')]);
    const spare = validateConfig(`file:${path}`, { options: { configParams: { pool: 'spare' } } });
    if (!spare.ok) throw spare.error;
    expect(plain((spare.source.data as Record<string, unknown>)['route'])).toBe('PoolRoute|spare');
  });

  const dir = mkdtempSync(join(tmpdir(), 'mcrelay-jsonm-'));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('file: prefix, default when missing (still watched), errors inside the import', () => {
    write('list.json', '["a:1", /* comment */ "b:2",]');
    write('bad.json', '{"x": "@nope()"}');
    write('self.json', '"@import(self.json)"');
    const main = write('main.json', JSON.stringify({
      pools: { A: { servers: '@import(file:list.json)' }, B: { servers: { type: 'import', path: 'missing.json', default: ['c:3'] } } },
      route: 'PoolRoute|A',
    }));
    const s = loadConfigSource(`file:${main}`);
    expect(plain(s.data)).toEqual({ pools: { A: { servers: ['a:1', 'b:2'] }, B: { servers: ['c:3'] } }, route: 'PoolRoute|A' });
    expect(s.files).toEqual([main, join(dir, 'list.json'), join(dir, 'missing.json')]);

    const e1 = write('e1.json', '{"route": "@import(bad.json)"}');
    expect(() => loadConfigSource(e1)).toThrow(new ConfigError('/route', `@import: in ${join(dir, 'bad.json')} at /x: unknown macro "nope"`));
    const e2 = write('e2.json', '{"route": "@import(missing.json)"}');
    expect(() => loadConfigSource(e2)).toThrow(/^\/route: @import: cannot import "missing.json": ENOENT/);
    const e3 = write('e3.json', '{"route": "@import(self.json)"}');
    expect(() => loadConfigSource(e3)).toThrow(`imports itself`);
  });

  test('an inline config imports relative to cwd', () => {
    write('r.json', '"NullRoute"');
    expect(plain(loadConfigSource('{"route": "@import(r.json)"}', dir).data)).toEqual({ route: 'NullRoute' });
  });
});

describe('errors name where', () => {
  test('unknown macro inside a macro: the definition path, then the call chain', () => {
    const r = validateConfig(join(FIX, 'macros-broken.json'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toBe('/macros/policy/result/pool: unknown macro "nosuch" (in @policy called at /route)');
    expect(r.error.path).toBe('/macros/policy/result/pool');
  });

  test.each<[string, JsonValue, JsonValue | undefined, string]>([
    ['unknown macro', { a: ['@x(1)'] }, undefined, '/v/a/0: unknown macro "x"'],
    ['unknown parameter', 'a%b%c', undefined, '/v: unknown parameter or constant %b%'],
    ['unmatched %', 'a%b', undefined, '/v: unmatched "%" in "a%b" (write \\\\% for a literal %)'],
    ['too many arguments', '@m(1,2)', { m: mac(['a'], '%a%') }, '/v: @m takes 1 argument, got 2'],
    ['too few arguments', '@m()', { m: mac(['a', 'b'], '%a%') }, '/v: @m takes 2 arguments, got 1'],
    ['missing object parameter', { type: 'm' }, { m: mac(['a'], '%a%') }, '/v: macro "m": parameter "a" is missing'],
    ['no closing bracket', '@m(a', { m: mac(['a'], '%a%') }, '/v: no closing ")" in the call "@m(a"'],
    ['bad definition type', 'x', { m: { type: 'macro', result: 1 } }, '/macros/m/type: definition "m": type must be "macroDef" or "constDef", got "macro"'],
    ['required after optional', 'x', { m: mac([{ name: 'a', default: 1 }, 'b'], 1) }, '/macros/m/params/1: macro "m": required parameter "b" follows an optional one'],
    ['constant cycle', '%a%', { a: cst('%b%'), b: cst('%a%') }, '/macros/a/result: constant "a" refers to itself (in %b% called at /macros/a/result; %a% called at /v)'],
    ['forbidden key', { '%k%': 1 }, { k: cst('__proto__') }, '/v/%k%: the key "%k%" expands to the forbidden key "__proto__"'],
  ])('%s', (_name, v, macros, message) => {
    const e = err(v, macros);
    expect(e.message).toBe(message);
    expect(e.message.startsWith(`${e.path}: `)).toBe(true);
  });

  test('recursion is bounded', () => {
    const e = err('@loop(x)', { loop: mac(['a'], '@loop(%a%)') });
    expect(e.message).toMatch(/^\/macros\/loop\/result: macros nest more than 200 deep \(a cycle\? \.\.\. @loop → @loop/);
    // terminating recursion is fine
    const count = mac(['n'], { type: 'if', condition: '@equals(%n%,@int(0))', is_true: [], is_false: { type: 'merge', params: [['%n%'], '@count(@sub(%n%,@int(1)))'] } });
    expect(ex('@count(@int(3))', { count })).toEqual([3, 2, 1]);
  });
});

describe('mcrelay --validate-config on macro configs', () => {
  const CLI = join(REPO_ROOT, 'dist', 'cli.js');
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  test('example (4) is valid with -R /a/a/', () => {
    const r = run(['--validate-config', '--config', `file:${join(FIX, 'example4.json')}`, '-R', '/a/a/']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('config is valid');
  });

  test('--config-params reaches the preprocessor; a macro error exits 1 with its path', () => {
    const cfg = '{"route": "PoolRoute|%pool%", "pools": {"p1": {"servers": ["h:1"]}}}';
    expect(run(['--validate-config', '--config-str', cfg]).stderr).toContain('/route: unknown parameter or constant %pool%');
    expect(run(['--validate-config', '--config-str', cfg, '--config-params', 'pool:p1']).status).toBe(0);
    const bad = run(['--validate-config', '--config', join(FIX, 'macros-broken.json')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('/macros/policy/result/pool: unknown macro "nosuch" (in @policy called at /route)');
  });
});
