import { describe, expect, it } from 'vitest';
import { isStrtoull, strtol32, strtoul32 } from '../../../src/protocol/c-numbers.js';
import { decodeBase64Key } from '../../../src/protocol/base64.js';

const at = (s: string): [Buffer, number, number] => {
  const b = Buffer.from(`x${s}y`, 'latin1');
  return [b, 1, b.length - 1];
};

describe('C number parsing (memcached safe_strto*)', () => {
  it('strtol32: sign, whitespace, truncation to 32 bits, 64-bit range', () => {
    const cases: [string, number | null][] = [
      ['0', 0], ['+5', 5], ['-5', -5], ['\t7', 7], ['7\v', 7], ['7\rjunk', 7], ['', null], ['-', null], ['+', null], ['5x', null],
      ['x5', null], ['2147483647', 2147483647], ['2147483648', -2147483648], ['4294967298', 2], ['-4294967297', -1],
      ['9223372036854775807', -1], ['9223372036854775808', null], ['-9223372036854775808', 0], ['-9223372036854775809', null],
      ['000000000000000000000000000001', 1],
    ];
    for (const [text, want] of cases) expect(strtol32(...at(text)), JSON.stringify(text)).toBe(want);
  });

  it('strtoul32: a minus sign only passes for 0 or beyond 2^63; truncation to 32 bits', () => {
    const cases: [string, number | null][] = [
      ['0', 0], ['-0', 0], ['+1', 1], ['-1', null], ['4294967296', 0], ['4294967297', 1], ['18446744073709551615', 4294967295],
      ['18446744073709551616', null], ['-9223372036854775808', null], ['-9223372036854775809', 4294967295],
    ];
    for (const [text, want] of cases) expect(strtoul32(...at(text)), JSON.stringify(text)).toBe(want);
  });

  it('strtoull: the full unsigned 64-bit range', () => {
    const cases: [string, boolean][] = [
      ['18446744073709551615', true], ['18446744073709551616', false], ['-1', false], ['-0', true], ['99999999999999999999', false], ['1a', false],
    ];
    for (const [text, want] of cases) expect(isStrtoull(...at(text)), JSON.stringify(text)).toBe(want);
  });
});

describe('base64 key decoding (memcached base64_decode)', () => {
  const dec = (s: string): string | null => {
    const r = decodeBase64Key(...at(s));
    return r === null ? null : r.toString('latin1');
  };
  it('decodes, skips foreign bytes, stops at the first padded group', () => {
    expect(dec('YmFy')).toBe('bar');
    expect(dec('Zm9vYg==')).toBe('foob');
    expect(dec('Ym!F*y')).toBe('bar');
    expect(dec('YQ==YmFy')).toBe('a');
    expect(dec('YWI=')).toBe('ab');
  });
  it('rejects what memcached rejects', () => {
    for (const bad of ['', 'hit', '!!!!', 'YmF', 'Y===', '====']) expect(dec(bad), bad).toBeNull();
  });
});
