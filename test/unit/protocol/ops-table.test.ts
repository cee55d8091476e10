/**
 * The operations table (OPS in src/protocol/types.ts) against the request parser, which recognises verbs
 * with its own byte-level code: every op's name must be the verb that parses to it, the routable ops must
 * come out as Requests and the others as local commands, and a value must follow exactly the ops the table
 * says carry one.
 */
import { describe, expect, test } from 'vitest';
import { RequestParser, type LocalOp, type RequestSink } from '../../../src/protocol/request-parser.js';
import { ALL_RESULTS, FIRST_ERROR_RESULT, FOUND_RESULT, isErrorResult, OP_GROUPS, opIndex, opInfo, OPS, Reply, Request, resultIndex, ROUTABLE_OPS, ROUTING_GROUPS, opsInGroup, type Op } from '../../../src/protocol/types.js';

/** A well-formed command line (and data block) for each op, written by hand from the memcached protocol. */
const SAMPLE: Readonly<Record<Op, string>> = {
  get: 'get k\r\n', gets: 'gets k\r\n', gat: 'gat 10 k\r\n', gats: 'gats 10 k\r\n',
  set: 'set k 0 0 1\r\nx\r\n', add: 'add k 0 0 1\r\nx\r\n', replace: 'replace k 0 0 1\r\nx\r\n',
  append: 'append k 0 0 1\r\nx\r\n', prepend: 'prepend k 0 0 1\r\nx\r\n', cas: 'cas k 0 0 1 5\r\nx\r\n',
  delete: 'delete k\r\n', incr: 'incr k 1\r\n', decr: 'decr k 1\r\n', touch: 'touch k 10\r\n',
  mg: 'mg k v\r\n', ms: 'ms k 1\r\nx\r\n', md: 'md k\r\n', ma: 'ma k\r\n', me: 'me k\r\n', mn: 'mn\r\n',
  version: 'version\r\n', verbosity: 'verbosity 1\r\n', flush_all: 'flush_all\r\n', stats: 'stats\r\n', quit: 'quit\r\n',
};

interface Parsed {
  kind: 'request' | 'local' | 'other';
  op: string;
  hasValue: boolean;
}

function parse(line: string): Parsed[] {
  const out: Parsed[] = [];
  const sink: RequestSink = {
    request(req: Request): void {
      out.push({ kind: 'request', op: req.op, hasValue: req.value !== null });
    },
    multiGet(reqs: Request[]): void {
      out.push({ kind: 'other', op: `multi ${reqs[0]?.op}`, hasValue: false });
    },
    local(op: LocalOp): void {
      out.push({ kind: 'local', op, hasValue: false });
    },
    replyLine(l: string): void {
      out.push({ kind: 'other', op: `line ${l}`, hasValue: false });
    },
    fatal(l: string | null): void {
      out.push({ kind: 'other', op: `fatal ${l}`, hasValue: false });
    },
  };
  new RequestParser(sink).feed(Buffer.from(line, 'latin1'));
  return out;
}

describe('OPS', () => {
  test.each(OPS.map((o) => [o.name, o] as const))('%s: the name is the verb the parser maps to it', (name, o) => {
    const line = SAMPLE[name];
    expect(line.startsWith(`${name} `) || line.startsWith(`${name}\r\n`)).toBe(true);
    expect(parse(line)).toEqual([{ kind: o.routable ? 'request' : 'local', op: name, hasValue: o.value }]);
  });

  test('names, stat names and indices are unique and consistent', () => {
    expect(new Set(OPS.map((o) => o.name)).size).toBe(OPS.length);
    expect(new Set(OPS.map((o) => o.stat)).size).toBe(OPS.length);
    OPS.forEach((o, i) => {
      expect(opIndex(o.name)).toBe(i);
      expect(opInfo(o.name)).toBe(o);
    });
    expect(opIndex('nope' as Op)).toBe(-1);
    ALL_RESULTS.forEach((r, i) => expect(resultIndex(r)).toBe(i));
    expect(resultIndex('nope' as never)).toBe(-1);
  });

  test('successes come before FIRST_ERROR_RESULT and errors from it on; FOUND_RESULT is found', () => {
    ALL_RESULTS.forEach((r, i) => expect([r, i >= FIRST_ERROR_RESULT]).toEqual([r, isErrorResult(r)]));
    expect(ALL_RESULTS[FOUND_RESULT]).toBe('found');
  });

  test('a request and a reply keep the op and result slots they compute', () => {
    const req = new Request('touch', Buffer.from('k'), Buffer.from('touch '), Buffer.from(' 1'), null, false, 1);
    expect(req.opSlot()).toBe(opIndex('touch'));
    expect(req.opSlot()).toBe(opIndex('touch'));
    expect(req.withKey(Buffer.from('j')).opSlot()).toBe(opIndex('touch'));
    const reply = new Reply('deadline_exceeded');
    expect(reply.resultSlot()).toBe(resultIndex('deadline_exceeded'));
    expect(reply.resultSlot()).toBe(ALL_RESULTS.indexOf('deadline_exceeded'));
    const hit = Reply.hit(Buffer.from('VALUE k 0 1\r\nx\r\n'));
    expect([hit.result, hit.resultSlot()]).toEqual(['found', resultIndex('found')]);
  });

  test('every routable op is in a routing group, every other op in "other"', () => {
    for (const o of OPS) expect(o.group === 'other').toBe(!o.routable);
    expect(ROUTING_GROUPS.flatMap((g) => opsInGroup(g)).sort()).toEqual([...ROUTABLE_OPS].sort());
    expect(OP_GROUPS.flatMap((g) => opsInGroup(g)).length).toBe(OPS.length);
  });

  test('meta ops are the two-letter verbs, and only they', () => {
    for (const o of OPS) expect(o.meta).toBe(/^m[a-z]$/.test(o.name));
  });
});
