import { describe, expect, test } from 'vitest';
import { acquireBlock, blockClass, blockPoolStats, MAX_POOLED, releaseBlock } from '../../../src/protocol/block-pool.js';

describe('block-pool', () => {
  test('size classes are quarter steps of a power of two, never smaller than asked and under 25 % waste', () => {
    expect(blockClass(1)).toBe(8192);
    expect(blockClass(8192)).toBe(8192);
    expect(blockClass(8193)).toBe(10240);
    expect(blockClass(102_402)).toBe(114_688);
    expect(blockClass(131_072)).toBe(131_072);
    expect(blockClass(131_073)).toBe(163_840);
    for (let n = 4096; n < 3_000_000; n = Math.ceil(n * 1.013) + 7) {
      const c = blockClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      if (n > 8192) expect((c - n) / n).toBeLessThan(0.25);
    }
  });

  test('a released block is handed out again for a request of its class, with the length asked for', () => {
    const a = acquireBlock(100_000);
    expect(a.length).toBe(100_000);
    expect(a.byteOffset).toBe(0);
    a.fill(7);
    const before = blockPoolStats();
    releaseBlock(a.subarray(10, 20)); // any view of the block gives it back
    expect(blockPoolStats().freeBytes).toBe(before.freeBytes + blockClass(100_000));
    const b = acquireBlock(101_000); // same class
    expect(blockPoolStats().reused).toBe(before.reused + 1);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(101_000);
    expect(blockPoolStats().freeBytes).toBe(before.freeBytes);
  });

  test('a second release of the same block, and releases of foreign buffers, change nothing', () => {
    const a = acquireBlock(50_000);
    releaseBlock(a);
    const once = blockPoolStats().freeBytes;
    releaseBlock(a);
    expect(blockPoolStats().freeBytes).toBe(once);
    releaseBlock(Buffer.allocUnsafeSlow(50_000));
    releaseBlock(Buffer.alloc(60_000));
    expect(blockPoolStats().freeBytes).toBe(once);
    // Taken again, then it is ours once more (and one release returns it).
    const b = acquireBlock(50_000);
    expect(b.buffer).toBe(a.buffer);
    expect(blockPoolStats().freeBytes).toBe(once - blockClass(50_000));
    releaseBlock(b);
    expect(blockPoolStats().freeBytes).toBe(once);
  });

  test('blocks outside the pooled sizes are plain buffers, and the free lists stay under their byte budget', () => {
    const small = acquireBlock(1000);
    const huge = acquireBlock(MAX_POOLED + 1);
    const before = blockPoolStats();
    releaseBlock(small);
    releaseBlock(huge);
    expect(blockPoolStats().freeBytes).toBe(before.freeBytes);
    // Far more blocks released than the budget (16 MB) holds.
    const held = Array.from({ length: 200 }, () => acquireBlock(1_000_000));
    for (const b of held) releaseBlock(b);
    expect(blockPoolStats().freeBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(blockPoolStats().freeBytes).toBeGreaterThan(15 * 1024 * 1024 - blockClass(1_000_000));
  });
});
