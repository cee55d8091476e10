/**
 * mcrouter ConstShard hash func: keys shaped `x:<digits>:y` go to server <digits> when it is < n;
 * anything else falls back to Ch3 (furc) of the whole hashed key.
 *
 * Source of truth: mcrouter.md §3.3 (`routes/ShardHashFunc.cpp`) and the ConstShard vectors in §3.4.
 *
 * Quirks: the shard is the text between the FIRST and SECOND ':'; it must be non-empty and all
 * ASCII digits (no sign, no spaces). A missing second ':' means "no shard". Shard ids >= n (or absurdly
 * long digit runs) fall back to Ch3 rather than wrapping. The prefix before the first ':' may be empty.
 */
import { furcHash } from './furc.js';

/** Shard id parsed from `x:<digits>:y`, or -1. */
export function parseShardId(key: Uint8Array, len: number): number {
  let i = 0;
  while (i < len && key[i] !== 0x3a) i++;
  if (i >= len) return -1;
  const start = ++i;
  let v = 0;
  while (i < len && key[i] !== 0x3a) {
    const c = key[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
    if (v > 0xffffffff) return -1;
    i++;
  }
  if (i >= len || i === start) return -1;
  return v;
}

export function constShardIndex(key: Uint8Array, len: number, n: number): number {
  const shard = parseShardId(key, len);
  if (shard >= 0 && shard < n) return shard;
  return furcHash(key, n, len);
}
