import { describe, expect, test } from 'vitest';
import { createLogger, prettyLine, setLogLevel } from '../../../src/log.js';

describe('log', () => {
  test('pretty mode: one readable line per record, subsystem in brackets, fields as k=v', () => {
    const lines: string[] = [];
    const log = createLogger('info', { pretty: true, write: (l) => lines.push(l) });
    log.child({ subsystem: 'upstream' }).info({ destination: '127.0.0.1:1', to: 'hard_tko' }, 'destination marked TKO');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  \[upstream\] destination marked TKO destination=127\.0\.0\.1:1 to=hard_tko\n$/);
  });

  test('prettyLine quotes values with spaces and passes non-JSON through', () => {
    expect(prettyLine('{"level":50,"time":"2024-01-01T10:11:12.131Z","msg":"x","err":"a b"}')).toBe('10:11:12.131 ERROR x err="a b"\n');
    expect(prettyLine('not json')).toBe('not json\n');
  });

  test('setLogLevel reaches children and grandchildren created earlier', () => {
    const lines: string[] = [];
    const root = createLogger('info', { write: (l) => lines.push(l) });
    const child = root.child({ subsystem: 'requests' });
    const grand = child.child({ conn: 1 });
    grand.debug('hidden');
    setLogLevel(root, 'debug');
    expect(child.level).toBe('debug');
    grand.debug('shown');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown']);
    expect(() => setLogLevel(root, 'loud')).toThrow(/unknown log level "loud"/);
  });
});
