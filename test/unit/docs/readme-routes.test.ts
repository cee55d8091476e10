import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTE_FACTORIES } from '../../../src/routes/registry.js';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');

describe('README route table', () => {
  it('lists exactly the registered route types', () => {
    const text = fs.readFileSync(README, 'utf8');
    const section = text.slice(text.indexOf('## Route handles'), text.indexOf('\n## ', text.indexOf('## Route handles') + 5));
    const listed = [...section.matchAll(/^\| `([A-Za-z0-9]+)`/gm)].map((m) => m[1]).sort();
    const registered = ROUTE_FACTORIES.map((f) => f.type).sort();
    expect(listed).toEqual(registered);
  });
});
