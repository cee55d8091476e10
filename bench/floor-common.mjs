// What the floor proxies share (bench/floor-proxy.mjs, bench/floor-pool.mjs): framing and writing.

const SP = 32;

/** The number in line[from, to) (ASCII digits), or -1. */
export function num(buf, from, to) {
  let v = 0;
  if (from >= to) return -1;
  for (let i = from; i < to; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Start of the n-th space-separated token of buf[s, e) (0-based), and its end. */
export function token(buf, s, e, n) {
  let i = s;
  for (let t = 0; ; t++) {
    while (i < e && buf[i] === SP) i++;
    const ts = i;
    while (i < e && buf[i] !== SP) i++;
    if (t === n) return [ts, i];
    if (i >= e) return [e, e];
  }
}

/** Write `pieces` to `sock`: one write, or one corked writev. */
export function writeAll(sock, pieces) {
  if (pieces.length === 1) sock.write(pieces[0]);
  else {
    sock.cork();
    for (const b of pieces) sock.write(b);
    sock.uncork();
  }
}
