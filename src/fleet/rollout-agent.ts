/**
 * Staged rollouts on one host (the rules are in rollout.ts):
 *
 * - watches `KEY/rollout` (and the candidate's own key when the record names one, with its imports);
 * - serves the candidate when this host is in the cohort and has not reverted that candidate, else the
 *   stable config (`KEY`); every switch goes through RouterCore's reload, so a candidate that does not build
 *   is rejected like any bad config and the host stays stable;
 * - after switching to a candidate, the guard compares the traffic since the switch with the window before
 *   it (ProxyStats counters, sampled every second; nothing on the request path) and, on a regression,
 *   reverts to the stable config by itself: no etcd round trip is involved, so it works with etcd down. It
 *   stays reverted for that candidate (by md5) and logs why;
 * - publishes its status at `KEY/status/<host id>` under a 10 s lease, so a dead host's entry expires:
 *   `{"host_id", "md5", "generation", "role", "reverted": null | {"md5", "reason", "at"}, "updated_at"}`.
 *   When the lease is lost (etcd gone longer than its TTL) a new one is taken with capped backoff.
 *
 * An inline candidate (`"candidate": "<text>"`) is JSON(M) and may import only what the stable config
 * imports (those keys are already fetched); a candidate with imports of its own goes in a key.
 */
import { createHash } from 'node:crypto';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import type { JsonmGlobalInputs } from '../config/jsonm.js';
import type { FetchedConfig } from '../config/loader.js';
import { reconnectDelayMs } from './etcd-client.js';
import { EtcdConfigSource } from './etcd-config.js';
import { etcdName, resolveImportKey, type EtcdUrl } from './etcd-url.js';
import { guardVerdict, inCohort, MAX_WINDOW_S, MIN_WINDOW_REQUESTS, parseRollout, windowFigures, type RolloutRecord, type TrafficSample, type WindowFigures } from './rollout.js';

/** TTL of the status lease, seconds. */
export const STATUS_TTL_S = 10;
/** How often the traffic counters are sampled, and the guard looks, ms. */
const SAMPLE_MS = 1000;
const GUARD_TICK_MS = 250;

export type Role = 'stable' | 'candidate';

export interface RolloutHost {
  readonly hostId: number;
  /** Serve `config` now (reload); false when it was rejected (the old config keeps serving). */
  serve(config: FetchedConfig, reason: string): boolean;
  /** Cumulative client-visible counters now. */
  sample(): TrafficSample;
  /** md5 and generation of the config serving now. */
  active(): { readonly md5: string; readonly generation: number } | null;
}

export interface RolloutAgentOptions {
  readonly url: EtcdUrl;
  readonly client: Etcd3;
  readonly globals: JsonmGlobalInputs;
  readonly log: Logger;
  readonly host: RolloutHost;
}

export interface HostStatus {
  readonly host_id: number;
  readonly md5: string | null;
  readonly generation: number;
  readonly role: Role;
  readonly reverted: null | { readonly md5: string; readonly reason: string; readonly at: string };
  readonly updated_at: string;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

export class RolloutAgent {
  role: Role = 'stable';
  /** Candidates this host reverted, by md5. */
  readonly reverted = new Map<string, { reason: string; at: string }>();
  private stable: FetchedConfig | null = null;
  private record: RolloutRecord | null = null;
  private candidate: FetchedConfig | null = null;
  private servingCandidateMd5: string | null = null;
  private readonly recordSource: EtcdConfigSource;
  private candidateSource: EtcdConfigSource | null = null;
  private candidateKey: string | null = null;
  private readonly samples: TrafficSample[] = [];
  private sampleTimer: NodeJS.Timeout | null = null;
  private guardTimer: NodeJS.Timeout | null = null;
  private guardState: { readonly md5: string; readonly since: TrafficSample; readonly before: WindowFigures } | null = null;
  private lease: Lease | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private leaseFailures = 0;
  private publishing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: RolloutAgentOptions) {
    this.recordSource = this.source(`${opts.url.key}/rollout`, true, (c) => this.recordChanged(c));
  }

  get statusKey(): string {
    return `${this.opts.url.key}/status/${this.opts.host.hostId}`;
  }

  /** Start watching the record, sampling traffic and publishing the status. `stable` is what serves now. */
  start(stable: FetchedConfig | null): void {
    this.stable = stable;
    this.takeSample();
    this.sampleTimer = setInterval(() => this.takeSample(), SAMPLE_MS);
    this.sampleTimer.unref();
    void this.recordSource.start(0).then((c) => {
      if (c !== null) this.recordChanged(c);
    });
    this.renewLease();
  }

  /** The stable config changed in etcd (or etcd answered after a start from the dump). */
  setStable(config: FetchedConfig, reason: string): void {
    this.stable = config;
    if (this.role === 'stable') this.opts.host.serve(config, reason);
    this.publish();
  }

  /** This host's status record, as published. */
  status(): HostStatus {
    const active = this.opts.host.active();
    const cand = this.candidate?.text ?? null;
    const rev = cand === null ? undefined : this.reverted.get(md5(cand));
    return {
      host_id: this.opts.host.hostId,
      md5: active?.md5 ?? null,
      generation: active?.generation ?? 0,
      role: this.role,
      reverted: rev === undefined || cand === null ? null : { md5: md5(cand), reason: rev.reason, at: rev.at },
      updated_at: new Date().toISOString(),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.sampleTimer, this.guardTimer, this.leaseTimer]) if (t !== null) clearTimeout(t);
    await this.recordSource.close();
    await this.candidateSource?.close();
    const lease = this.lease;
    this.lease = null;
    if (lease !== null) await Promise.race([lease.revoke().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  }

  // --- record and candidate --------------------------------------------------------------------------------

  private source(key: string, plain: boolean, onChange: (c: FetchedConfig) => void): EtcdConfigSource {
    return new EtcdConfigSource({ url: { ...this.opts.url, key }, client: this.opts.client, globals: this.opts.globals, log: this.opts.log, onChange: (c) => onChange(c), plain, shared: true });
  }

  private recordChanged(c: FetchedConfig): void {
    if (this.closed) return;
    if (c.text === null) {
      this.record = null;
    } else {
      try {
        this.record = parseRollout(c.text);
      } catch (err) {
        this.opts.log.error({ key: `${this.opts.url.key}/rollout`, err: err instanceof Error ? err.message : String(err) }, 'rollout: bad record ignored; serving the stable config');
        this.record = null;
      }
    }
    const r = this.record;
    const wantKey = r !== null && 'key' in r.candidate ? r.candidate.key : null;
    if (wantKey !== this.candidateKey) {
      void this.candidateSource?.close();
      this.candidateSource = null;
      this.candidateKey = wantKey;
      this.candidate = null;
      if (wantKey !== null) {
        const src = this.source(wantKey, false, (cc) => {
          this.candidate = cc;
          this.decide('rollout: candidate key changed');
        });
        this.candidateSource = src;
        void src.start(0).then((cc) => {
          if (cc !== null && this.candidateSource === src) {
            this.candidate = cc;
            this.decide('rollout: candidate read');
          }
        });
      }
    }
    if (r !== null && 'text' in r.candidate) {
      const key = this.opts.url.key;
      this.candidate = { name: etcdName(this.opts.url, `${key}/rollout`), text: r.candidate.text, resolveImport: (p) => resolveImportKey(key, p), imports: this.stable?.imports ?? new Map() };
    }
    if (r === null) this.candidate = null;
    this.decide('rollout record changed');
  }

  /** Serve what the record says this host should, and publish the status. */
  private decide(reason: string): void {
    if (this.closed) return;
    const r = this.record;
    const cand = this.candidate;
    const candMd5 = cand?.text != null ? md5(cand.text) : null;
    const want = r !== null && cand !== null && candMd5 !== null && inCohort(r.salt, this.opts.host.hostId, r.fraction) && !this.reverted.has(candMd5);
    if (want && cand !== null && candMd5 !== null && candMd5 !== this.servingCandidateMd5) {
      const now = this.takeSample();
      const before = windowFigures(this.sampleAt(now.at - r.guard.windowS * 1000), now, MIN_WINDOW_REQUESTS);
      const wasRole = this.role;
      this.role = 'candidate'; // before the reload, which reads it (a candidate is never dumped)
      if (this.opts.host.serve(cand, `${reason}: host ${this.opts.host.hostId} is in the cohort (fraction ${r.fraction}, salt ${JSON.stringify(r.salt)})`)) {
        this.servingCandidateMd5 = candMd5;
        this.guardState = { md5: candMd5, since: now, before };
        this.armGuard();
        this.opts.log.info({ md5: candMd5, before }, 'rollout: serving the candidate; guard armed');
      } else {
        // Rejected like any bad config (logged with its pointer): stay where we were, and do not retry it.
        this.role = wasRole;
        this.reverted.set(candMd5, { reason: 'the candidate config was rejected (invalid; see the log)', at: new Date().toISOString() });
        this.opts.log.warn({ md5: candMd5 }, `rollout: the candidate was rejected; staying on the ${wasRole} config`);
      }
    } else if (!want && this.role === 'candidate') {
      this.toStable(`${reason}: host ${this.opts.host.hostId} is not in the cohort`);
    }
    this.publish();
  }

  private toStable(reason: string): void {
    this.role = 'stable';
    this.servingCandidateMd5 = null;
    this.guardState = null;
    if (this.guardTimer !== null) clearInterval(this.guardTimer);
    this.guardTimer = null;
    if (this.stable !== null) this.opts.host.serve(this.stable, reason);
  }

  // --- the guard ---------------------------------------------------------------------------------------------

  private takeSample(): TrafficSample {
    const s = this.opts.host.sample();
    this.samples.push(s);
    const horizon = s.at - (MAX_WINDOW_S + 5) * 1000;
    let drop = 0;
    while (drop < this.samples.length - 1 && (this.samples[drop]?.at ?? 0) < horizon) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    return s;
  }

  /** The latest sample taken at or before `t` (the oldest one when history is shorter). */
  private sampleAt(t: number): TrafficSample {
    let best = this.samples[0] as TrafficSample;
    for (const s of this.samples) {
      if (s.at <= t) best = s;
      else break;
    }
    return best;
  }

  private armGuard(): void {
    if (this.guardTimer !== null) clearInterval(this.guardTimer);
    this.guardTimer = setInterval(() => this.checkGuard(), GUARD_TICK_MS);
    this.guardTimer.unref();
  }

  private checkGuard(): void {
    const g = this.guardState;
    const r = this.record;
    if (g === null || r === null || this.role !== 'candidate') return;
    const now = this.opts.host.sample();
    const after = windowFigures(g.since, now);
    const v = guardVerdict(r.guard, g.before, after, now.at - g.since.at);
    if (v.kind === 'wait') return;
    if (this.guardTimer !== null) clearInterval(this.guardTimer);
    this.guardTimer = null;
    this.guardState = null;
    if (v.kind === 'pass') {
      this.opts.log.info({ md5: g.md5, before: g.before, after }, 'rollout: guard window passed; keeping the candidate');
      return;
    }
    const at = new Date().toISOString();
    this.reverted.set(g.md5, { reason: v.reason, at });
    this.opts.log.warn({ md5: g.md5, reason: v.reason, before: g.before, after }, 'rollout: guard tripped; reverting to the stable config');
    this.toStable(`rollout: guard reverted candidate ${g.md5}: ${v.reason}`);
    this.publish();
  }

  // --- status under a lease ------------------------------------------------------------------------------------

  private renewLease(): void {
    if (this.closed) return;
    const lease = this.opts.client.lease(STATUS_TTL_S);
    this.lease = lease;
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.closed) return;
      this.lease = null;
      const wait = reconnectDelayMs(this.leaseFailures++);
      this.opts.log.warn({ err: err.message, retryMs: wait }, 'rollout: status lease lost; taking a new one');
      this.leaseTimer = setTimeout(() => this.renewLease(), wait);
    });
    lease.on('keepaliveSucceeded', () => {
      this.leaseFailures = 0;
    });
    this.publish();
  }

  /** Put the status under the lease (serialized; a failure waits for the next change or lease). */
  publish(): void {
    const lease = this.lease;
    if (lease === null || this.closed) return;
    this.publishing = this.publishing.then(async () => {
      if (this.lease !== lease || this.closed) return;
      try {
        await lease.put(this.statusKey).value(JSON.stringify(this.status()));
      } catch (err) {
        this.opts.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'rollout: status not published');
      }
    });
  }
}
