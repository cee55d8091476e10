/**
 * The WebAssembly MurmurHash64A / furc rehash must match the JS version (murmur64a.ts) bit for bit, for
 * every length (the 1..7-byte tail is a masked 8-byte load), offset and seed; and the staged key window
 * must be read only for ranges inside it.
 */
import { describe, expect, test } from 'vitest';
import { createWasmFurc, stageKeys, unstageKeys } from '../../../src/routes/hash/murmur64a-wasm.js';
import { murmur64aInto, murmur64aRehashInto, rehashInit } from '../../../src/routes/hash/murmur64a.js';
import { FURC_SEED, furcHash, furcUsesWasm } from '../../../src/routes/hash/furc.js';
import { Rng } from '../../fuzz/fuzz-lib.js';

const wasm = createWasmFurc(FURC_SEED);

function jsHash(buf: Uint8Array, off: number, len: number, seed: number): [number, number] {
  const out = new Uint32Array(2);
  murmur64aInto(buf, off, len, 0, seed >>> 0, out, 0);
  return [out[0] as number, out[1] as number];
}

describe('murmur64a in WebAssembly', () => {
  test('is available on this Node, and furc uses it', () => {
    expect(wasm).not.toBeNull();
    expect(furcUsesWasm()).toBe(true);
  });

  test('equals the JS version for lengths 0..300 at odd offsets, for several seeds', () => {
    const w = wasm!;
    const rng = new Rng(7);
    const buf = Buffer.alloc(400);
    for (let i = 0; i < buf.length; i++) buf[i] = rng.int(256);
    for (const seed of [0, 1, FURC_SEED, 0xffffffff, 2718281828]) {
      for (let len = 0; len <= 300; len++) {
        const off = rng.int(90);
        expect(w.hash(buf, off, len, seed)).toBe(true);
        expect({ seed, len, h: [w.stream[0], w.stream[1]] }).toEqual({ seed, len, h: jsHash(buf, off, len, seed) });
      }
    }
  });

  test('the rehash chain equals the JS version', () => {
    const w = wasm!;
    const [hi, lo] = rehashInit(FURC_SEED);
    const js = new Uint32Array(600);
    w.hash(Buffer.from('chain start'), 0, 11, FURC_SEED);
    js[0] = w.stream[0] as number;
    js[1] = w.stream[1] as number;
    for (let k = 1; k < 300; k++) murmur64aRehashInto(js[2 * k - 2]!, js[2 * k - 1]!, hi, lo, js, 2 * k);
    w.fill(1, 299);
    expect(Array.from(w.stream.subarray(0, 600))).toEqual(Array.from(js));
  });

  test('declines keys longer than its copy area (the caller hashes those in JS)', () => {
    expect(wasm!.hash(Buffer.alloc(5000, 1), 0, 5000, FURC_SEED)).toBe(false);
    // furc still places them (through the JS version), consistently.
    const long = Buffer.alloc(5000, 7);
    expect(furcHash(long, 1 << 23)).toBe(furcHash(Buffer.from(long), 1 << 23));
  });
});

describe('the staged key window', () => {
  const line = Buffer.from('get alpha beta:1 gamma|#|x delta\r\n', 'latin1');
  const ranges: Array<[number, number]> = [[4, 9], [10, 16], [17, 26], [27, 32]];
  const M = 1 << 23;

  test('hashes of ranges inside it read the staged copy; outside it and after unstaging, the buffer', () => {
    const want = ranges.map(([s, e]) => furcHash(line.subarray(s, e), M));
    const buf = Buffer.from(line);
    stageKeys(buf, 4, 27); // the first three keys
    try {
      expect(ranges.map(([s, e]) => furcHash(buf, M, e - s, s))).toEqual(want);
      // Proof the staged copy is what is read: change the buffer (which the contract forbids) and the
      // ranges inside the window still hash as staged, while the range outside sees the change.
      buf.fill(0x41, 4, 32);
      expect(furcHash(buf, M, 5, 4)).toBe(want[0]);
      expect(furcHash(buf, M, 9, 17)).toBe(want[2]);
      expect(furcHash(buf, M, 5, 27)).toBe(furcHash(Buffer.from('AAAAA'), M));
      // Another buffer with the same offsets is not the staged one.
      const other = Buffer.from(line).fill(0x42, 4, 9);
      expect(furcHash(other, M, 5, 4)).toBe(furcHash(Buffer.from('BBBBB'), M));
    } finally {
      unstageKeys();
    }
    expect(furcHash(buf, M, 5, 4)).toBe(furcHash(Buffer.from('AAAAA'), M));
  });

  test('a range that straddles the window edge is hashed from the buffer', () => {
    const buf = Buffer.from(line);
    stageKeys(buf, 4, 12); // ends inside "beta:1"
    try {
      expect(furcHash(buf, M, 6, 10)).toBe(furcHash(Buffer.from('beta:1'), M));
      buf[15] = 0x39; // "beta:9": read from the buffer, so the change shows
      expect(furcHash(buf, M, 6, 10)).toBe(furcHash(Buffer.from('beta:9'), M));
    } finally {
      unstageKeys();
    }
  });
});
