/**
 * The `mcrelay import twemproxy FILE [--pool NAME] [--out-dir DIR]` command (see twemproxy.ts for the
 * translation). A YAML with one pool prints that pool's config on stdout; with several, `--pool NAME` picks
 * one and `--out-dir DIR` writes `DIR/<pool>.json` for each and prints how to start each one. Warnings
 * (what cannot be carried over) go to stderr. Every config is built with `--validate-config`'s check
 * before it is printed, so what the import prints is a config mcrelay accepts.
 *
 * Exit codes: 0 done (warnings or not), 1 the YAML cannot be imported, 64 usage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nearestKey } from '../suggest.js';
import { validateConfig } from '../config/validate.js';
import { ImportError, parseTwemproxyYaml, poolFileName, renderPoolImport, translatePool, type PoolImport } from './twemproxy.js';

export interface ImportIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => string;
  readonly writeFile: (path: string, text: string) => void;
  readonly cwd: string;
}

const PROCESS_IO: ImportIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p, 'utf8'),
  writeFile: (p, t) => {
    mkdirSync(resolve(p, '..'), { recursive: true });
    writeFileSync(p, t);
  },
  cwd: process.cwd(),
};

export const IMPORT_USAGE = [
  'usage: mcrelay import twemproxy FILE [--pool NAME] [--out-dir DIR]',
  '  Prints an mcrelay config that places every key where nutcracker does, for the pool of FILE',
  '  (a nutcracker.yml). mcrelay serves one route tree per process, so each twemproxy pool becomes',
  '  one mcrelay process on that pool\'s port:',
  '  --pool NAME    the pool to import when FILE has several',
  '  --out-dir DIR  write DIR/<pool>.json for every pool and print the command that starts each',
].join('\n');

class UsageProblem extends Error {}

interface ImportArgs {
  readonly file: string;
  readonly pool: string | null;
  readonly outDir: string | null;
}

function parseImportArgs(argv: readonly string[]): ImportArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const [source, ...rest] = argv;
  if (source === undefined) throw new UsageProblem('import: name what to import from (twemproxy)');
  if (source !== 'twemproxy') throw new UsageProblem(`import: cannot import from "${source}" (only "twemproxy")`);
  let file: string | null = null;
  let pool: string | null = null;
  let outDir: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq !== -1 && arg.startsWith('--')) return arg.slice(eq + 1);
      const v = rest[++i];
      if (v === undefined) throw new UsageProblem(`import: ${flag} needs a value`);
      return v;
    };
    if (flag === '--pool') pool = value();
    else if (flag === '--out-dir') outDir = value();
    else if (arg.startsWith('-')) throw new UsageProblem(`import: unknown option ${arg}`);
    else if (file === null) file = arg;
    else throw new UsageProblem(`import: one FILE only (got "${file}" and "${arg}")`);
  }
  if (file === null) throw new UsageProblem('import twemproxy: name the nutcracker.yml to import');
  return { file, pool, outDir };
}

/** Run the command; returns the exit code. `argv` is what follows `import`. */
export function runImportCommand(argv: readonly string[], io: ImportIo = PROCESS_IO): number {
  let args: ImportArgs | 'help';
  try {
    args = parseImportArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageProblem)) throw e;
    io.stderr(`mcrelay ${e.message}\n${IMPORT_USAGE}\n`);
    return 64;
  }
  if (args === 'help') {
    io.stdout(`${IMPORT_USAGE}\n`);
    return 0;
  }
  const path = resolve(io.cwd, args.file);
  try {
    let text: string;
    try {
      text = io.readFile(path);
    } catch (e) {
      throw new ImportError('', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const parsed = parseTwemproxyYaml(text, args.file);
    const names = parsed.pools.map((p) => p.name);
    let chosen = parsed.pools;
    if (args.pool !== null) {
      const wanted = args.pool;
      chosen = parsed.pools.filter((p) => p.name === wanted);
      if (chosen.length === 0) {
        const near = nearestKey(wanted, names);
        io.stderr(`mcrelay import: ${args.file} has no pool "${wanted}"${near === null ? '' : ` (did you mean "${near}"?)`}; its pools: ${names.join(', ')}\n`);
        return 64;
      }
    } else if (parsed.pools.length > 1 && args.outDir === null) {
      io.stderr(`mcrelay import: ${args.file} has ${names.length} pools (${names.join(', ')}). Each twemproxy pool listens on its own ` +
        'port and an mcrelay process serves one route tree, so each pool becomes its own mcrelay: pick one with ' +
        '--pool NAME, or write them all with --out-dir DIR\n');
      return 64;
    }
    const wanted = new Set(chosen.map((p) => p.name));
    for (const w of parsed.warnings) if (w.pool === null || wanted.has(w.pool)) io.stderr(`mcrelay import: warning: ${w.message}\n`);
    const imports = chosen.map((p) => checked(translatePool(p)));
    for (const { imp, built } of imports) {
      for (const w of [...imp.warnings, ...built]) io.stderr(`mcrelay import: warning: pool "${imp.pool.name}": ${w}\n`);
    }
    if (args.outDir === null) {
      const [only] = imports;
      if (only !== undefined) io.stdout(only.text);
      return 0;
    }
    const dir = args.outDir;
    const used = new Set<string>();
    for (const { imp, text: body } of imports) {
      let file = poolFileName(imp.pool.name);
      for (let i = 2; used.has(file); i++) file = poolFileName(`${imp.pool.name}-${i}`);
      used.add(file);
      const out = join(dir, file);
      io.writeFile(resolve(io.cwd, out), body.replace(`--config file:${poolFileName(imp.pool.name)} `, `--config file:${out} `));
      io.stdout(`# pool "${imp.pool.name}" -> ${out}\nmcrelay --config file:${out} ${imp.flags.join(' ')}\n`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    io.stderr(`mcrelay import: ${e.message}\n`);
    return 1;
  }
}

/** Render, then build the text exactly as mcrelay will read it; a config mcrelay refuses is an import error. */
function checked(imp: PoolImport): { imp: PoolImport; text: string; built: readonly string[] } {
  const text = renderPoolImport(imp);
  const res = validateConfig({ configStr: text });
  if (!res.ok) throw new ImportError(imp.pool.where, `pool "${imp.pool.name}": mcrelay refuses the imported config: ${res.error.message}`);
  return { imp, text, built: res.built.warnings };
}
