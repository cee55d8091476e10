import { describe, expect, test } from 'vitest';
import type { Op } from '../../../src/protocol/types.js';
import { defaultReply, NullRoute, nullRouteFactory } from '../../../src/routes/null-route.js';
import { makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

describe('NullRoute', () => {
  const cases: [Op, string][] = [
    ['get', 'notfound'], ['gets', 'notfound'], ['gat', 'notfound'], ['mg', 'notfound'],
    ['set', 'notstored'], ['add', 'notstored'], ['replace', 'notstored'], ['append', 'notstored'],
    ['prepend', 'notstored'], ['cas', 'notstored'], ['ms', 'notstored'],
    ['delete', 'notfound'], ['md', 'notfound'], ['touch', 'notfound'], ['incr', 'notfound'], ['decr', 'notfound'],
  ];
  test.each(cases)('%s → %s, synchronously, with no upstream bytes', (op, result) => {
    const reply = routeSync(new NullRoute(), makeRequest(op, 'k', 'v'));
    expect(reply.result).toBe(result);
    expect(reply.raw).toBeNull();
    expect(reply.message).toBeNull();
  });

  test('reuses frozen replies (no allocation per request)', () => {
    expect(defaultReply('get')).toBe(defaultReply('gets'));
    expect(Object.isFrozen(defaultReply('set'))).toBe(true);
  });

  test('does not touch stats or spawn anything', () => {
    const ctx = makeTestContext();
    routeSync(new NullRoute(), makeRequest('get', 'k'), ctx);
    expect(ctx.spawned).toHaveLength(0);
    expect(ctx.stats.devNullRequests).toBe(0);
  });

  test('traverse reaches no destination', () => {
    expect(traverseDestinations(new NullRoute(), makeRequest('get', 'k'))).toEqual([]);
  });

  test('factory: no options, shorthand ignores its argument', () => {
    expect(nullRouteFactory.type).toBe('NullRoute');
    expect(nullRouteFactory.fromString('anything')).toEqual({});
  });
});
