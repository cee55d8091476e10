/**
 * The root pino logger. JSON lines on stderr; subsystems use child loggers (`log.child({subsystem})`).
 * Nothing is logged per request at info.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything (tests, --validate-config). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
