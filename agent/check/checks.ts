/**
 * The rows of `agentctl check` (SPEC.md), pure: from the engines' snapshots and the probe results
 * to one row per check with status ok | warn | fail and a detail an operator can act on.
 * sessions: every enabled peer Established. fib: the kernel matches the RIB, nothing refused or
 * in CONFLICT. forwarding: the sysctls. tunnel: when IPIP routes are wanted, the device exists and
 * is up. nexthop: the two probes judged together: both lost is unreachable, the full-size one
 * lost while the small one is answered is an MTU black hole (no ICMP "fragmentation needed"
 * came back: the failure PMTUD cannot see, projectcalico/calico#8953). probe: next hops that could
 * not be probed at all (no CAP_NET_RAW, a raw socket that cannot be opened or kept failing) are one
 * failed row naming the cause, never a passing warn: a gate must not pass blind (issue 19 item 13).
 * Not here: reading anything (checker.ts) or sending (prober.ts).
 */
import type { CheckAnswer, CheckRow, CheckStatus } from '../control/api.js';
import type { ProbeResult } from './prober.js';
import { SMALL_PACKET, type Target } from './targets.js';

export interface SessionInput {
  /** The peer's address; an interface peer's interface (BGP unnumbered). */
  readonly address: string;
  /** An interface peer's link-local neighbour ('' while unknown); absent for other peers. */
  readonly linkLocal?: string;
  readonly state: string;
  readonly enabled: boolean;
  readonly lastError: string;
}

export interface FibInput {
  readonly routes: number;
  readonly desired: number;
  readonly inSync: boolean;
  readonly converged: boolean;
  readonly pending: number;
  readonly errors: readonly { readonly prefix: string; readonly code: string; readonly message: string }[];
}

/** A sysctl's value as read from /proc/sys ('1', '0'), or the errno name when unreadable. */
export type SysctlValue = { readonly value: string } | { readonly error: string };

export interface TunnelInput {
  readonly wanted: boolean;
  readonly device: string;
  /** null: no such device. */
  readonly link: { readonly up: boolean; readonly mtu: number; readonly kind: string } | null;
}

const row = (name: string, target: string, status: CheckStatus, detail: string): CheckRow => ({ name, target, status, detail });

export function sessionsRow(sessions: readonly SessionInput[]): CheckRow {
  const enabled = sessions.filter((s) => s.enabled);
  const target = `${enabled.length} peer${enabled.length === 1 ? '' : 's'}`;
  if (enabled.length === 0) return row('sessions', target, 'warn', 'no enabled peers: nothing is learned or announced');
  const down = enabled.filter((s) => s.state !== 'Established');
  if (down.length === 0) return row('sessions', target, 'ok', 'all Established');
  const list = down.slice(0, 5).map((s) => `${s.address} ${s.state}${s.lastError === '' ? '' : ` (${s.lastError})`}`).join(', ');
  return row('sessions', target, 'fail', `${down.length} not Established: ${list}${down.length > 5 ? ', ...' : ''}`);
}

export function fibRow(fib: FibInput): CheckRow {
  const target = `${fib.routes} routes`;
  const refused = fib.errors;
  if (refused.length > 0) {
    const codes = new Map<string, string[]>();
    for (const e of refused) codes.set(e.code, [...(codes.get(e.code) ?? []), e.prefix]);
    const parts = [...codes].map(([code, prefixes]) => `${code} ${prefixes.slice(0, 3).join(' ')}${prefixes.length > 3 ? ` (+${prefixes.length - 3})` : ''}`);
    return row('fib', target, 'fail', `${refused.length} not installed: ${parts.join('; ')}`);
  }
  if (fib.inSync) return row('fib', target, 'ok', `the kernel matches the RIB (${fib.desired} wanted)`);
  if (!fib.converged) return row('fib', target, 'warn', 'starting: routes of the previous run kept until the RIB has converged');
  return row('fib', target, 'warn', `catching up: ${fib.pending} changes pending`);
}

export function forwardingRow(sysctl: string, value: SysctlValue): CheckRow {
  if ('error' in value) return row('forwarding', sysctl, 'warn', `cannot read /proc/sys: ${value.error}`);
  if (value.value === '1') return row('forwarding', sysctl, 'ok', 'on');
  return row('forwarding', sysctl, 'fail', `${value.value}: this node drops packets it should route`);
}

export function tunnelRow(tunnel: TunnelInput): CheckRow | null {
  if (!tunnel.wanted) return null;
  if (tunnel.link === null) return row('tunnel', tunnel.device, 'fail', 'missing: IPIP routes cannot be installed');
  const kind = tunnel.link.kind === '' ? '' : `${tunnel.link.kind}, `;
  if (!tunnel.link.up) return row('tunnel', tunnel.device, 'fail', `down (${kind}mtu ${tunnel.link.mtu})`);
  return row('tunnel', tunnel.device, 'ok', `up (${kind}mtu ${tunnel.link.mtu})`);
}

const ms = (rtt: number): string => `${rtt < 10 ? rtt.toFixed(2) : rtt.toFixed(1)} ms`;

function sizeNote(t: Target): string {
  if (t.sizeFrom === 'tunnel') return `; IPIP via ${t.device}: tunnel mtu ${t.packetBytes - 20} + 20`;
  if (t.sizeFrom === 'assumed') return `; device unknown, ${t.packetBytes} assumed`;
  return '';
}

function why(result: ProbeResult, timeoutS: number): string {
  switch (result.kind) {
    case 'lost': return `lost (${result.attempts} ${result.attempts === 1 ? 'try' : 'tries'}, ${timeoutS} s)`;
    case 'icmp-error': return `ICMP ${result.error}${result.code === 0 ? '' : ` code ${result.code}`} from ${result.from}`;
    case 'send-error': return `not sent: ${result.errno}`;
    case 'not-sent': return `not sent within the ${timeoutS} s timeout`;
    case 'no-socket': return result.message;
    case 'socket-error': return `raw ICMP socket failed (${result.errno}), reopened ${result.reopens} time${result.reopens === 1 ? '' : 's'}`;
    case 'answered': return `answered in ${ms(result.rttMs)}`;
  }
}

/** One next hop's row from its two probes. */
export function nexthopRow(t: Target, small: ProbeResult, big: ProbeResult, timeoutS: number): CheckRow {
  const r = (status: CheckStatus, detail: string, rttMs?: number): CheckRow =>
    ({ ...row('nexthop', t.address, status, `${detail}${sizeNote(t)}`), ...(rttMs === undefined ? {} : { rttMs: Math.round(rttMs * 1000) / 1000 }) });
  const full = `${t.packetBytes}-byte`;
  const smallB = `${SMALL_PACKET}-byte`;
  const broken = [small, big].find((p) => unprobed(p));
  if (broken !== undefined) return r('fail', `not probed: ${why(broken, timeoutS)}`);
  if (small.kind === 'not-sent' && big.kind === 'not-sent') return r('warn', `not probed within the ${timeoutS} s timeout`);
  if (small.kind === 'answered') {
    const rtt = small.rttMs;
    switch (big.kind) {
      case 'answered': return r('ok', `${smallB} and ${full} DF echoes answered, rtt ${ms(rtt)}`, rtt);
      case 'lost': return r('fail', `MTU black hole: ${full} probes lost, ${smallB} answered (rtt ${ms(rtt)})`, rtt);
      case 'icmp-error':
        if (big.error === 'too-big') {
          return r('warn', `path MTU ${big.mtu} (ICMP from ${big.from}): ${full} DF probes refused, ${smallB} answered`, rtt);
        }
        return r('fail', `${full} probes: ${why(big, timeoutS)}; ${smallB} answered`, rtt);
      case 'send-error':
        if (big.errno === 'EMSGSIZE' && t.ipip) {
          // The outer packets of a full-size inner packet cannot leave this node (calico#8953).
          return r('fail', `tunnel MTU too large: ${full} outer packets exceed this node's path MTU (EMSGSIZE); ${smallB} answered`, rtt);
        }
        if (big.errno === 'EMSGSIZE') {
          return r('warn', `${full} DF probe refused locally (EMSGSIZE): the kernel knows a smaller path MTU; ${smallB} answered`, rtt);
        }
        return r('fail', `${full} probe ${why(big, timeoutS)}; ${smallB} answered`, rtt);
      default: return r('warn', `${smallB} answered (rtt ${ms(rtt)}); ${full} probe ${why(big, timeoutS)}`, rtt);
    }
  }
  if (big.kind === 'answered') return r('warn', `${smallB} probe ${why(small, timeoutS)} but ${full} answered`, big.rttMs);
  const bigWhy = big.kind === small.kind && big.kind === 'lost' ? '' : `; ${full}: ${why(big, timeoutS)}`;
  return r('fail', `unreachable: ${smallB} echo ${why(small, timeoutS)}${bigWhy}`);
}

export interface CheckInputs {
  readonly sessions: readonly SessionInput[];
  readonly fib: FibInput;
  readonly forwarding: readonly { readonly sysctl: string; readonly value: SysctlValue }[];
  readonly tunnel: TunnelInput;
  readonly targets: readonly Target[];
  /** Two per target, in order: the small probe, then the full-size one. */
  readonly probes: readonly ProbeResult[];
  readonly timeoutS: number;
  readonly at: string;
}

/** A probe that never ran for want of a socket: it says nothing about the next hop. */
const unprobed = (p: ProbeResult): boolean => p.kind === 'no-socket' || p.kind === 'socket-error';

/**
 * The `probe` rows: one per distinct cause of next hops left unprobed (status fail). Missing
 * privilege reads `cannot probe: CAP_NET_RAW`.
 */
export function probeRows(failed: readonly ProbeResult[], targets: number, timeoutS: number): CheckRow[] {
  const causes = new Map<string, CheckRow>();
  for (const p of failed) {
    const cap = p.kind === 'no-socket' && p.code === 'NO_CAP_NET_RAW';
    const head = cap ? 'cannot probe: CAP_NET_RAW (the agent may not open raw ICMP sockets)' : `cannot probe: ${why(p, timeoutS)}`;
    const detail = `${head}; ${targets} next hop${targets === 1 ? '' : 's'} not checked`;
    if (!causes.has(detail)) causes.set(detail, row('probe', cap ? 'CAP_NET_RAW' : 'raw socket', 'fail', detail));
  }
  return [...causes.values()];
}

export function checkAnswer(input: CheckInputs): CheckAnswer {
  const checks: CheckRow[] = [
    sessionsRow(input.sessions),
    fibRow(input.fib),
    ...input.forwarding.map((f) => forwardingRow(f.sysctl, f.value)),
  ];
  const tunnel = tunnelRow(input.tunnel);
  if (tunnel !== null) checks.push(tunnel);
  const failed: ProbeResult[] = [];
  let unchecked = 0;
  input.targets.forEach((t, i) => {
    const small = input.probes[2 * i];
    const big = input.probes[2 * i + 1];
    const broken = [small, big].filter(unprobed);
    if (broken.length === 0) return void checks.push(nexthopRow(t, small, big, input.timeoutS));
    failed.push(...broken);
    unchecked++;
  });
  checks.push(...probeRows(failed, unchecked, input.timeoutS));
  return { ok: checks.every((c) => c.status !== 'fail'), checks, timeout: input.timeoutS, at: input.at };
}
