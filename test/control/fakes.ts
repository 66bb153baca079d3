/**
 * Test doubles for the control socket: ControlHandlers answering SPEC.md's example status, with
 * switches a test flips (converged, a throwing handler, a refused reload), and a Log that keeps
 * every entry. Shared by the in-process tests and fake-daemon.ts.
 */
import type { CheckAnswer, ControlHandlers, PeerAnswer, ReloadAnswer, RouteAnswer, ServicesAnswer, StatusAnswer } from '../../agent/control/api.js';
import type { Log } from '../../agent/contracts/log.js';

export const SPEC_PEERS: readonly PeerAnswer[] = [
  {
    address: '10.0.1.1', family: 'ipv4', type: 'node specific', asNumber: 64512, state: 'Established',
    since: '2026-11-21T17:38:47Z', info: 'Established', enabled: true,
    prefixes: { received: 12, accepted: 12, advertised: 1 },
    capabilities: ['4-octet AS', 'route refresh'],
    messages: { in: { open: 1, update: 3, keepalive: 10 }, out: { open: 1, update: 1, keepalive: 10 } },
    lastError: '',
  },
  {
    address: '10.0.1.2', family: 'ipv4', type: 'node specific', asNumber: 64512, state: 'Active',
    since: '2026-11-21T17:40:09Z', info: 'Active Socket: Connection refused', enabled: true,
    prefixes: { received: 0, accepted: 0, advertised: 0 }, lastError: 'Socket: Connection refused',
  },
];

export const SPEC_STATUS: StatusAnswer = {
  running: true, routerId: '10.0.1.13', asNumber: 65101, peers: SPEC_PEERS, fib: { routes: 13, inSync: true }, drained: false,
};

export const ROUTES: readonly RouteAnswer[] = [
  { prefix: '192.168.0.0/26', family: 'ipv4', kind: 'blackhole', nextHops: [] },
  {
    prefix: '192.168.0.64/26', family: 'ipv4', kind: 'unicast', decidedBy: 'router-id',
    nextHops: [{ via: '10.0.1.14', dev: 'eth0', peer: '10.0.1.1' }, { via: '10.0.2.21', dev: 'tunl0', onlink: true, peer: '10.0.1.2' }],
  },
  { prefix: 'fd00:10::/122', family: 'ipv6', kind: 'unicast', nextHops: [{ via: 'fd00:1::14', dev: 'eth0', peer: '10.0.1.1' }] },
];

/** SPEC.md's JSON example of `agentctl check`, with the rows around it. */
export const CHECK_FAIL: CheckAnswer = {
  ok: false, timeout: 5, at: '2026-11-21T17:41:00Z',
  checks: [
    { name: 'sessions', target: '2 peers', status: 'ok', detail: 'all Established' },
    { name: 'forwarding', target: 'net.ipv4.ip_forward', status: 'ok', detail: 'on' },
    { name: 'nexthop', target: '10.0.1.13', status: 'warn', detail: 'not probed: no CAP_NET_RAW' },
    { name: 'nexthop', target: '10.0.1.14', status: 'fail', detail: 'MTU black hole: 1500-byte probes lost, 64-byte answered' },
  ],
};

/** Warnings alone: exit 0. */
export const CHECK_WARN: CheckAnswer = { ...CHECK_FAIL, ok: true, checks: CHECK_FAIL.checks.slice(0, 3) };

/** SPEC.md's services example: one up, one down after a failed check, one never checked yet. */
export const SERVICES: ServicesAnswer = {
  services: [
    { name: 'dns', prefix: '10.255.0.53/32', state: 'up', since: '2026-11-21T17:38:47Z', lastCheck: { ok: true, detail: 'connected', at: '2026-11-21T17:40:01Z' } },
    { name: 'web', prefix: 'fd00:53::80/128', state: 'down', since: '2026-11-21T17:39:00Z', lastCheck: { ok: false, detail: 'HTTP 500, expected 200', at: '2026-11-21T17:40:00Z' } },
    { name: 'ntp', prefix: '10.255.0.123/32', state: 'down', since: '2026-11-21T17:40:00Z', lastCheck: null },
  ],
};

export interface FakeState {
  converged: boolean;
  failStatus: boolean;
  refuseReload: boolean;
  reloads: number;
  /** Drain as `drain` / `undrain` left it. */
  drained?: boolean;
  /** What `check` answers (CHECK_FAIL by default); the timeouts it was asked with. */
  check?: CheckAnswer;
  checkTimeouts?: (number | undefined)[];
}

export function fakeHandlers(state: FakeState = { converged: true, failStatus: false, refuseReload: false, reloads: 0 }): ControlHandlers {
  return {
    status() {
      if (state.failStatus) throw new Error('snapshot failed reading /etc/rack-agent/tor1.key: s3cr3t');
      return { ...SPEC_STATUS, drained: state.drained === true };
    },
    peers(address) {
      return address === undefined ? SPEC_PEERS : SPEC_PEERS.filter((peer) => peer.address === address);
    },
    routes(family) {
      return family === undefined ? ROUTES : ROUTES.filter((route) => route.family === family);
    },
    converged: () => state.converged,
    reload(): Promise<ReloadAnswer> {
      state.reloads += 1;
      if (state.refuseReload) {
        return Promise.resolve({
          applied: false, peersAdded: [], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: [],
          problems: ['bgp.peers[0].peerIP: not an IP address'],
        });
      }
      return Promise.resolve({
        applied: true, peersAdded: ['10.0.1.3'], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: ['192.168.0.0/26'],
      });
    },
    version: () => ({ version: '0.1.0', node: 'r1-n03' }),
    services: () => SERVICES,
    drain(on) {
      const changed = (state.drained === true) !== on;
      state.drained = on;
      return { drained: on, changed };
    },
    check(timeoutSeconds) {
      (state.checkTimeouts ??= []).push(timeoutSeconds);
      return Promise.resolve(state.check ?? CHECK_FAIL);
    },
  };
}

export interface Entry {
  readonly level: string;
  readonly message: string;
  readonly meta: Record<string, unknown>;
}

/** A Log keeping entries in memory; children share the array. */
export function memoryLog(entries: Entry[] = [], base: Record<string, unknown> = {}): Log & { entries: Entry[] } {
  const at = (level: string) => (message: string, meta: Record<string, unknown> = {}): void => {
    entries.push({ level, message, meta: { ...base, ...meta } });
  };
  return {
    entries,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (meta) => memoryLog(entries, { ...base, ...meta }),
  };
}
