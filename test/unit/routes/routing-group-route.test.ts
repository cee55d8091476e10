import { describe, expect, test } from 'vitest';
import type { Op } from '../../../src/protocol/types.js';
import { makeRequest, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';

describe('RoutingGroupRoute', () => {
  const all = {
    type: 'RoutingGroupRoute',
    routing_group_policies: { get_like: 'Fake|G', update_like: 'Fake|U', delete_like: 'Fake|D', arithmetic_like: 'Fake|A' },
    default_policy: 'Fake|O',
  };
  const cases: [Op, string][] = [
    ['get', 'G'], ['gets', 'G'], ['gat', 'G'], ['gats', 'G'], ['mg', 'G'], ['me', 'G'],
    ['set', 'U'], ['add', 'U'], ['replace', 'U'], ['append', 'U'], ['prepend', 'U'], ['cas', 'U'], ['touch', 'U'], ['ms', 'U'],
    ['delete', 'D'], ['md', 'D'], ['incr', 'A'], ['decr', 'A'], ['ma', 'A'], ['mn', 'O'], ['version', 'O'],
  ];

  test('each op goes to its group policy; others to default_policy', () => {
    const { root } = buildRoute(all);
    for (const [op, want] of cases) expect(who(routeSync(root, makeRequest(op, 'k', 'v'))), op).toBe(want);
    expect(traverseDestinations(root, makeRequest('incr', 'k'))).toEqual(['A']);
  });

  test('missing groups use default_policy; with no default: NullRoute replies', () => {
    const { root } = buildRoute({ type: 'RoutingGroupRoute', routing_group_policies: { get_like: 'Fake|G' }, default_policy: 'Fake|O' });
    expect(who(routeSync(root, makeRequest('set', 'k', 'v')))).toBe('O');
    const bare = buildRoute({ type: 'RoutingGroupRoute', routing_group_policies: { get_like: 'Fake|G' } }).root;
    expect(routeSync(bare, makeRequest('set', 'k', 'v')).result).toBe('notstored');
    expect(routeSync(bare, makeRequest('delete', 'k')).result).toBe('notfound');
    expect(who(routeSync(buildRoute('RoutingGroupRoute|Fake|O').root, makeRequest('get', 'k')))).toBe('O');
  });

  test('config errors', () => {
    const e = configError({ type: 'RoutingGroupRoute', routing_group_policies: { read_like: 'Fake|G' } });
    expect(e.path).toBe('/route/routing_group_policies/read_like');
    expect(e.message).toMatch(/read_like/);
    expect(configError({ type: 'RoutingGroupRoute', routing_group_policies: { get_like: 'Nope' } }).path).toBe('/route/routing_group_policies/get_like');
  });

  test('needs default_policy or routing_group_policies, as mcrouter', () => {
    const e = configError({ type: 'RoutingGroupRoute', routing_groups: { get_like: 'Fake|G' } });
    expect(e.path).toBe('/route');
    expect(e.detail).toBe('RoutingGroupRoute: needs "default_policy" or "routing_group_policies"');
    expect(who(routeSync(buildRoute({ type: 'RoutingGroupRoute', default_policy: 'Fake|D' }).root, makeRequest('set', 'k', 'v')))).toBe('D');
    expect(routeSync(buildRoute({ type: 'RoutingGroupRoute', routing_group_policies: {} }).root, makeRequest('get', 'k')).result).toBe('notfound');
  });

  test('default_policy is built before the group policies, as mcrouter: a name defined in both is the default\'s', () => {
    const { root } = buildRoute({
      type: 'RoutingGroupRoute',
      default_policy: { type: 'Fake', id: 'D', name: 'shared' },
      routing_group_policies: { get_like: { type: 'Fake', id: 'G', name: 'shared' } },
    });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('D');
  });
});
