// Process and machine readings the benchmark drivers share (runner.mjs, embedded.mjs): free loopback ports,
// a process's CPU ticks, whole-core busy counters, and the end of a log file.
import fs from 'node:fs';
import net from 'node:net';

/** A free port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

/** utime + stime of one process, in clock ticks (NaN when it is gone). */
export function ticksOf(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // fields 14 and 15 (1-based), after pid and comm
  } catch { return NaN; }
}

/** Busy, steal and total ticks per core, from /proc/stat. */
export function cpuStat() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = line.match(/^(cpu\d+)\s+(.*)$/);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
    out[m[1]] = { busy: user + nice + system + irq + softirq, steal: steal || 0, total: user + nice + system + idle + iowait + irq + softirq + (steal || 0) };
  }
  return out;
}

/** The last three lines of a log file (for error messages), or ''. */
export function tail(f) {
  try { return fs.readFileSync(f, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(0, 400); } catch { return ''; }
}
