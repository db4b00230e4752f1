// /proc readers and small helpers for bench/probe-cpu.mjs (Linux only).
//
//   cpuMicros(pid)    utime/stime of the whole process (all threads), µs
//   switches(pid)     voluntary + involuntary context switches summed over all threads
//   memory(pid)       VmRSS / VmHWM, bytes
//   lineReader(stream)  () => Promise<string>, one line per call
//   median(xs)
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const CLK_TCK = Number(
  spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100,
);

/** utime and stime (proc(5) fields 14, 15), which cover every thread of the process. */
export async function cpuMicros(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) * 1e6) / CLK_TCK, sys: (Number(f[12]) * 1e6) / CLK_TCK };
}

/** Context switches of all threads (each one is a wake-up of that thread). */
export async function switches(pid) {
  let voluntary = 0;
  let involuntary = 0;
  let threads = 0;
  let tids = [];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return { voluntary, involuntary, threads };
  }
  for (const tid of tids) {
    try {
      const s = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8');
      voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      threads++;
    } catch {
      // thread exited meanwhile
    }
  }
  return { voluntary, involuntary, threads };
}

export async function memory(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

export function cpuDelta(a, b) {
  return { user: b.user - a.user, sys: b.sys - a.sys, total: b.user - a.user + b.sys - a.sys };
}

export function lineReader(stream) {
  const rl = createInterface({ input: stream });
  const queue = [];
  const waiters = [];
  let closed = false;
  rl.on('line', (l) => (waiters.length > 0 ? waiters.shift().resolve(l) : queue.push(l)));
  rl.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w.reject(new Error('stream closed'));
  });
  return () => {
    if (queue.length > 0) return Promise.resolve(queue.shift());
    if (closed) return Promise.reject(new Error('stream closed'));
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
