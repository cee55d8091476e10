import { describe, expect, test } from 'vitest';
import type { Op } from '../../../src/protocol/types.js';
import { CARBON_OPERATIONS, OperationSelectorRoute } from '../../../src/routes/operation-selector-route.js';
import { makeRequest, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';

describe('OperationSelectorRoute', () => {
  test('each classic op goes to its own policy; the rest to default_policy', () => {
    const policies = Object.fromEntries(CARBON_OPERATIONS.map((n) => [n, `Fake|${n}`]));
    const { root } = buildRoute({ type: 'OperationSelectorRoute', operation_policies: policies, default_policy: 'Fake|D' });
    const ops: Op[] = ['get', 'gets', 'gat', 'gats', 'set', 'add', 'replace', 'append', 'prepend', 'cas', 'delete', 'touch', 'incr', 'decr'];
    for (const op of ops) expect(who(routeSync(root, makeRequest(op, 'k', 'v')))).toBe(op);
    expect(who(routeSync(root, makeRequest('version', '')))).toBe('D');
    expect(who(routeSync(root, makeRequest('mn', '')))).toBe('D');
  });

  test('meta ops: mg→get, ms→set, md→delete, ma→incr, me→metaget or get', () => {
    const base = { get: 'Fake|get', set: 'Fake|set', delete: 'Fake|delete', incr: 'Fake|incr' };
    const { root } = buildRoute({ type: 'OperationSelectorRoute', operation_policies: base, default_policy: 'Fake|D' });
    expect(who(routeSync(root, makeRequest('mg', 'k')))).toBe('get');
    expect(who(routeSync(root, makeRequest('ms', 'k', 'v')))).toBe('set');
    expect(who(routeSync(root, makeRequest('md', 'k')))).toBe('delete');
    expect(who(routeSync(root, makeRequest('ma', 'k')))).toBe('incr');
    expect(who(routeSync(root, makeRequest('me', 'k')))).toBe('get');
    const withMeta = buildRoute({ type: 'OperationSelectorRoute', operation_policies: { ...base, metaget: 'Fake|metaget' } }).root;
    expect(who(routeSync(withMeta, makeRequest('me', 'k')))).toBe('metaget');
    expect(who(routeSync(withMeta, makeRequest('decr', 'k')))).toBe('notfound');
  });

  test('mcrouter replicated-pool shape; alias PrefixPolicyRoute; no default → NullRoute replies', () => {
    const { root } = buildRoute({ type: 'PrefixPolicyRoute', operation_policies: { get: 'Fake|G', set: 'Fake|S' } });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('G');
    expect(who(routeSync(root, makeRequest('set', 'k', 'v')))).toBe('S');
    expect(routeSync(root, makeRequest('add', 'k', 'v')).result).toBe('notstored');
    expect(routeSync(root, makeRequest('delete', 'k')).result).toBe('notfound');
    expect(root).toBeInstanceOf(OperationSelectorRoute);
    expect(who(routeSync(buildRoute('OperationSelectorRoute|Fake|D').root, makeRequest('get', 'k')))).toBe('D');
  });

  test('lease-get / lease-set are accepted (never match)', () => {
    const { root } = buildRoute({ type: 'OperationSelectorRoute', operation_policies: { 'lease-get': 'Fake|L', 'lease-set': 'Fake|L' }, default_policy: 'Fake|D' });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('D');
  });

  test('traverse follows the op', () => {
    const { root } = buildRoute({ type: 'OperationSelectorRoute', operation_policies: { get: 'Fake|G' }, default_policy: 'Fake|D' });
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['G']);
    expect(traverseDestinations(root, makeRequest('set', 'k', 'v'))).toEqual(['D']);
  });

  test('unknown op name is a config error at its exact path', () => {
    const e = configError({ type: 'OperationSelectorRoute', operation_policies: { get: 'Fake|G', mget: 'Fake|M' } });
    expect(e.path).toBe('/route/operation_policies/mget');
    expect(e.detail).toMatch(/^OperationSelectorRoute: unknown operation "mget"/);
    expect(configError({ type: 'OperationSelectorRoute', operation_policies: { get: 'Nope' } }).path).toBe('/route/operation_policies/get');
    expect(configError({ type: 'OperationSelectorRoute', default_policy: 3 }).path).toBe('/route/default_policy');
  });

  test('needs default_policy or operation_policies, as mcrouter (either one alone, or an empty policies object, will do)', () => {
    const e = configError({ type: 'OperationSelectorRoute', default: 'Fake|D' });
    expect(e.path).toBe('/route');
    expect(e.detail).toBe('OperationSelectorRoute: needs "default_policy" or "operation_policies"');
    expect(configError({ type: 'PrefixPolicyRoute' }).detail).toBe('OperationSelectorRoute: needs "default_policy" or "operation_policies"');
    expect(who(routeSync(buildRoute({ type: 'OperationSelectorRoute', default_policy: 'Fake|D' }).root, makeRequest('get', 'k')))).toBe('D');
    expect(routeSync(buildRoute({ type: 'OperationSelectorRoute', operation_policies: {} }).root, makeRequest('get', 'k')).result).toBe('notfound');
  });

  test('default_policy is built before the policies, as mcrouter: a name defined in both is the default\'s', () => {
    const { root } = buildRoute({
      type: 'OperationSelectorRoute',
      default_policy: { type: 'Fake', id: 'D', name: 'shared' },
      operation_policies: { get: { type: 'Fake', id: 'G', name: 'shared' } },
    });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('D');
  });
});
