import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { KEY_HASHES, getKeyHash } from '../../../src/routes/hash/key-hashes.js';
import { md5Digest } from '../../../src/routes/hash/md5.js';
import {
  buildKetamaRing,
  ketamaHash,
  ketamaNodeName,
  ketamaPointsForServer,
} from '../../../src/routes/hash/ketama.js';
import { createSelector } from '../../../src/routes/hash/selector.js';

// Vectors typed in from peers.md §2.4 / §2.5.
const B = (s: string): Buffer => Buffer.from(s, 'utf8');
const h = (name: string, s: string | Buffer) => {
  const b = typeof s === 'string' ? B(s) : s;
  return getKeyHash(name)(b, b.length);
};

describe('twemproxy key hashes', () => {
  it.each([
    ['one_at_a_time', 2297466611], ['md5', 3195025439], ['crc16', 3662830516], ['crc32', 10542],
    ['crc32a', 2838417488], ['murmur', 4142305122], ['fnv1_64', 473199127], ['fnv1a_64', 1488911807],
    ['fnv1_32', 67176023], ['fnv1a_32', 280767167], ['hsieh', 3738850110], ['jenkins', 1442444624],
  ] as const)('%s("apple") = %i', (name, expected) => {
    expect(h(name, 'apple')).toBe(expected);
  });

  it('covers exactly the 12 twemproxy hash names', () => {
    expect(Object.keys(KEY_HASHES).sort()).toEqual(
      ['crc16', 'crc32', 'crc32a', 'fnv1_32', 'fnv1_64', 'fnv1a_32', 'fnv1a_64', 'hsieh', 'jenkins', 'md5', 'murmur', 'one_at_a_time'].sort(),
    );
    expect(() => getKeyHash('sha1')).toThrow(/unknown key hash "sha1"/);
  });

  it('fnv1a_64 is the 32-bit quirk (foo, bar, k0, k1, café) and md5("foo")', () => {
    expect(h('fnv1a_64', 'foo')).toBe(4275688823);
    expect(h('fnv1a_64', 'bar')).toBe(322520602);
    expect(h('fnv1a_64', 'k0')).toBe(3043107598);
    expect(h('fnv1a_64', 'k1')).toBe(3043108033);
    expect(h('fnv1a_64', 'café')).toBe(3472276361);
    expect(h('md5', 'foo')).toBe(3675831724);
  });

  it('sign-extends bytes >= 0x80 (x86 signed char) in fnv1a', () => {
    // one step of fnv1a_32 from the offset basis with byte 0xff: (0x811c9dc5 ^ 0xffffffff) * 16777619
    const expected = Number(BigInt.asUintN(32, BigInt((0x811c9dc5 ^ 0xffffffff) >>> 0) * 16777619n));
    expect(h('fnv1a_32', Buffer.from([0xff]))).toBe(expected);
  });

  it('all hashes are uint32 and length-bounded (hash a prefix only)', () => {
    const b = B('apple-and-more');
    for (const [name, f] of Object.entries(KEY_HASHES)) {
      const v = f(b, 5);
      expect(v, name).toBe(h(name, 'apple'));
      for (let len = 0; len < 40; len++) {
        const x = Buffer.alloc(len, 0xe9);
        const r = f(x, len);
        expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff, `${name} len ${len}`).toBe(true);
      }
    }
  });
});

describe('md5', () => {
  it('matches node:crypto on random inputs of length 0..300', () => {
    let x = 7;
    for (let len = 0; len <= 300; len++) {
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 24;
      expect(md5Digest(b).toString('hex')).toBe(createHash('md5').update(b).digest('hex'));
    }
  });
});

describe('ketama', () => {
  it('ketama_hash vectors and ring words for "server1-0"', () => {
    expect(ketamaHash('server1-8', 0)).toBe(3853726576);
    expect(ketamaHash('server1-8', 3)).toBe(2667054752);
    expect([0, 1, 2, 3].map((a) => ketamaHash('server1-0', a))).toEqual([2394223911, 776252252, 2876546053, 251165102]);
  });

  it('node names: port 11211 omitted, explicit names, unix sockets', () => {
    expect(ketamaNodeName('10.0.0.1', 11211)).toBe('10.0.0.1');
    expect(ketamaNodeName('10.0.0.1', 11212)).toBe('10.0.0.1:11212');
    expect(ketamaNodeName('10.0.0.1', 11212, 'cacheA')).toBe('cacheA');
    expect(ketamaNodeName('/tmp/mc.sock', 0)).toBe('/tmp/mc.sock');
  });

  const SET_A_WEIGHTS = [600, 300, 200, 350, 1000, 800, 950, 100];
  const SET_A_SERVERS = SET_A_WEIGHTS.map((_, i) => ({ host: '127.0.0.1', port: 22000 + i }));
  const SET_A_NAMES = SET_A_WEIGHTS.map((_, i) => `10.0.1.${i + 1}`);

  it('Set A point counts (float32 math): 176/88/56/104/296/236/280/28 = 1264', () => {
    const total = SET_A_WEIGHTS.reduce((a, b) => a + b, 0);
    expect(SET_A_WEIGHTS.map((w) => ketamaPointsForServer(w, total, 8))).toEqual([176, 88, 56, 104, 296, 236, 280, 28]);
    const ring = buildKetamaRing(SET_A_WEIGHTS.map((w, i) => ({ name: SET_A_NAMES[i]!, weight: w })));
    expect(ring.points.length).toBe(1264);
    expect(ketamaPointsForServer(1, 3, 3)).toBe(160);
    expect(ring.points[ring.points.length - 1]).toBe(0xfffbdf7f);
  });

  it('Set A placements (md5 key hash, weighted named servers)', () => {
    const s = createSelector(
      { hashFunc: 'Ketama', keyHash: 'md5', weights: SET_A_WEIGHTS, names: SET_A_NAMES },
      SET_A_SERVERS,
    );
    const cases: Array<[string, string]> = [
      ['SVa_]_V41)', '10.0.1.7'], ['@7RU6C6T+Z', '10.0.1.5'], ['30C1*Z*S/_', '10.0.1.2'], ['/XLN0@+36;', '10.0.1.1'],
      ['ERR:EC58G>', '10.0.1.7'], ['726bW=9*a4', '10.0.1.7'], ['1I=cTMNTKF', '10.0.1.5'], ['VDEAAAAA', '10.0.1.3'],
    ];
    for (const [key, name] of cases) expect({ key, server: SET_A_NAMES[s.select(B(key))] }).toEqual({ key, server: name });
    expect(h('md5', 'VDEAAAAA')).toBe(0xfffcd1b5);
  });

  it('default fnv1a_64: k0..k9 all land on one server (tiny multiplier quirk)', () => {
    const servers = [0, 1, 2, 3].map((i) => ({ host: '127.0.0.1', port: 23000 + i }));
    const s = createSelector({ hashFunc: 'Ketama' }, servers);
    const set = new Set<number>();
    for (let i = 0; i < 10; i++) set.add(s.select(B('k' + i)));
    expect(set.size).toBe(1);
  });

  it('1-server pool, empty key and hash_tag', () => {
    const one = createSelector({ hashFunc: 'Ketama' }, [{ host: 'a', port: 1 }]);
    expect(one.select(B('anything'))).toBe(0);
    const servers = Array.from({ length: 8 }, (_, i) => ({ host: '127.0.0.1', port: 24000 + i }));
    const s = createSelector({ hashFunc: 'Ketama', keyHash: 'md5' }, servers);
    const ring = buildKetamaRing(servers.map((x) => ({ name: ketamaNodeName(x.host, x.port), weight: 1 })));
    expect(s.select(B(''))).toBe(ring.owners[0]); // h = 0 -> first point
    const t = createSelector({ hashFunc: 'Ketama', keyHash: 'md5', hashTag: '{}' }, servers);
    for (let i = 0; i < 200; i++) {
      expect(t.select(B(`user:{${i}}:a`))).toBe(s.select(B(String(i))));
      expect(t.select(B(`x{}y${i}`))).toBe(s.select(B(`x{}y${i}`))); // empty tag => whole key
      expect(t.select(B(`x{y${i}`))).toBe(s.select(B(`x{y${i}`))); // no closing => whole key
    }
  });

  it('modula: slots repeated by weight, h % slots', () => {
    const servers = [0, 1, 2].map((i) => ({ host: '127.0.0.1', port: 25000 + i }));
    const s = createSelector({ hashFunc: 'Modula', keyHash: 'crc32a', weights: [1, 2, 1] }, servers);
    const slots = [0, 1, 1, 2];
    for (let i = 0; i < 500; i++) {
      const k = B('mod' + i);
      expect(s.select(k)).toBe(slots[h('crc32a', k) % 4]);
    }
  });
});
