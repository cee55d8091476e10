/**
 * Resolves the DNS names pools take their servers from (src/config/discovery.ts) and keeps the last good
 * answer of each. One resolver for the process; `--dns-servers HOST:PORT,...` points it elsewhere (tests,
 * special networks), otherwise it uses the system's servers.
 *
 * A failed lookup, or one with no records, keeps the name's last known members: losing DNS must not empty
 * a pool. Each such keep is logged and counted (`failures`), and the name is tried again on the next
 * refresh. The data path never waits on DNS: the proxy builds its tree from `lookup()`, which reads the
 * cache.
 */
import { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import { addressMembers, specKey, srvMembers, type DiscoverySpec, type MemberLookup } from '../config/discovery.js';

export interface DnsMembersOptions {
  /** `HOST:PORT` resolvers, or empty for the system's. */
  readonly servers: readonly string[];
  /** Per-query timeout, ms. */
  readonly timeoutMs?: number;
  readonly log: Logger;
}

export class DnsMembers {
  private readonly resolver: Resolver;
  private readonly known = new Map<string, readonly string[]>();
  /** Lookups that failed or came back empty (the last members were kept). */
  failures = 0;
  /** Lookups that changed a name's members. */
  changes = 0;

  constructor(private readonly opts: DnsMembersOptions) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: 2 });
    if (opts.servers.length > 0) this.resolver.setServers([...opts.servers]);
  }

  /** The builder's view: the last good members of a name ([] when it never resolved). */
  readonly lookup: MemberLookup = (spec) => this.known.get(specKey(spec)) ?? [];

  /** True when every spec has been resolved at least once. */
  hasAll(specs: readonly DiscoverySpec[]): boolean {
    return specs.every((s) => this.known.has(specKey(s)));
  }

  /**
   * Resolve every spec (in parallel). Returns true when some name's members changed. Failures and empty
   * answers keep what was known.
   */
  async refresh(specs: readonly DiscoverySpec[]): Promise<boolean> {
    const results = await Promise.all(specs.map((s) => this.resolveOne(s)));
    let changed = false;
    specs.forEach((spec, i) => {
      const members = results[i];
      const key = specKey(spec);
      const before = this.known.get(key);
      if (members === null || members === undefined) return;
      if (before === undefined || before.length !== members.length || before.some((m, j) => m !== members[j])) {
        this.known.set(key, members);
        if (before !== undefined) {
          this.changes++;
          this.opts.log.info({ name: key, before, after: members }, 'dns: pool members changed');
        }
        changed = true;
      }
    });
    return changed;
  }

  /** The sorted members of one spec, or null (failure, or no records: keep the last ones). */
  private async resolveOne(spec: DiscoverySpec): Promise<readonly string[] | null> {
    const key = specKey(spec);
    try {
      let members: string[];
      if (spec.kind === 'srv') {
        members = srvMembers(await this.resolver.resolveSrv(spec.name));
      } else {
        // Either family may have no records (or a server may refuse to say): one answer is enough.
        const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(spec.name), this.resolver.resolve6(spec.name)]);
        if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason;
        members = addressMembers([...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])], spec.port);
      }
      if (members.length === 0) throw new Error('no records');
      return members;
    } catch (err) {
      this.failures++;
      const kept = this.known.get(key);
      this.opts.log.warn({ name: key, err: err instanceof Error ? err.message : String(err), kept: kept ?? [] }, 'dns: lookup failed; keeping the last known members');
      return null;
    }
  }
}
