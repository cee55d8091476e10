/**
 * An etcd v3 client (npm `etcd3`) set up for a sidecar that must never wait on etcd:
 *
 * - TLS and auth follow etcdctl's conventions: `--etcd-cacert` (CA of the etcd servers; TLS is on when it,
 *   `--etcd-cert` or `--etcd-key` is given), `--etcd-cert` / `--etcd-key` (client certificate), and
 *   `--etcd-user NAME` with `--etcd-password-file FILE` (first line; etcdctl's `--user name:password` form
 *   is accepted too, but a password on a command line is visible in `ps`).
 * - Every unary call has a deadline (CALL_DEADLINE_MS): a blackholed endpoint fails fast instead of hanging
 *   a read for the library's default. Streams (watches, lease keepalives) have none.
 * - The library's own retry and circuit-breaker policies are off: the callers (etcd-config.ts) retry with
 *   their own capped backoff, and a breaker that opens for 5 s would hold a re-read past that cap.
 * - Watch streams re-attach by themselves after a disconnect, from the last revision each watch saw, with
 *   exponential backoff capped at RECONNECT_CAP_MS (2 s).
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { noop, type IBackoff } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { endpointUrls, type EtcdUrl } from './etcd-url.js';

/** Longest wait between two attempts to reach etcd (reads and watch re-attach), ms. */
export const RECONNECT_CAP_MS = 2000;
/** First wait after a failure, ms. */
export const RECONNECT_INITIAL_MS = 100;
/** Deadline of one unary call (a get, a put, a lease grant), ms. */
export const CALL_DEADLINE_MS = 2000;

export interface EtcdAuthOptions {
  /** `--etcd-cacert`: CA certificate(s) of the etcd servers (PEM). */
  readonly cacert: string | null;
  /** `--etcd-cert` / `--etcd-key`: client certificate and key (PEM). */
  readonly cert: string | null;
  readonly key: string | null;
  /** `--etcd-user NAME` (or etcdctl's `NAME:PASSWORD`). */
  readonly user: string | null;
  /** `--etcd-password-file FILE`: the password is its first line. */
  readonly passwordFile: string | null;
}

export const NO_ETCD_AUTH: EtcdAuthOptions = { cacert: null, cert: null, key: null, user: null, passwordFile: null };

/** The `--etcd-*` flags (ProxyOptions fields) as the client takes them. */
export function etcdAuthOf(o: {
  readonly etcdCacert: string | null;
  readonly etcdCert: string | null;
  readonly etcdKey: string | null;
  readonly etcdUser: string | null;
  readonly etcdPasswordFile: string | null;
}): EtcdAuthOptions {
  return { cacert: o.etcdCacert, cert: o.etcdCert, key: o.etcdKey, user: o.etcdUser, passwordFile: o.etcdPasswordFile };
}

/** The wait before attempt `n + 1` after `n` failures in a row: doubling from 100 ms, capped at 2 s, -25% jitter. */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_CAP_MS, RECONNECT_INITIAL_MS * 2 ** Math.min(failures, 16));
  return Math.round(base * (0.75 + 0.25 * random()));
}

/** reconnectDelayMs as the cockatiel backoff the watch manager steps through. */
function backoffAfter(failures: number): IBackoff<unknown> {
  return { duration: reconnectDelayMs(failures), next: () => backoffAfter(failures + 1) };
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`${flag} ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** The client options for `url` with `auth` (files read now). @throws Error when a file cannot be read */
export function etcdClientOptions(url: EtcdUrl, auth: EtcdAuthOptions): IOptions {
  const tls = auth.cacert !== null || auth.cert !== null || auth.key !== null;
  if ((auth.cert === null) !== (auth.key === null)) throw new Error('--etcd-cert and --etcd-key go together');
  const options: IOptions = {
    hosts: endpointUrls(url, tls),
    faultHandling: {
      host: () => noop,
      global: noop,
      // The watch manager takes its first wait from `next()` (and again after each success, to reset).
      watchBackoff: { duration: RECONNECT_INITIAL_MS, next: () => backoffAfter(0) },
    },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
  };
  if (tls) {
    options.credentials = {
      rootCertificate: auth.cacert !== null ? readPem('--etcd-cacert', auth.cacert) : Buffer.from(rootCertificates.join('\n')),
      ...(auth.key !== null ? { privateKey: readPem('--etcd-key', auth.key) } : {}),
      ...(auth.cert !== null ? { certChain: readPem('--etcd-cert', auth.cert) } : {}),
    };
  }
  if (auth.user !== null) {
    const colon = auth.user.indexOf(':');
    let username = auth.user;
    let password: string;
    if (auth.passwordFile !== null) {
      password = (readPem('--etcd-password-file', auth.passwordFile).toString('utf8').split(/\r?\n/)[0] ?? '');
    } else if (colon > 0) {
      username = auth.user.slice(0, colon);
      password = auth.user.slice(colon + 1);
    } else {
      throw new Error('--etcd-user needs --etcd-password-file (or NAME:PASSWORD)');
    }
    options.auth = { username, password };
  } else if (auth.passwordFile !== null) {
    throw new Error('--etcd-password-file needs --etcd-user');
  }
  return options;
}

/** A client for `url`. @throws Error when a TLS or password file cannot be read */
export function createEtcdClient(url: EtcdUrl, auth: EtcdAuthOptions): Etcd3 {
  return new Etcd3(etcdClientOptions(url, auth));
}
