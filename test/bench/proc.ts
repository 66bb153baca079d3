/**
 * What the benchmarks read about a process and the machine from /proc: CPU seconds (utime + stime
 * of /proc/PID/stat), peak RSS (VmHWM of /proc/PID/status), the IPv4 main table's prefix count
 * through a process inside a namespace (/proc/PID/net/fib_triestat: instant at a million routes,
 * LAB-NOTES "Kernel tables at scale"), and a wait for the machine to go quiet between runs.
 * Linux only; no namespaces created here (netns.ts).
 */
import { readFileSync } from 'node:fs';

const TICKS = 100; // CLK_TCK on Linux

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Peak resident set size (VmHWM) of a process, in bytes. */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

export function triestatMain(text: string): number {
  return Number(/Prefixes:\s+(\d+)/.exec(text.slice(text.indexOf('Main:')))?.[1] ?? 0);
}

/** Prefixes in the main IPv4 table of the namespace `pid` runs in. */
export function mainPrefixesOf(pid: number): number {
  return triestatMain(readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8'));
}

/** Busy and total jiffies of all CPUs (/proc/stat's first line). */
function cpuJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

/**
 * Deleting a namespace with a million routes goes on in the kernel (LAB-NOTES): waits until the
 * machine is mostly idle over a 500 ms window (at most 15 s). Returns the last busy fraction.
 */
export async function settle(maxMs = 15_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = 1;
  while (Date.now() < deadline) {
    const a = cpuJiffies();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const b = cpuJiffies();
    busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (busy < 0.25) return busy;
  }
  return busy;
}
