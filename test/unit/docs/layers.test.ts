/**
 * The layout README's Layout section describes: each folder under src/ is one layer and imports only from
 * lower layers, so nothing runs back up (and no folder can form a circle with another).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

/** Rank of each layer: a module may import only from a strictly lower rank, or from its own folder. */
const RANK: Record<string, number> = {
  'protocol': 0, 'tls': 0, 'metrics': 0, 'cluster': 0,
  'clock.ts': 0, 'errors.ts': 0, 'config-error.ts': 0.5, 'suggest.ts': 0, 'json-pointer.ts': 0, 'version.ts': 0, 'log.ts': 0,
  'upstream': 1,
  'routes': 2,
  'config': 3,
  'discovery': 4, 'fleet': 4, 'spool': 4,
  'options.ts': 4.5,
  'observe': 5,
  'router': 6,
  'admin': 7,
  'server': 8, 'embedded': 8,
  'import': 8,
  'index.ts': 9, 'cli.ts': 10,
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The layer a path under src/ belongs to: its top folder, or the file itself at the top. */
function layerOf(abs: string): string {
  const rel = path.relative(SRC, abs).split(path.sep);
  return rel[0] as string;
}

describe('layers', () => {
  test('every folder under src/ has a rank, and imports only run downwards', () => {
    const violations: string[] = [];
    for (const f of files(SRC)) {
      const from = layerOf(f);
      const rank = RANK[from];
      if (rank === undefined) {
        violations.push(`${path.relative(SRC, f)}: its layer "${from}" has no rank here (add it to the README's Layout too)`);
        continue;
      }
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(f), (m[1] as string).replace(/\.js$/, '.ts'));
        const to = layerOf(target);
        if (to === from) continue;
        const toRank = RANK[to];
        if (toRank === undefined || toRank >= rank) violations.push(`${path.relative(SRC, f)} (${from}) imports ${m[1]} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  test('the README Layout table names every folder under src/', () => {
    const readme = fs.readFileSync(path.join(SRC, '..', 'README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 5));
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const missing = folders.filter((d) => !layout.includes(`\`${d}/\``));
    expect(missing).toEqual([]);
  });
});
