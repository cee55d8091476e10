/**
 * The top-level schema documents every field, and config/config.schema.json (the editor schema) is exactly
 * what generateEditorSchema() makes from it and the registry. To regenerate after changing a route's schema:
 *
 *     UPDATE_SCHEMA=1 npx vitest run test/unit/config/schema.test.ts
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { SchemaObject } from 'ajv';
import { describe, expect, test } from 'vitest';
import { loadConfigSource } from '../../../src/config/loader.js';
import { generateEditorSchema, POOL_SCHEMA, TOP_LEVEL_SCHEMA } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';
import { ROUTE_FACTORIES } from '../../../src/routes/registry.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SCHEMA_FILE = join(REPO, 'config', 'config.schema.json');
const VALID = join(REPO, 'test', 'fixtures', 'configs', 'valid');

function undocumented(schema: SchemaObject, at: string): string[] {
  const out: string[] = [];
  const props = (schema['properties'] ?? {}) as Record<string, SchemaObject>;
  for (const [k, v] of Object.entries(props)) {
    if (typeof v['description'] !== 'string') out.push(`${at}/${k}`);
  }
  return out;
}

describe('top-level schema', () => {
  test('every top-level and pool field has a description', () => {
    expect([...undocumented(TOP_LEVEL_SCHEMA, ''), ...undocumented(POOL_SCHEMA, '/pools/*')]).toEqual([]);
    expect(TOP_LEVEL_SCHEMA['additionalProperties']).toBe(false);
    expect(POOL_SCHEMA['additionalProperties']).toBe(false);
  });

  test('config/default.yaml is a valid config', () => {
    const r = validateConfig(`file:${join(REPO, 'config', 'default.yaml')}`);
    if (!r.ok) throw r.error;
    expect(r.built.root.defaultRoute.name).toBe('PoolRoute|local');
  });
});

describe('editor schema (config/config.schema.json)', () => {
  const generated = `${JSON.stringify(generateEditorSchema(ROUTE_FACTORIES), null, 2)}\n`;

  test('the committed file is current', () => {
    if (process.env['UPDATE_SCHEMA'] === '1') writeFileSync(SCHEMA_FILE, generated);
    let committed = '';
    try {
      committed = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // reported below
    }
    expect(committed === generated, 'config/config.schema.json is stale; regenerate it with: UPDATE_SCHEMA=1 npx vitest run test/unit/config/schema.test.ts').toBe(true);
  });

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(generated) as SchemaObject);

  test('accepts every valid fixture and the default config', () => {
    const files = readdirSync(VALID).filter((f) => ['.json', '.yaml'].includes(extname(f))).map((f) => join(VALID, f));
    files.push(join(REPO, 'config', 'default.yaml'));
    for (const f of files) {
      const data = JSON.parse(JSON.stringify(loadConfigSource(f).data)) as unknown;
      expect(validate(data), `${f}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  test('rejects unknown types and unknown options of a known type, deep in the tree', () => {
    expect(validate({ route: { type: 'NoSuchRoute' } })).toBe(false);
    expect(validate({ route: { type: 'HashRoute', children: [{ type: 'ErrorRoute', bogus: 1 }] } })).toBe(false);
    expect(validate({ route: { type: 'HashRoute', children: [{ type: 'PoolRoute', pool: 'A', hash: 5 }] } })).toBe(false);
    expect(validate({ route: { type: 'HashRoute', children: [{ type: 'PoolRoute', pool: 'A', hash: 'Crc32' }] } })).toBe(true);
    // Hash names take any letter case, so the schema leaves them to the build, which names the bad one.
    expect(validate({ route: { type: 'HashRoute', children: [{ type: 'PoolRoute', pool: 'A', hash: 'crc32' }] } })).toBe(true);
  });

  test('lists every registered type', () => {
    const text = generated;
    for (const f of ROUTE_FACTORIES) expect(text).toContain(`"${f.type}"`);
  });
});
