/**
 * Text renderers for agentctl: pure functions from the daemon's answers (api.ts) to what a
 * terminal shows. `status` is SPEC.md's calicoctl-style table. Times: SINCE is the clock time
 * in the local time zone of the machine running agentctl (TZ respected), HH:MM:SS when less than
 * 20 hours ago and YYYY-MM-DD before that, as BIRD's `iso short` that calicoctl shows. STATE is
 * `up` when Established, `down` when the peer is disabled, `start` otherwise. Colour (ANSI) only
 * when asked, i.e. when stdout is a terminal. `check`: the box table CHECK | TARGET | STATUS |
 * DETAIL, then one summary line naming what failed. Not here: the JSON output (printed unchanged).
 */

import type { BfdAnswer, CheckAnswer, CheckStatus, PeerAnswer, ReloadAnswer, RouteAnswer, ServicesAnswer, StatusAnswer } from './api.js';
import { boxTable, type Paint, safeCell } from './table.js';

export interface RenderOptions {
  /** The time SINCE is measured against. */
  readonly now: Date;
  /** ANSI colour for STATE; only for a terminal. */
  readonly colour: boolean;
}

export const NOT_RUNNING = 'rack-agent process is not running.';
const SHORT_TIME_LIMIT_MS = 20 * 3600 * 1000;

const two = (n: number): string => String(n).padStart(2, '0');

/** SINCE: local `HH:MM:SS` within 20 hours of `now`, else local `YYYY-MM-DD`; unparseable text as is. */
export function formatSince(since: string, now: Date): string {
  const at = new Date(since);
  if (since === '' || Number.isNaN(at.getTime())) return since;
  if (Math.abs(now.getTime() - at.getTime()) < SHORT_TIME_LIMIT_MS) {
    return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  }
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
}

export type ShortState = 'up' | 'start' | 'down';

export function shortState(peer: Pick<PeerAnswer, 'state' | 'enabled'>): ShortState {
  if (peer.state === 'Established') return 'up';
  return peer.enabled === false ? 'down' : 'start';
}

const COLOURS: Readonly<Record<ShortState, string>> = { up: '\u001b[32m', start: '\u001b[33m', down: '\u001b[31m' };
const RESET = '\u001b[0m';

/** Paints the STATE column (by index) of a table whose cells there are ShortStates. */
function paintState(column: number, colour: boolean): Paint | undefined {
  if (!colour) return undefined;
  return (text, _row, c) => (c === column && text in COLOURS ? `${COLOURS[text as ShortState]}${text}${RESET}` : text);
}

/** How a peer is named: its address, or an interface peer's `eth0 (fe80::1)` (SPEC "Unnumbered peers"). */
export function peerName(peer: Pick<PeerAnswer, 'address' | 'linkLocal'>): string {
  if (peer.linkLocal === undefined) return peer.address;
  return `${peer.address} (${peer.linkLocal === '' ? 'no neighbour yet' : peer.linkLocal})`;
}

function info(peer: PeerAnswer): string {
  if (peer.info !== '') return peer.info;
  return peer.lastError === undefined || peer.lastError === '' ? peer.state : `${peer.state} ${peer.lastError}`;
}

function familySection(title: string, peers: readonly PeerAnswer[], options: RenderOptions): string {
  if (peers.length === 0) return `${title} BGP status\nNo ${title} peers found.`;
  const rows = peers.map((peer) => [peerName(peer), peer.type, shortState(peer), formatSince(peer.since, options.now), info(peer)]);
  return `${title} BGP status\n${boxTable(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], rows, paintState(2, options.colour))}`;
}

/** `agentctl status`, exactly SPEC.md's layout. */
export function renderStatus(status: StatusAnswer, options: RenderOptions): string {
  const v4 = status.peers.filter((peer) => peer.family === 'ipv4');
  const v6 = status.peers.filter((peer) => peer.family === 'ipv6');
  return [
    'rack-agent process is running.',
    ...(status.drained === true ? ['This node is drained (RFC 8326): its routes carry GRACEFUL_SHUTDOWN; agentctl undrain reverts.'] : []),
    '',
    familySection('IPv4', v4, options),
    '',
    familySection('IPv6', v6, options),
  ].join('\n') + '\n';
}

/** `agentctl peers`: one row per peer, both families, with prefix counts. */
export function renderPeers(peers: readonly PeerAnswer[], options: RenderOptions): string {
  if (peers.length === 0) return 'No peers found.\n';
  const rows = peers.map((peer) => [
    peerName(peer), String(peer.asNumber), peer.type, shortState(peer), formatSince(peer.since, options.now),
    String(peer.prefixes.received), String(peer.prefixes.accepted), String(peer.prefixes.advertised), info(peer),
  ]);
  const headers = ['PEER ADDRESS', 'PEER AS', 'PEER TYPE', 'STATE', 'SINCE', 'RECEIVED', 'ACCEPTED', 'ADVERTISED', 'INFO'];
  return `${boxTable(headers, rows, paintState(3, options.colour))}\n`;
}

function counts(messages: Readonly<Record<string, number>>): string {
  const entries = Object.entries(messages);
  return entries.length === 0 ? '-' : entries.map(([name, n]) => `${safeCell(name)} ${n}`).join(', ');
}

/** The BFD session of `agentctl peers ADDRESS` (RFC 5880). */
function bfdLines(b: BfdAnswer, options: RenderOptions): [string, string][] {
  const diag = b.state === 'Up' ? '' : `, diagnostic: ${b.diagnostic}`;
  return [
    ['BFD', `${b.state} since ${formatSince(b.since, options.now)}${diag}; remote ${b.remoteState}${b.remoteState === 'Up' ? '' : ` (${b.remoteDiagnostic})`}`],
    ['BFD path', `${b.mode}${b.interface ? ` on ${b.interface}` : ''}, UDP ${b.mode === 'multihop' ? 4784 : 3784}`],
    ['BFD timers', `tx ${b.txIntervalMs} ms, detect ${b.detectTimeMs} ms; configured rx ${b.minRxMs} ms, tx ${b.minTxMs} ms, multiplier ${b.multiplier}`],
    ['BFD session', `discriminators ${b.localDiscriminator} local, ${b.remoteDiscriminator} remote; up ${b.upCount}, down ${b.downCount}; packets in ${b.packetsIn}, out ${b.packetsOut}`],
  ];
}

/** `agentctl peers ADDRESS`: everything known about the peers at that address. */
export function renderPeerDetail(peers: readonly PeerAnswer[], options: RenderOptions): string {
  return peers.map((peer) => {
    const lines: [string, string][] = [
      ['Type', `${peer.type}, ${peer.family}, AS ${peer.asNumber}`],
      ['State', `${peer.state} (${shortState(peer)}) since ${formatSince(peer.since, options.now)} (${peer.since})`],
      ['Info', info(peer)],
      ['Last error', peer.lastError === undefined || peer.lastError === '' ? '-' : peer.lastError],
      ['Prefixes', `received ${peer.prefixes.received}, accepted ${peer.prefixes.accepted}, advertised ${peer.prefixes.advertised}`],
    ];
    if (peer.capabilities !== undefined) {
      lines.push(['Capabilities', peer.capabilities.length === 0 ? '-' : peer.capabilities.join(', ')]);
    }
    if (peer.messages !== undefined) {
      lines.push(['Messages in', counts(peer.messages.in)], ['Messages out', counts(peer.messages.out)]);
    }
    if (peer.bfd !== undefined) lines.push(...bfdLines(peer.bfd, options));
    const body = lines.map(([name, value]) => `  ${`${name}:`.padEnd(14)}${safeCell(value)}`).join('\n');
    return `Peer ${safeCell(peerName(peer))}\n${body}\n`;
  }).join('\n');
}

/** `agentctl routes`: one row per next hop; an ECMP route's further next hops leave PREFIX empty. */
export function renderRoutes(routes: readonly RouteAnswer[]): string {
  if (routes.length === 0) return 'No routes found.\n';
  const rows: string[][] = [];
  for (const route of routes) {
    const decided = route.decidedBy ?? '';
    if (route.kind === 'blackhole' || route.nextHops.length === 0) {
      rows.push([route.prefix, route.kind === 'blackhole' ? 'blackhole' : '-', '', '', decided]);
      continue;
    }
    route.nextHops.forEach((hop, i) => {
      const dev = hop.dev === undefined ? '' : `${hop.dev}${hop.onlink === true ? ' onlink' : ''}`;
      rows.push([i === 0 ? route.prefix : '', hop.via, dev, hop.peer, i === 0 ? decided : '']);
    });
  }
  return `${boxTable(['PREFIX', 'NEXT HOP', 'DEV', 'PEER', 'DECIDED BY'], rows)}\n`;
}

/** `agentctl services`: NAME | PREFIX | STATE | SINCE | LAST CHECK (SPEC.md "Anycast services"). */
export function renderServices(answer: ServicesAnswer, options: RenderOptions): string {
  if (answer.services.length === 0) return 'No services configured.\n';
  const rows = answer.services.map((s) => {
    const last = s.lastCheck === null ? 'not yet' : `${s.lastCheck.ok ? 'ok' : 'failed'}: ${s.lastCheck.detail} (${formatSince(s.lastCheck.at, options.now)})`;
    return [s.name, s.prefix, s.state, formatSince(s.since, options.now), last];
  });
  const paint: Paint | undefined = options.colour
    ? (text, _row, column) => (column === 2 ? `${text === 'down' ? COLOURS.down : text === 'up' ? COLOURS.up : COLOURS.start}${text}${RESET}` : text)
    : undefined;
  return `${boxTable(['NAME', 'PREFIX', 'STATE', 'SINCE', 'LAST CHECK'], rows, paint)}\n`;
}

/** `agentctl routes --detail`: a block per route, its best path's attributes and its peers. */
export function renderRouteDetail(routes: readonly RouteAnswer[]): string {
  if (routes.length === 0) return 'No routes found.\n';
  return routes.map((r) => {
    const via = r.kind === 'blackhole' ? 'blackhole' : r.nextHops.map((h) => `via ${h.via}${h.dev === undefined ? '' : ` dev ${h.dev}`}`).join(', ');
    const lines: [string, string][] = [
      ['Next hops', via || '-'],
      ['Peers', (r.peers ?? r.nextHops.map((h) => h.peer)).join(', ') || '-'],
      ['AS path', r.asPath === undefined || r.asPath === '' ? '(empty)' : r.asPath],
      ['Local pref', r.localPref === undefined ? '-' : String(r.localPref)],
      ['MED', r.med === undefined ? '-' : String(r.med)],
      ['Communities', (r.communities ?? []).join(' ') || '-'],
      ['Large comm.', (r.largeCommunities ?? []).join(' ') || '-'],
      ['Decided by', r.decidedBy ?? '-'],
    ];
    return `${safeCell(r.prefix)}\n${lines.map(([k, v]) => `  ${`${k}:`.padEnd(14)}${safeCell(v)}`).join('\n')}\n`;
  }).join('\n');
}

/** `agentctl drain` / `undrain`. */
export function renderDrain(answer: { readonly drained: boolean; readonly changed: boolean }): string {
  if (answer.drained) return answer.changed ? 'Drained: peers are sent our routes with GRACEFUL_SHUTDOWN, least preferred.\n' : 'Already drained.\n';
  return answer.changed ? 'Undrained: peers are sent our routes as before.\n' : 'Not drained.\n';
}

/** `agentctl reload`: what changed, or why nothing did. */
export function renderReload(answer: ReloadAnswer): string {
  if (!answer.applied) {
    const problems = answer.problems ?? [];
    return `Reload refused; the running configuration stays.\n${problems.map((p) => `  ${safeCell(p)}\n`).join('')}`;
  }
  const changes: [string, readonly string[]][] = [
    ['peers added', answer.peersAdded], ['peers removed', answer.peersRemoved], ['peers restarted', answer.peersRestarted],
    ['blocks added', answer.blocksAdded], ['blocks removed', answer.blocksRemoved],
    ['services added', answer.servicesAdded ?? []], ['services removed', answer.servicesRemoved ?? []], ['services restarted', answer.servicesRestarted ?? []],
  ];
  if (answer.peersRefreshed !== undefined && answer.peersRefreshed.length > 0) changes.push(['import rules changed, routes asked again from', answer.peersRefreshed]);
  const lines = changes.filter(([, list]) => list.length > 0).map(([name, list]) => `  ${name}: ${list.map(safeCell).join(', ')}\n`);
  if (answer.importRulesChanged === true && (answer.peersRefreshed ?? []).length === 0) lines.push('  import rules changed\n');
  if (answer.exportRulesChanged === true) lines.push('  export rules changed: peers sent what differs\n');
  return lines.length === 0 ? 'Reloaded: nothing changed.\n' : `Reloaded.\n${lines.join('')}`;
}

export function renderWait(answer: { converged: boolean; waited: number }): string {
  return answer.converged
    ? `Converged (waited ${answer.waited} s).\n`
    : `Not converged after ${answer.waited} s.\n`;
}

export function renderVersion(client: string, daemon: { version: string; node: string } | null): string {
  const line = daemon === null ? NOT_RUNNING : `rack-agent ${safeCell(daemon.version)} (node ${safeCell(daemon.node)})`;
  return `agentctl ${client}\n${line}\n`;
}

// ---- agentctl check (SPEC.md) ---------------------------------------------------------------

const CHECK_COLOURS: Readonly<Record<CheckStatus, string>> = { ok: '\u001b[32m', warn: '\u001b[33m', fail: '\u001b[31m' };

const paintStatus = (colour: boolean): Paint | undefined => (colour
  ? (text, _row, column) => (column === 2 && text in CHECK_COLOURS ? `${CHECK_COLOURS[text as CheckStatus]}${text}${RESET}` : text)
  : undefined);

export function summaryLine(answer: CheckAnswer): string {
  const count = (s: CheckStatus): number => answer.checks.filter((c) => c.status === s).length;
  const failed = answer.checks.filter((c) => c.status === 'fail').map((c) => `${c.name} ${c.target}`);
  const head = `${answer.ok ? 'OK' : 'FAIL'}: ${answer.checks.length} checks, ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail`;
  if (failed.length === 0) return head;
  return `${head}: ${failed.slice(0, 5).join(', ')}${failed.length > 5 ? `, and ${failed.length - 5} more` : ''}`;
}

export function renderCheck(answer: CheckAnswer, options: { readonly colour: boolean } = { colour: false }): string {
  const rows = answer.checks.map((c) => [c.name, c.target, c.status, c.detail]);
  return `${boxTable(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], rows, paintStatus(options.colour))}\n${summaryLine(answer)}\n`;
}
