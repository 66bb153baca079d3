/**
 * A same-run reference for the benchmarks: the CPU time BIRD 2 spends receiving N IPv4 /26
 * prefixes over one eBGP session into its RIB (no kernel export). Two BIRDs in network namespaces
 * of a Lab; the sender has N static blackhole routes; the receiver's CPU (utime + stime from
 * /proc/PID/stat) is read before the session comes up and once every prefix is imported.
 * Returns undefined, with the reason, when this machine cannot run it (not root, no BIRD).
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, Lab, waitFor } from '../helpers/netns.js';

export interface BirdReceive {
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

const TICKS = 100; // CLK_TCK on Linux

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

export async function birdReceive(prefixes: number): Promise<BirdReceive | string> {
  if (!isRoot) return 'not root';
  if (!existsSync('/usr/sbin/bird')) return 'BIRD 2 is not installed (apt-get install bird2)';
  const dir = mkdtempSync(join(tmpdir(), 'rack-bench-'));
  const lab = await Lab.create('bench');
  try {
    const s = await lab.namespace('s');
    const r = await lab.namespace('r');
    await lab.veth(s, '10.255.0.1/30', r, '10.255.0.2/30');
    const lines: string[] = [];
    for (let i = 0; i < prefixes; i++) {
      const a = (0x0a000000 + i * 64) >>> 0;
      lines.push(`route ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/26 blackhole;`);
    }
    writeFileSync(join(dir, 'routes.conf'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 's.conf'), [
      'router id 10.255.0.1;',
      'protocol device {}',
      'protocol static { ipv4;',
      `include "${join(dir, 'routes.conf')}";`,
      '}',
      'protocol bgp node { local 10.255.0.1 as 65100; neighbor 10.255.0.2 as 65101; ipv4 { import none; export all; }; }',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'r.conf'), [
      'router id 10.255.0.2;',
      'protocol device {}',
      'protocol bgp tor { local 10.255.0.2 as 65101; neighbor 10.255.0.1 as 65100; ipv4 { import all; export none; }; }',
      '',
    ].join('\n'));
    const rsock = join(dir, 'r.ctl');
    const ssock = join(dir, 's.ctl');
    const receiver = lab.spawn(r, 'bird', ['-f', '-c', join(dir, 'r.conf'), '-s', rsock, '-P', join(dir, 'r.pid')]);
    await waitFor(() => existsSync(rsock), { timeoutMs: 10_000, what: 'the receiving BIRD to open its socket' });
    const pid = receiver.pid;
    if (pid === undefined) return 'could not start BIRD';
    const before = cpuTicks(pid);
    const started = performance.now();
    lab.spawn(s, 'bird', ['-f', '-c', join(dir, 's.conf'), '-s', ssock, '-P', join(dir, 's.pid')]);
    const imported = async (): Promise<number> => {
      // LAB-NOTES: a quiet peer can stall BIRD's sender near the end; a query keeps it turning.
      if (existsSync(ssock)) await lab.exec(s, 'birdc', ['-s', ssock, 'show', 'status']);
      const { stdout } = await lab.exec(r, 'birdc', ['-s', rsock, 'show', 'protocols', 'all', 'tor']);
      return Number(/Routes:\s+(\d+) imported/.exec(stdout)?.[1] ?? 0);
    };
    await waitFor(async () => (await imported()) >= prefixes, { timeoutMs: 120_000, intervalMs: 50, what: `BIRD to import ${prefixes} prefixes` });
    const after = cpuTicks(pid);
    return { cpuSeconds: (after - before) / TICKS, wallSeconds: (performance.now() - started) / 1000 };
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
