/**
 * The root pino logger. JSON lines on stderr by default; `pretty: true` (`--log-pretty`) renders the same
 * records as one readable line each for a terminal:
 *
 *   12:03:04.120 INFO  [upstream] destination marked TKO destination=127.0.0.1:11211 to=hard_tko
 *
 * Subsystems use child loggers (`log.child({ subsystem })`). Nothing is logged per request at info.
 *
 * Runtime level change: pino children copy their level when created, so `setLogLevel()` walks every child
 * created from the root (tracked through pino's `onChild` hook, weakly, so children can still be collected).
 */
import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  /** One human-readable line per record instead of JSON. */
  readonly pretty?: boolean;
  /** Where lines go (tests); default stderr. */
  readonly write?: (line: string) => void;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'subsystem']);

export const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Format one pino JSON line for a terminal (exported for tests). */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const t = typeof rec['time'] === 'string' ? (rec['time'] as string).slice(11, 23) : new Date(Number(rec['time'] ?? Date.now())).toISOString().slice(11, 23);
  const level = (LEVEL_NAMES[Number(rec['level'])] ?? String(rec['level'])).padEnd(5);
  const sub = typeof rec['subsystem'] === 'string' ? ` [${rec['subsystem']}]` : '';
  let extra = '';
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k)) continue;
    const text = typeof v === 'string' ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v);
    extra += ` ${k}=${text}`;
  }
  return `${t} ${level}${sub} ${String(rec['msg'] ?? '')}${extra}\n`;
}

const children = new WeakMap<Logger, Set<WeakRef<Logger>>>();

function track(root: Logger): (child: Logger) => void {
  const set = new Set<WeakRef<Logger>>();
  children.set(root, set);
  return (child) => {
    set.add(new WeakRef(child));
  };
}

export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  let onChild: ((child: Logger) => void) | undefined;
  const pinoOpts: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    onChild: (child: Logger) => onChild?.(child),
  };
  let root: Logger;
  if (opts.pretty === true || opts.write !== undefined) {
    const write = opts.write ?? ((line: string) => process.stderr.write(line));
    const pretty = opts.pretty === true;
    root = pino(pinoOpts, { write: (s: string) => write(pretty ? prettyLine(s) : s) });
  } else {
    root = pino(pinoOpts, pino.destination({ fd: 2, sync: false }));
  }
  onChild = track(root);
  return root;
}

/** Change the level of `root` and of every child made from it (and their children). */
export function setLogLevel(root: Logger, level: string): void {
  if (!LOG_LEVELS.includes(level)) throw new Error(`unknown log level "${level}" (one of ${LOG_LEVELS.join(', ')})`);
  root.level = level;
  const set = children.get(root);
  if (set === undefined) return;
  for (const ref of set) {
    const c = ref.deref();
    if (c === undefined) set.delete(ref);
    else c.level = level;
  }
}
