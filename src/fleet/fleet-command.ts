/**
 * `mcrelay fleet status|rollout|promote|abort --config etcd://HOST:PORT/KEY [--etcd-* flags]`: what an
 * operator runs instead of hand-writing JSON into etcd (the record's rules are in rollout.ts).
 *
 *   fleet status                          one line per live host (`<host id> <md5> <role>[ reverted: <reason>]`),
 *                                         then how many hosts are on each md5 and how many reverted
 *   fleet rollout --fraction F [--candidate-key K | --candidate-file PATH] [--salt S]
 *                 [--window-s N] [--max-error-rate-increase X] [--max-p99-increase-ms Y]
 *                                         start a rollout, or change its fraction (the salt and the rest
 *                                         are kept; a new rollout gets a random salt unless given one)
 *   fleet promote                         the candidate becomes the config at KEY; the rollout ends
 *   fleet abort                           the rollout ends; every host serves KEY again
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, NO_ETCD_AUTH, type EtcdAuthOptions } from './etcd-client.js';
import { isEtcdUrl, parseEtcdUrl, type EtcdUrl } from './etcd-url.js';
import { formatRollout, parseRollout, type RolloutRecord } from './rollout.js';
import type { HostStatus } from './rollout-agent.js';

const USAGE = `usage: mcrelay fleet status|rollout|promote|abort --config etcd://HOST:PORT/KEY
  [--etcd-cacert F] [--etcd-cert F] [--etcd-key F] [--etcd-user NAME] [--etcd-password-file F]
  rollout: --fraction F [--candidate-key K | --candidate-file PATH] [--salt S]
           [--window-s N] [--max-error-rate-increase X] [--max-p99-increase-ms Y]`;

const DEFAULT_GUARD = { windowS: 60, maxErrorRateIncrease: 0.01, maxP99IncreaseMs: 50 };

interface FleetArgs {
  readonly verb: string;
  readonly url: EtcdUrl;
  readonly auth: EtcdAuthOptions;
  readonly flags: ReadonlyMap<string, string>;
}

class FleetUsage extends Error {}

function parse(argv: readonly string[]): FleetArgs {
  const verb = argv[0];
  if (verb === undefined || !['status', 'rollout', 'promote', 'abort'].includes(verb)) throw new FleetUsage(`unknown fleet command ${JSON.stringify(verb ?? '')}`);
  const flags = new Map<string, string>();
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (!name.startsWith('--') || value === undefined) throw new FleetUsage(`${a} needs a value`);
    flags.set(name, value);
  }
  const config = flags.get('--config');
  if (config === undefined || !isEtcdUrl(config)) throw new FleetUsage('--config etcd://HOST:PORT/KEY is required');
  const auth: EtcdAuthOptions = {
    ...NO_ETCD_AUTH,
    cacert: flags.get('--etcd-cacert') ?? null,
    cert: flags.get('--etcd-cert') ?? null,
    key: flags.get('--etcd-key') ?? null,
    user: flags.get('--etcd-user') ?? null,
    passwordFile: flags.get('--etcd-password-file') ?? null,
  };
  return { verb, url: parseEtcdUrl(config), auth, flags };
}

function number(flags: ReadonlyMap<string, string>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new FleetUsage(`${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

async function readRecord(client: Etcd3, key: string): Promise<RolloutRecord | null> {
  const text = await client.get(`${key}/rollout`).string();
  return text === null ? null : parseRollout(text);
}

/** The status lines and summary for `statuses` (exported for tests of the format). */
export function formatStatus(statuses: readonly HostStatus[]): string {
  const sorted = [...statuses].sort((a, b) => a.host_id - b.host_id);
  const lines = sorted.map((s) => `${s.host_id} ${s.md5 ?? '-'} ${s.role}${s.reverted === null ? '' : ` reverted: ${s.reverted.reason}`}`);
  const byMd5 = new Map<string, number>();
  for (const s of sorted) byMd5.set(s.md5 ?? '-', (byMd5.get(s.md5 ?? '-') ?? 0) + 1);
  const reverted = sorted.filter((s) => s.reverted !== null).length;
  const parts = [...byMd5].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m}: ${n}`);
  lines.push(`${sorted.length} hosts; ${parts.join(', ')}${parts.length > 0 ? '; ' : ''}reverted: ${reverted}`);
  return `${lines.join('\n')}\n`;
}

async function run(a: FleetArgs, client: Etcd3, out: (s: string) => void): Promise<number> {
  const key = a.url.key;
  switch (a.verb) {
    case 'status': {
      const all = await client.getAll().prefix(`${key}/status/`).strings();
      const statuses: HostStatus[] = [];
      for (const v of Object.values(all)) {
        try {
          statuses.push(JSON.parse(v) as HostStatus);
        } catch {
          // not a status record
        }
      }
      out(formatStatus(statuses));
      return 0;
    }
    case 'rollout': {
      let old: RolloutRecord | null = null;
      try {
        old = await readRecord(client, key);
      } catch (e) {
        // A record the hosts ignore anyway: a new rollout (with --candidate-*) replaces it.
        if (a.flags.get('--candidate-key') === undefined && a.flags.get('--candidate-file') === undefined) throw e;
      }
      const fraction = number(a.flags, '--fraction');
      if (fraction === undefined || fraction < 0 || fraction > 1) throw new FleetUsage('rollout: --fraction 0..1 is required');
      const keyFlag = a.flags.get('--candidate-key');
      const fileFlag = a.flags.get('--candidate-file');
      const candidate = keyFlag !== undefined ? { key: keyFlag } : fileFlag !== undefined ? { text: readFileSync(fileFlag, 'utf8') } : old?.candidate;
      if (candidate === undefined) throw new FleetUsage('rollout: no rollout yet: give --candidate-key or --candidate-file');
      const g = old?.guard ?? DEFAULT_GUARD;
      const record = parseRollout(
        formatRollout({
          candidate,
          fraction,
          salt: a.flags.get('--salt') ?? old?.salt ?? randomBytes(4).toString('hex'),
          guard: {
            windowS: number(a.flags, '--window-s') ?? g.windowS,
            maxErrorRateIncrease: number(a.flags, '--max-error-rate-increase') ?? g.maxErrorRateIncrease,
            maxP99IncreaseMs: number(a.flags, '--max-p99-increase-ms') ?? g.maxP99IncreaseMs,
          },
        }),
      );
      const text = formatRollout(record);
      await client.put(`${key}/rollout`).value(text);
      out(text);
      return 0;
    }
    case 'promote': {
      const r = await readRecord(client, key);
      if (r === null) throw new FleetUsage(`promote: no rollout at ${key}/rollout`);
      const text = 'key' in r.candidate ? await client.get(r.candidate.key).string() : r.candidate.text;
      if (text === null) throw new FleetUsage(`promote: the candidate key ${'key' in r.candidate ? r.candidate.key : ''} does not exist`);
      await client.put(key).value(text);
      await client.delete().key(`${key}/rollout`);
      out(`promoted: ${key} now holds the candidate; rollout ended\n`);
      return 0;
    }
    default: {
      await client.delete().key(`${key}/rollout`);
      out(`aborted: every host serves ${key}\n`);
      return 0;
    }
  }
}

/** Run `mcrelay fleet …`; resolves with the exit code. */
export async function runFleetCommand(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let args: FleetArgs;
  try {
    args = parse(argv);
  } catch (e) {
    err(`mcrelay fleet: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 64;
  }
  const client = createEtcdClient(args.url, args.auth);
  try {
    return await run(args, client, out);
  } catch (e) {
    err(`mcrelay fleet: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof FleetUsage ? 64 : 1;
  } finally {
    client.close();
  }
}
