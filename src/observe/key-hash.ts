/**
 * A hash of key bytes for the observability sketches (per-prefix rows, hot keys), so they can find a key
 * given as a range of a read buffer without making a string of it.
 *
 * FNV-1a, 32-bit, masked to 30 bits: the result is a V8 small integer. Two different byte strings can share
 * a hash; the sketches compare the bytes and treat a clash as a key they do not track.
 */

/** The FNV offset basis, as an int32 (so the loop never leaves small integers). */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const MASK = 0x3fffffff;

/** The hash of `buf[start, end)`. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), FNV_PRIME);
  return h & MASK;
}

/** The hash of the latin1 bytes of `s` (the same as {@link hashBytes} of `Buffer.from(s, 'latin1')`). */
export function hashLatin1(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ (s.charCodeAt(i) & 0xff), FNV_PRIME);
  return h & MASK;
}

/**
 * A copy of some key bytes that can be overwritten with other keys without allocating again (it grows only
 * for a longer key), with its latin1 text made on first request.
 */
export class HeldKey {
  hash = 0;
  len = 0;
  private bytes: Buffer = Buffer.allocUnsafe(32);
  private text: string | null = null;

  /** Hold `buf[start, end)` (hash `hash`), replacing what was held. */
  hold(buf: Uint8Array, start: number, end: number, hash: number): void {
    const n = end - start;
    if (this.bytes.length < n) this.bytes = Buffer.allocUnsafe(Math.max(n, 2 * this.bytes.length));
    const b = this.bytes;
    if (n <= 64) for (let i = 0; i < n; i++) b[i] = buf[start + i] as number;
    else b.set(buf.subarray(start, end));
    this.len = n;
    this.hash = hash;
    this.text = null;
  }

  /** True when the held bytes are `buf[start, end)`. */
  equals(buf: Uint8Array, start: number, end: number): boolean {
    const n = this.len;
    if (end - start !== n) return false;
    const b = this.bytes;
    for (let i = 0; i < n; i++) if (b[i] !== buf[start + i]) return false;
    return true;
  }

  /** True when the held bytes are the latin1 bytes of `s`. */
  equalsString(s: string): boolean {
    const n = this.len;
    if (s.length !== n) return false;
    const b = this.bytes;
    for (let i = 0; i < n; i++) if (b[i] !== (s.charCodeAt(i) & 0xff)) return false;
    return true;
  }

  /** The held key as latin1 text (made once per key held). */
  get key(): string {
    if (this.text === null) this.text = this.bytes.toString('latin1', 0, this.len);
    return this.text;
  }
}

/**
 * A set of up to `maxIds` small integer ids (0 .. maxIds-1) found by their hash: open addressing with
 * linear probing, at most a quarter full, and backward-shift removal (no tombstones), so a look-up is a
 * probe or two in one Int32Array and nothing is allocated after construction.
 */
export class HashIndex {
  /** id + 1 at the slot of its hash (0 = empty). */
  private readonly table: Int32Array;
  /** The hash of each id in the table. */
  private readonly hashes: Int32Array;
  private readonly mask: number;

  constructor(readonly maxIds: number) {
    let size = 16;
    while (size < 4 * maxIds) size *= 2;
    this.table = new Int32Array(size);
    this.hashes = new Int32Array(Math.max(1, maxIds));
    this.mask = size - 1;
  }

  /** The id stored under `hash`, or -1. */
  find(hash: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const v = t[i] as number;
      if (v === 0) return -1;
      if (this.hashes[v - 1] === hash) return v - 1;
    }
  }

  /** Store `id` under `hash` (the id must not be in the table). */
  insert(id: number, hash: number): void {
    const t = this.table;
    const mask = this.mask;
    this.hashes[id] = hash;
    let i = hash & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = id + 1;
  }

  /** Take `id` out (it must be in the table), moving later entries of its probe run back. */
  remove(id: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = (this.hashes[id] as number) & mask;
    while (t[i] !== id + 1) i = (i + 1) & mask;
    for (;;) {
      t[i] = 0;
      let j = i;
      for (;;) {
        j = (j + 1) & mask;
        const v = t[j] as number;
        if (v === 0) return;
        const home = (this.hashes[v - 1] as number) & mask;
        // The entry at j stays unless its home slot is outside (i, j] (cyclically): then it moves to i.
        if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
        t[i] = v;
        i = j;
        break;
      }
    }
  }
}
