/**
 * Micro-benchmark for the client request parser: ns per command and MB/s for the command shapes the
 * bench scenarios send, each fed as one chunk of many pipelined commands (the parser's steady state).
 * The sink does no work, so this is the parser alone (tokenizing, verb dispatch, Request or key ranges).
 *
 *   bash bench/micro/run.sh            (compiles bench/micro/*.ts into dist/bench and runs them)
 */
import { RequestParser, type LocalOp, type RequestSink } from '../../src/protocol/request-parser.js';
import type { Op, Request } from '../../src/protocol/types.js';
import type { BenchRow } from './hash-bench.js';

/** Counts what the parser hands over; keeps one reference so nothing is optimized away. */
class CountingSink implements RequestSink {
  commands = 0;
  keys = 0;
  last: unknown = null;
  constructor(private readonly ranges: boolean) {}
  request(req: Request): void {
    this.commands++;
    this.keys++;
    this.last = req;
  }
  multiGet(reqs: Request[]): void {
    this.commands++;
    this.keys += reqs.length;
    this.last = reqs;
  }
  local(_op: LocalOp, args: Buffer): void {
    this.commands++;
    this.last = args;
  }
  replyLine(line: string): void {
    this.commands++;
    this.last = line;
  }
  fatal(): void {
    throw new Error('parser-bench: unexpected fatal');
  }
  /** Installed only for the key-range variant (what ClientSession uses for get/gets of 2+ keys). */
  multiGetKeys?: (op: Op, head: Buffer, buf: Buffer, tok: Int32Array, first: number, n: number) => void;
  enableRanges(): this {
    if (this.ranges) {
      this.multiGetKeys = (_op, _head, buf, _tok, first, n) => {
        this.commands++;
        this.keys += n - first;
        this.last = buf;
      };
    }
    return this;
  }
}

function keyOf(i: number): string {
  return `key:${(i * 7919) % 100000}`.padEnd(16, 'x');
}

/** `count` commands built by `make`, concatenated into one buffer. */
function chunk(count: number, make: (i: number) => string): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(make(i));
  return Buffer.from(parts.join(''), 'latin1');
}

function time(buf: Buffer, commands: number, rounds: number, ranges: boolean): { ns: number; mbps: number } {
  for (let r = 0; r < Math.min(rounds, 50); r++) new RequestParser(new CountingSink(ranges).enableRanges()).feed(buf); // warm-up
  let seen = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    const sink = new CountingSink(ranges).enableRanges();
    new RequestParser(sink).feed(buf);
    seen += sink.commands;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (seen !== commands * rounds) throw new Error(`parser-bench: parsed ${seen} commands, expected ${commands * rounds}`);
  return { ns: ns / (commands * rounds), mbps: (buf.length * rounds) / (ns / 1e9) / 1e6 };
}

export function runParserBench(rounds = 200): BenchRow[] {
  const value100 = 'v'.repeat(100);
  const keys100 = Array.from({ length: 100 }, (_, i) => keyOf(i)).join(' ');
  const cases: Array<[string, number, (i: number) => string, boolean]> = [
    ['get <16-byte key>', 2000, (i) => `get ${keyOf(i)}\r\n`, false],
    ['set <16-byte key> 0 0 100 + 100-byte value', 2000, (i) => `set ${keyOf(i)} 0 0 100\r\n${value100}\r\n`, false],
    ['mg <key> v t f', 2000, (i) => `mg ${keyOf(i)} v t f\r\n`, false],
    ['get of 100 keys, one Request per key', 100, () => `get ${keys100}\r\n`, false],
    ['get of 100 keys, key ranges (multiGetKeys)', 100, () => `get ${keys100}\r\n`, true],
  ];
  const rows: BenchRow[] = [];
  for (const [name, count, make, ranges] of cases) {
    const buf = chunk(count, make);
    const { ns, mbps } = time(buf, count, rounds, ranges);
    rows.push({ name: `${name} (${mbps.toFixed(0)} MB/s)`, nsPerOp: ns });
  }
  return rows;
}

const invokedDirectly = typeof process.argv[1] === 'string' && /parser-bench\.[cm]?js$/.test(process.argv[1]);
if (invokedDirectly) {
  const rounds = Number(process.argv[2] ?? '200');
  console.log(`node ${process.version}, ${rounds} rounds of one pipelined chunk per row; ns per command`);
  for (const r of runParserBench(rounds)) console.log(`${r.name.padEnd(60)} ${r.nsPerOp.toFixed(1).padStart(10)} ns/op`);
}
