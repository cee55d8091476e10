/**
 * Base64 key decoding as memcached 1.6.18 does it for the meta `b` flag, so mcrelay routes on the same
 * bytes memcached stores and rejects exactly the keys memcached rejects (`CLIENT_ERROR error decoding key`):
 *
 * - bytes outside `A-Z a-z 0-9 + / =` are skipped, wherever they are;
 * - the number of remaining bytes must be a non-zero multiple of 4, else the key is rejected;
 * - groups of 4 decode to 3 bytes; the first group that holds a `=` ends the key: one `=` seen so far
 *   drops one byte of that group, two drop two, more rejects the key.
 *
 * This is more lenient than RFC 4648 (and than Node's decoder in other ways), hence its own code.
 */

/** Sextet of each byte, or -1 for a byte that is skipped; `=` decodes as 0 and counts as padding. */
const SEXTET = (() => {
  const t = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  t[0x3d] = 0;
  return t;
})();

/** Decode `buf[s, e)`; null when memcached would answer `error decoding key`. */
export function decodeBase64Key(buf: Buffer, s: number, e: number): Buffer | null {
  let count = 0;
  for (let i = s; i < e; i++) if ((SEXTET[buf[i] as number] as number) >= 0) count++;
  if (count === 0 || count % 4 !== 0) return null;
  const out = Buffer.allocUnsafe((count / 4) * 3);
  let o = 0;
  let n = 0;
  let pad = 0;
  let acc = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i] as number;
    const v = SEXTET[c] as number;
    if (v < 0) continue;
    if (c === 0x3d) pad++;
    acc = (acc << 6) | v;
    if (++n < 4) continue;
    out[o++] = (acc >>> 16) & 0xff;
    out[o++] = (acc >>> 8) & 0xff;
    out[o++] = acc & 0xff;
    n = 0;
    acc = 0;
    if (pad > 0) {
      if (pad > 2) return null;
      o -= pad;
      break;
    }
  }
  return o === 0 ? null : out.subarray(0, o);
}
