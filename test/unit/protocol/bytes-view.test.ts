/**
 * view(): a cheaper buf.subarray. It must be a real Buffer that shares the source's memory, for any
 * source (pooled small Buffers with a byteOffset, slices of slices) and when sources alternate (it
 * remembers the last few sources' ArrayBuffers).
 */
import { describe, expect, test } from 'vitest';
import { view } from '../../../src/protocol/bytes.js';

describe('view', () => {
  test('is a Buffer with the bytes of buf[start, end) and every Buffer method', () => {
    const src = Buffer.from('get alpha beta\r\n', 'latin1'); // pooled: byteOffset is usually not 0
    const v = view(src, 4, 9);
    expect(Buffer.isBuffer(v)).toBe(true);
    expect(v instanceof Buffer).toBe(true);
    expect(v.toString('latin1')).toBe('alpha');
    expect(v.equals(Buffer.from('alpha'))).toBe(true);
    expect(v.subarray(1, 3).toString()).toBe('lp');
    expect(v.indexOf(0x68)).toBe(3);
    expect(Buffer.concat([v, Buffer.from('!')]).toString()).toBe('alpha!');
    expect(v.length).toBe(5);
    expect(view(src, 3, 3).length).toBe(0);
  });

  test('shares memory with the source', () => {
    const src = Buffer.alloc(32, 0x61);
    const v = view(src, 10, 20);
    src[10] = 0x7a;
    expect(v[0]).toBe(0x7a);
    v[1] = 0x79;
    expect(src[11]).toBe(0x79);
  });

  test('alternating sources and slices of slices give each source its own bytes', () => {
    const a = Buffer.from('0123456789abcdef');
    const big = Buffer.allocUnsafeSlow(4096).fill(0x2e);
    big.write('XYZ', 1000, 'latin1');
    const b = big.subarray(900, 1100);
    for (let i = 0; i < 50; i++) {
      expect(view(a, i % 10, (i % 10) + 3).toString()).toBe('0123456789abcdef'.slice(i % 10, (i % 10) + 3));
      expect(view(b, 100, 103).toString()).toBe('XYZ');
      expect(view(view(b, 50, 150), 50, 53).toString()).toBe('XYZ');
    }
  });

  test('more sources in turn than it remembers (each from its own pool slab or ArrayBuffer)', () => {
    // Six sources cycled: the remembered four are pushed out in turn, and a source met again after it was
    // pushed out is looked up afresh. Each source's bytes are distinct, so a stale entry would show.
    const sources = Array.from({ length: 6 }, (_, k) => {
      const whole = Buffer.allocUnsafeSlow(256).fill(0x30 + k);
      return whole.subarray(16 * k, 16 * k + 64);
    });
    for (let round = 0; round < 5; round++) {
      const order = round % 2 === 0 ? [0, 1, 2, 3, 4, 5] : [5, 3, 1, 0, 2, 4, 1, 1, 0];
      for (const k of order) {
        const src = sources[k] as Buffer;
        src[7] = 0x41 + k;
        expect(view(src, 6, 9).toString('latin1')).toBe(String.fromCharCode(0x30 + k, 0x41 + k, 0x30 + k));
      }
    }
  });
});
