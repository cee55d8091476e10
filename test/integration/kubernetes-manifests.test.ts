/**
 * examples/kubernetes: the manifests agree with each other and with mcrelay itself.
 * - Every flag the sidecar passes is one `mcrelay --help` lists, and the config in the ConfigMap passes
 *   `--validate-config` (both run through the CLI).
 * - The config is mounted as a directory (a subPath mount would never be updated) at the path --config names.
 * - The pool's DNS name is the headless Service's cluster name, on the Service's and the container's port;
 *   the StatefulSet is governed by that Service.
 * - Loopback only: the client port and the admin listener bind 127.0.0.1; the app's MEMCACHED_ADDR is that
 *   port; the readiness probe asks /healthz on the admin port from inside the pod.
 * - SIGTERM drain: --shutdown-timeout-ms is well inside terminationGracePeriodSeconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './helpers/proxy-harness.js';

type Obj = Record<string, unknown>;
const DIR = join(REPO_ROOT, 'examples', 'kubernetes');
const CLI = join(REPO_ROOT, 'dist', 'cli.js');

const obj = (v: unknown, what: string): Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Obj;
};
const arr = (v: unknown, what: string): unknown[] => {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  return v;
};

function docs(): Obj[] {
  const out: Obj[] = [];
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(DIR, f), 'utf8'))) {
      expect(d.errors, f).toEqual([]);
      out.push(obj(d.toJS(), f));
    }
  }
  return out;
}

function find(all: Obj[], kind: string, name: string): Obj {
  const d = all.find((x) => x['kind'] === kind && obj(x['metadata'], kind)['name'] === name);
  if (d === undefined) throw new Error(`no ${kind} ${name} in examples/kubernetes`);
  return d;
}

/** `--flag value` pairs of an args list (every flag the example passes takes a value). */
function flags(args: unknown[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) m.set(String(args[i]), String(args[i + 1]));
  return m;
}

describe('examples/kubernetes manifests', () => {
  let all: Obj[];
  let pod: Obj;
  let sidecar: Obj;
  let args: Map<string, string>;
  beforeAll(async () => {
    await ensureBuilt();
    all = docs();
    pod = obj(obj(obj(find(all, 'Deployment', 'web')['spec'], 'spec')['template'], 'template')['spec'], 'pod spec');
    const inits = arr(pod['initContainers'], 'initContainers').map((c) => obj(c, 'container'));
    sidecar = inits.find((c) => c['name'] === 'mcrelay') as Obj;
    expect(sidecar).toBeDefined();
    args = flags(arr(sidecar['args'], 'args'));
  });

  it('runs mcrelay as a native sidecar with flags its --help lists', () => {
    expect(sidecar['restartPolicy']).toBe('Always');
    const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    for (const f of args.keys()) expect(help, `flag ${f}`).toMatch(new RegExp(`(^|[\\s,])${f.replace(/[-]/g, '\\-')}([\\s,=]|$)`, 'm'));
  });

  it('mounts the ConfigMap as a directory at the path --config names, and the config is valid', () => {
    const config = args.get('--config') ?? '';
    expect(config.startsWith('file:')).toBe(true);
    const path = config.slice('file:'.length);
    const mount = arr(sidecar['volumeMounts'], 'volumeMounts').map((m) => obj(m, 'mount')).find((m) => path.startsWith(`${String(m['mountPath'])}/`));
    expect(mount, 'a mount holding the config').toBeDefined();
    expect(mount?.['subPath'], 'a subPath mount is never updated').toBeUndefined();
    const volume = arr(pod['volumes'], 'volumes').map((v) => obj(v, 'volume')).find((v) => v['name'] === mount?.['name']);
    const cmName = obj(volume?.['configMap'], 'configMap volume')['name'];
    const cm = find(all, 'ConfigMap', String(cmName));
    const key = path.slice(String(mount?.['mountPath']).length + 1);
    const text = obj(cm['data'], 'data')[key];
    expect(typeof text).toBe('string');
    const tmp = mkdtempSync(join(tmpdir(), 'mcrelay-k8s-'));
    try {
      writeFileSync(join(tmp, key), String(text));
      const out = execFileSync(process.execPath, [CLI, '--config', `file:${join(tmp, key)}`, '--validate-config'], { encoding: 'utf8' });
      expect(out).toContain('config is valid');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the pool reads the headless Service of the StatefulSet, on its port', () => {
    const cm = find(all, 'ConfigMap', 'mcrelay-config');
    const config = JSON.parse(String(obj(cm['data'], 'data')['mcrelay.json'])) as Obj;
    const servers = obj(obj(obj(config['pools'], 'pools')['main'], 'pool main')['servers'], 'servers');
    const svc = find(all, 'Service', 'memcached');
    const svcSpec = obj(svc['spec'], 'service spec');
    expect(svcSpec['clusterIP']).toBe('None');
    const meta = obj(svc['metadata'], 'metadata');
    expect(servers['dns']).toBe(`${String(meta['name'])}.${String(meta['namespace'])}.svc.cluster.local`);
    const svcPort = obj(arr(svcSpec['ports'], 'ports')[0], 'port');
    expect(servers['port']).toBe(svcPort['port']);
    const sts = find(all, 'StatefulSet', 'memcached');
    const stsSpec = obj(sts['spec'], 'statefulset spec');
    expect(stsSpec['serviceName']).toBe(meta['name']);
    const selector = obj(obj(stsSpec['selector'], 'selector')['matchLabels'], 'matchLabels');
    expect(obj(svcSpec['selector'], 'service selector')).toEqual(selector);
    const mc = obj(arr(obj(obj(stsSpec['template'], 'template')['spec'], 'spec')['containers'], 'containers')[0], 'memcached');
    const cport = obj(arr(mc['ports'], 'ports')[0], 'container port');
    expect(cport['containerPort']).toBe(svcPort['port']);
    expect(cport['name']).toBe(svcPort['targetPort']);
  });

  it('listens on loopback only, and the app and the probe use those ports', () => {
    expect(args.get('--listen-addresses')).toBe('127.0.0.1');
    expect(args.get('--admin-address')).toBe('127.0.0.1');
    const app = obj(arr(pod['containers'], 'containers')[0], 'app');
    const env = arr(app['env'], 'env').map((e) => obj(e, 'env'));
    expect(env.find((e) => e['name'] === 'MEMCACHED_ADDR')?.['value']).toBe(`127.0.0.1:${args.get('-p') ?? ''}`);
    const probe = arr(obj(obj(sidecar['readinessProbe'], 'readinessProbe')['exec'], 'exec')['command'], 'command').join(' ');
    expect(probe).toContain(`http://127.0.0.1:${args.get('--admin-port') ?? ''}/healthz`);
  });

  it('drains within the grace period', () => {
    const grace = Number(pod['terminationGracePeriodSeconds']);
    const drain = Number(args.get('--shutdown-timeout-ms'));
    expect(drain).toBeGreaterThan(0);
    expect(drain + 5000).toBeLessThanOrEqual(grace * 1000);
  });
});
