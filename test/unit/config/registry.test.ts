import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import { createRegistry, ROUTE_FACTORIES } from '../../../src/routes/registry.js';
import { defineRoute } from '../../../src/routes/route-factory.js';
import { NullRoute } from '../../../src/routes/null-route.js';

const fake = (type: string, aliases: string[] = []) =>
  defineRoute<object>({ type, aliases, description: 'x', schema: { type: 'object' }, create: () => new NullRoute() });

describe('registry', () => {
  test('ROUTE_FACTORIES is one alphabetical list of unique types', () => {
    const types = ROUTE_FACTORIES.map((f) => f.type);
    expect(types).toEqual([...types].sort());
    expect(new Set(types).size).toBe(types.length);
    for (const t of ['NullRoute', 'DevNullRoute', 'ErrorRoute', 'HashRoute', 'PoolRoute']) expect(types).toContain(t);
  });

  test('createRegistry indexes types and aliases', () => {
    const reg = createRegistry([fake('ARoute', ['AliasRoute']), fake('BRoute')]);
    expect(reg.get('ARoute')).toBe(reg.get('AliasRoute'));
    expect(reg.get('BRoute')?.type).toBe('BRoute');
    expect(reg.size).toBe(3);
  });

  test('duplicates and reserved names throw MCP_ERR_REGISTRY_DUPLICATE', () => {
    for (const list of [[fake('A'), fake('A')], [fake('A', ['B']), fake('B')], [fake('Pool')]]) {
      let err: unknown;
      try {
        createRegistry(list);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProxyError);
      expect((err as ProxyError).code).toBe('MCP_ERR_REGISTRY_DUPLICATE');
    }
    expect(() => createRegistry([fake('A'), fake('A')])).toThrow('route type "A" of A is already registered by A');
  });

  test('every factory schema compiles under ajv strict mode and documents every option', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true, useDefaults: true, strictRequired: false });
    for (const f of ROUTE_FACTORIES) {
      expect(f.description.length, f.type).toBeGreaterThan(10);
      expect(() => ajv.compile(f.schema), f.type).not.toThrow();
      const props = (f.schema['properties'] ?? {}) as Record<string, { description?: string }>;
      for (const [k, v] of Object.entries(props)) expect(typeof v.description, `${f.type}.${k}`).toBe('string');
    }
  });
});
