import { describe, expect, it } from 'vitest';
import { addressMembers, collectDiscoverySpecs, parseDiscoverySpec, placeholderMembers, srvMembers } from '../../../src/config/discovery.js';
import { ConfigError } from '../../../src/config-error.js';
import { buildConfig, DEFAULT_BUILD_OPTIONS } from '../../../src/config/builder.js';
import { inertDestinations } from '../../../src/config/validate.js';

describe('DNS-discovered pool members', () => {
  it('reads the two spec forms, port 11211 by default', () => {
    expect(parseDiscoverySpec({ srv: '_memcache._tcp.mc.ns.svc' }, '/p')).toEqual({ kind: 'srv', name: '_memcache._tcp.mc.ns.svc' });
    expect(parseDiscoverySpec({ dns: 'mc-headless.ns.svc', port: 11311 }, '/p')).toEqual({ kind: 'dns', name: 'mc-headless.ns.svc', port: 11311 });
    expect(parseDiscoverySpec({ dns: 'mc' }, '/p')).toEqual({ kind: 'dns', name: 'mc', port: 11211 });
    expect(parseDiscoverySpec(['a:1'], '/p')).toBeNull();
  });

  it('refuses bad specs at their JSON pointer', () => {
    const bad: [unknown, string][] = [
      [{}, '/p'], [{ srv: 'a', dns: 'b' }, '/p'], [{ dns: 'a..b' }, '/p/dns'], [{ dns: 'a', port: 0 }, '/p/port'],
      [{ dns: 'a', port: 1.5 }, '/p/port'], [{ srv: 'a', port: 1 }, '/p/port'], [{ dns: 'a', ttl: 3 }, '/p/ttl'],
    ];
    for (const [v, path] of bad) {
      let err: unknown = null;
      try {
        parseDiscoverySpec(v, '/p');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(v)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path, JSON.stringify(v)).toBe(path);
    }
  });

  it('sorts SRV members by target, then port; addresses numerically, IPv4 first', () => {
    expect(srvMembers([{ name: 'b.x.', port: 2 }, { name: 'a.x', port: 9 }, { name: 'b.x', port: 1 }, { name: 'A.x', port: 9 }])).toEqual(['a.x:9', 'b.x:1', 'b.x:2']);
    expect(addressMembers(['10.0.0.10', 'fe80::2', '10.0.0.9', '::1', '10.0.0.9'], 7)).toEqual(['10.0.0.9:7', '10.0.0.10:7', '[::1]:7', '[fe80::2]:7']);
    expect(placeholderMembers({ kind: 'dns', name: 'mc.svc.', port: 5 })).toEqual(['mc.svc:5']);
  });

  it('finds specs in top-level and inline pools, once each', () => {
    const specs = collectDiscoverySpecs({
      pools: { A: { servers: { dns: 'a' } }, B: { servers: ['h:1'] }, C: { servers: { dns: 'a' } } },
      route: { type: 'PoolRoute', pool: { name: 'X', servers: { srv: '_m._tcp.x' } } },
    });
    expect(specs).toEqual([{ kind: 'dns', name: 'a', port: 11211 }, { kind: 'srv', name: '_m._tcp.x' }]);
  });

  it('builds pools from the lookup; a name that resolved to nothing is an error at its pointer', () => {
    const cfg = { pools: { A: { servers: { dns: 'mc.svc', port: 11311 } } }, route: 'PoolRoute|A' };
    const members = ['10.0.0.1:11311', '10.0.0.2:11311'];
    const built = buildConfig(cfg, { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations(), members: () => members });
    expect(built.pools.get('A')?.servers.map((s) => `${s.host}:${s.port}`)).toEqual(members);
    expect(() => buildConfig(cfg, { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations(), members: () => [] })).toThrow(/\/pools\/A\/servers/);
  });
});
