/**
 * MurmurHash64A and furc's rehash step as a tiny WebAssembly module, for Ch3 placement on the hot path.
 *
 * Why: JavaScript has no 64-bit integer multiply that TurboFan compiles well (murmur64a.ts splits every
 * product into 32-bit halves: ~45 ns for a 16-byte key), while WebAssembly's i64.mul is one instruction
 * (~3 ns plus ~6 ns for the call). The module is assembled here from the instruction list below, so the
 * algorithm stays in this file, next to the JS version in murmur64a.ts that it must match bit for bit
 * (test/unit/hash/murmur64a-wasm.test.ts compares them; the furc/Ch3 golden vectors run through this one).
 *
 * Memory (one 64 KB page, never grown, so views over it stay valid):
 *   [0, 4096)          the furc bit stream: 64-bit words, word 0 = hash of the key
 *   [4096, 8192)       a key copied in for hashing (keys up to KEY_CAP bytes; longer ones use the JS version)
 *   [8192, 65528)      the key window: a run of bytes staged once (a multi-get's keys), hashed in place
 *
 * The key window: copying each key into wasm memory costs more than hashing it (~15 ns for 16 bytes), so a
 * caller about to hash many keys of one buffer region (the keys of one get line) stages that region once
 * with stageKeys(); hashes of ranges inside it read the staged copy. The caller guarantees the staged bytes
 * do not change until unstageKeys() (client read buffers are never written again once parsed), and
 * everything else falls back to the copying path, so a stale or foreign window can only cost time.
 *
 * Null when WebAssembly is unavailable (e.g. node --jitless): callers keep the JS version.
 */
import { bytesOf } from '../../protocol/bytes.js';

export const STREAM_WORDS = 512;
const KEY_AREA = 4096;
const KEY_CAP = 4096 - 8;
const WINDOW = 8192;
/** Leaves 8 bytes so an 8-byte tail load at the window's end stays inside the page. */
const WINDOW_CAP = 65536 - 8 - WINDOW;

const M = 0xc6a4a7935bd1e995n;

// ---- a minimal WebAssembly encoder (build time only; BigInt is fine here) ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(value: bigint | number): number[] {
  let v = BigInt.asIntN(64, BigInt(value));
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const last = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(last ? b : b | 0x80);
    if (last) return out;
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
const I32 = 0x7f;
const I64 = 0x7e;

// Instructions.
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const i32 = (v: number): number[] => [0x41, ...sleb(v)];
const i64 = (v: bigint | number): number[] => [0x42, ...sleb(v)];
const LOAD64 = [0x29, 3, 0];
const STORE64 = [0x37, 3, 0];
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_SHL = 0x74;
const I32_GE_U = 0x4f;
const I32_GT_U = 0x4b;
const I64_MUL = 0x7e;
const I64_XOR = 0x85;
const I64_AND = 0x83;
const I64_SUB = 0x7d;
const I64_SHL = 0x86;
const I64_SHR_U = 0x88;
const I64_EXTEND_U = 0xad;
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const IF = [0x04, 0x40];
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;

const MUL_M = [...i64(M), I64_MUL];
/** x ^= x >> 47 for the i64 local x (leaves nothing on the stack). */
const xorShift47 = (x: number): number[] => [...get(x), ...get(x), ...i64(47), I64_SHR_U, I64_XOR, ...set(x)];
/** x *= M for the i64 local x. */
const mulM = (x: number): number[] => [...get(x), ...MUL_M, ...set(x)];

/**
 * hash(ptr, len, seed): MurmurHash64A of memory [ptr, ptr+len) with the 32-bit seed (zero-extended),
 * stored at memory[0] (stream word 0). Locals: 3 h, 4 k (i64); 5 end (i32).
 */
const HASH_BODY: number[] = [
  // h = seed ^ (len * M)
  ...get(2), I64_EXTEND_U, ...get(1), I64_EXTEND_U, ...MUL_M, I64_XOR, ...set(3),
  // end = ptr + (len & ~7)
  ...get(0), ...get(1), ...i32(-8), I32_AND, I32_ADD, ...set(5),
  ...BLOCK, ...LOOP,
  ...get(0), ...get(5), I32_GE_U, BR_IF, 1,
  // k = load64(ptr) * M; k ^= k >> 47; k *= M; h ^= k; h *= M
  ...get(0), ...LOAD64, ...MUL_M, ...set(4),
  ...xorShift47(4),
  ...mulM(4),
  ...get(3), ...get(4), I64_XOR, ...set(3),
  ...mulM(3),
  ...get(0), ...i32(8), I32_ADD, ...set(0),
  BR, 0,
  END, END,
  // Tail of 1..7 bytes, little-endian: h ^= load64(ptr) & ((1 << 8 * (len & 7)) - 1); h *= M
  ...get(1), ...i32(7), I32_AND, ...IF,
  ...get(3),
  ...get(0), ...LOAD64,
  ...i64(1), ...get(1), ...i32(7), I32_AND, ...i32(3), I32_SHL, I64_EXTEND_U, I64_SHL, ...i64(1), I64_SUB,
  I64_AND, I64_XOR, ...set(3),
  ...mulM(3),
  END,
  ...xorShift47(3),
  ...mulM(3),
  ...xorShift47(3),
  ...i32(0), ...get(3), ...STORE64,
  END,
];

/**
 * fill(from, to): stream words from..to (inclusive) = rehash(previous word), where rehash(k) is
 * MurmurHash64A of the 8-byte value k with the 32-bit `seed`: h0 = seed ^ (8 * M).
 * Locals: 2 k, 3 h (i64); 4 p (i32).
 */
const fillBody = (seed: number): number[] => [
  ...get(0), ...i32(3), I32_SHL, ...set(4),
  ...BLOCK, ...LOOP,
  ...get(0), ...get(1), I32_GT_U, BR_IF, 1,
  ...get(4), ...i32(-8), I32_ADD, ...LOAD64, ...MUL_M, ...set(2),
  ...xorShift47(2),
  ...mulM(2),
  ...i64(BigInt(seed >>> 0) ^ BigInt.asUintN(64, 8n * M)), ...get(2), I64_XOR, ...set(3),
  ...mulM(3),
  ...xorShift47(3),
  ...mulM(3),
  ...xorShift47(3),
  ...get(4), ...get(3), ...STORE64,
  ...get(4), ...i32(8), I32_ADD, ...set(4),
  ...get(0), ...i32(1), I32_ADD, ...set(0),
  BR, 0,
  END, END,
  END,
];

function func(locals: Array<[number, number]>, body: number[]): number[] {
  const code = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...body];
  return [...uleb(code.length), ...code];
}

function moduleBytes(rehashSeed: number): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // types: 0 = (i32 ptr, i32 len, i32 seed) -> (); 1 = (i32 from, i32 to) -> ()
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), 0], [0x60, ...vec([[I32], [I32]]), 0]])),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('mem'), 0x02, 0], [...name('hash'), 0x00, 0], [...name('fill'), 0x00, 1]])),
    ...section(10, vec([func([[2, I64], [1, I32]], HASH_BODY), func([[2, I64], [1, I32]], fillBody(rehashSeed))])),
  ]);
}

export interface WasmFurc {
  /** The furc stream (STREAM_WORDS words as [lo, hi] pairs), living in the module's memory. */
  readonly stream: Uint32Array;
  /**
   * stream word 0 = MurmurHash64A(buf[off, off+len), seed) for a 32-bit seed. False (nothing written) for
   * a key longer than the copy area: the caller hashes it in JS.
   */
  hash(buf: Uint8Array, off: number, len: number, seed: number): boolean;
  /** stream words from..to (inclusive) = rehash(previous word). */
  fill(from: number, to: number): void;
}

/** The part of the WebAssembly global used here (this project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface Exports {
  mem: { buffer: ArrayBuffer };
  hash: (ptr: number, len: number, seed: number) => void;
  fill: (from: number, to: number) => void;
}

/** The staged key window: bytes src[start, end) live at memory[WINDOW, WINDOW + end - start). */
let winSrc: Uint8Array | null = null;
let winStart = 0;
let winEnd = 0;
/** The memory stageKeys copies into: the first instance's (furc's; tests may make more). */
let windowMemory: Uint8Array | null = null;

/**
 * The module for furc: `rehashSeed` is the 32-bit seed of furc's rehash step (4193360111). Null when
 * WebAssembly is unavailable (e.g. node --jitless).
 */
export function createWasmFurc(rehashSeed: number): WasmFurc | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  let ex: Exports;
  try {
    ex = new api.Instance(new api.Module(moduleBytes(rehashSeed)), {}).exports as Exports;
  } catch {
    return null;
  }
  const m8 = new Uint8Array(ex.mem.buffer);
  const ownsWindow = windowMemory === null;
  if (ownsWindow) windowMemory = m8;
  const hash = ex.hash;
  return {
    stream: new Uint32Array(ex.mem.buffer, 0, STREAM_WORDS * 2),
    hash(buf, off, len, seed) {
      if (ownsWindow && buf === winSrc && off >= winStart && off + len <= winEnd) {
        hash(WINDOW + off - winStart, len, seed);
        return true;
      }
      if (len > KEY_CAP) return false;
      if (len <= 32) {
        for (let i = 0; i < len; i++) m8[KEY_AREA + i] = buf[off + i] as number;
      } else {
        m8.set(bytesOf(buf, off, off + len), KEY_AREA);
      }
      hash(KEY_AREA, len, seed);
      return true;
    },
    fill: ex.fill,
  };
}

/**
 * Stage src[start, end) (bytes that will not change until unstageKeys) so hashes of ranges inside it need
 * no copy. Does nothing when the region is too big or WebAssembly is unavailable.
 */
export function stageKeys(src: Uint8Array, start: number, end: number): void {
  const m8 = windowMemory;
  if (m8 === null || end - start > WINDOW_CAP || end <= start) {
    winSrc = null;
    return;
  }
  m8.set(bytesOf(src, start, end), WINDOW);
  winSrc = src;
  winStart = start;
  winEnd = end;
}

/** Forget the staged window (its source buffer may be released or reused by its owner after this). */
export function unstageKeys(): void {
  winSrc = null;
}
