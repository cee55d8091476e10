/**
 * The JSON dialect of mcrouter configs: standard JSON plus `//` and `/* *\/` comments and trailing commas
 * in arrays and objects. A small recursive-descent parser rather than "strip, then JSON.parse", because
 * V8's JSON.parse messages often carry no position ("Unexpected token 'x', ... is not valid JSON"), and
 * config errors must say line:column.
 *
 * Objects are created with a null prototype, and a `__proto__` key is rejected with its JSON pointer, so
 * no config can reach Object.prototype. String escapes and numbers are decoded by JSON.parse on the exact
 * token, so values are bit-identical to standard JSON.
 */
import { ConfigError, joinPointer } from '../config-error.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Keys no config object may have (they would reach Object.prototype in careless code). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__']);

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** 1-based line and column of offset `pos` in `text`. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

/**
 * Parse `text`. `source` names it in error messages (`config.json:3:7: expected ',' or '}'`).
 * @throws ConfigError (path '') with code MCP_ERR_CONFIG_PARSE, or MCP_ERR_CONFIG_FORBIDDEN_KEY with the key's path
 */
export function parseLenientJson(text: string, source: string): JsonValue {
  let pos = 0;

  const fail = (msg: string, at: number = pos): never => {
    const { line, column } = lineColumn(text, at);
    throw new ConfigError('', `${source}:${line}:${column}: ${msg}`, 'MCP_ERR_CONFIG_PARSE');
  };

  const describe = (at: number): string => (at >= text.length ? 'end of input' : JSON.stringify(text[at]));

  const skip = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) {
        pos++;
      } else if (c === 47 /* / */) {
        const n = text.charCodeAt(pos + 1);
        if (n === 47) {
          const end = text.indexOf('\n', pos + 2);
          pos = end === -1 ? text.length : end + 1;
        } else if (n === 42 /* * */) {
          const end = text.indexOf('*/', pos + 2);
          if (end === -1) fail('unterminated /* comment');
          pos = end + 2;
        } else {
          return;
        }
      } else {
        return;
      }
    }
  };

  const parseString = (): string => {
    const start = pos;
    pos++; // opening quote
    for (;;) {
      const c = text.charCodeAt(pos);
      if (Number.isNaN(c)) fail('unterminated string', start);
      if (c === 34) break;
      if (c === 92) pos += 2;
      else if (c < 0x20) fail('control character in string (use an escape such as \\n)');
      else pos++;
    }
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      return fail('bad escape sequence in string', start);
    }
  };

  const parseValue = (path: string): JsonValue => {
    skip();
    const c = text[pos];
    switch (c) {
      case '{': {
        pos++;
        const obj = Object.create(null) as { [k: string]: JsonValue };
        skip();
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        for (;;) {
          skip();
          if (text[pos] !== '"') fail(`expected a property name in double quotes, got ${describe(pos)}`);
          const key = parseString();
          const childPath = joinPointer(path, key);
          if (FORBIDDEN_KEYS.has(key)) {
            throw new ConfigError(childPath, `"${key}" is not allowed as a key`, 'MCP_ERR_CONFIG_FORBIDDEN_KEY');
          }
          skip();
          if (text[pos] !== ':') fail(`expected ':' after property name, got ${describe(pos)}`);
          pos++;
          obj[key] = parseValue(childPath);
          skip();
          if (text[pos] === ',') {
            pos++;
            skip();
            if (text[pos] === '}') {
              pos++;
              return obj;
            }
          } else if (text[pos] === '}') {
            pos++;
            return obj;
          } else {
            fail(`expected ',' or '}' after property value, got ${describe(pos)}`);
          }
        }
      }
      case '[': {
        pos++;
        const arr: JsonValue[] = [];
        skip();
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        for (;;) {
          arr.push(parseValue(joinPointer(path, arr.length)));
          skip();
          if (text[pos] === ',') {
            pos++;
            skip();
            if (text[pos] === ']') {
              pos++;
              return arr;
            }
          } else if (text[pos] === ']') {
            pos++;
            return arr;
          } else {
            fail(`expected ',' or ']' after array element, got ${describe(pos)}`);
          }
        }
      }
      case '"':
        return parseString();
      case 't':
        if (text.startsWith('true', pos)) {
          pos += 4;
          return true;
        }
        break;
      case 'f':
        if (text.startsWith('false', pos)) {
          pos += 5;
          return false;
        }
        break;
      case 'n':
        if (text.startsWith('null', pos)) {
          pos += 4;
          return null;
        }
        break;
      default: {
        NUMBER_RE.lastIndex = pos;
        const m = NUMBER_RE.exec(text);
        if (m !== null) {
          pos += m[0].length;
          return Number(m[0]);
        }
      }
    }
    return fail(`unexpected ${describe(pos)}`);
  };

  const value = parseValue('');
  skip();
  if (pos < text.length) fail(`unexpected ${describe(pos)} after the end of the document`);
  return value;
}

/**
 * Copy a plain JS value (from YAML) into the same model: null-prototype objects, `__proto__` rejected,
 * only JSON types. `Map`s (yaml's mapAsMap output) become objects with string keys.
 */
export function toJsonModel(value: unknown, path: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigError(path, `number ${value} is not allowed`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => toJsonModel(v, joinPointer(path, i)));
  if (value instanceof Map) {
    const obj = Object.create(null) as { [k: string]: JsonValue };
    for (const [k, v] of value) {
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') {
        throw new ConfigError(path, 'mapping keys must be scalars');
      }
      const key = String(k);
      const childPath = joinPointer(path, key);
      if (FORBIDDEN_KEYS.has(key)) throw new ConfigError(childPath, `"${key}" is not allowed as a key`, 'MCP_ERR_CONFIG_FORBIDDEN_KEY');
      obj[key] = toJsonModel(v, childPath);
    }
    return obj;
  }
  if (value === undefined) return null;
  throw new ConfigError(path, `unsupported value of type ${typeof value === 'object' ? value.constructor?.name ?? 'object' : typeof value}`);
}
