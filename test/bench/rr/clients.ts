/**
 * bench:rr's simulated nodes: a Fleet of BGP clients (clients from..to-1 of N), each one real iBGP
 * session from its own address to the reflector (RFC 4271 section 8 reduced to what a client that
 * only connects needs: OpenSent -> OpenConfirm -> Established, KEEPALIVE every hold/3, no hold
 * timer of its own). Established, a client announces its two IPv4 /26 (one UPDATE), its IPv6 /122
 * (MP_REACH_NLRI) and End-of-RIB for both families; at churn it withdraws its first /26 and
 * announces another in one UPDATE. Everything a client is sent is framed and scanned (wire.ts)
 * into one bit per (source client, slot): it has converged when it holds every other client's
 * blocks of the phase (and it counts own routes reflected back, prefixes outside the plan and
 * reflected routes without ORIGINATOR_ID or CLUSTER_LIST as errors). A frozen client sends the
 * same blindly and never reads (socket.pause()); it is left out of the convergence condition.
 * Clients connect in order, at most `window` of them between connect and the reflector's OPEN at
 * once (BIRD 2 listens with a backlog of 8: a flood of SYNs is dropped and retried by the kernel
 * after 1, 3, 7, 15 s...). A closed session is counted, forgotten and reconnected after a second.
 * Not here: the child-process protocol (generator.ts), addresses on interfaces (run.ts).
 */
import { connect, type Socket } from 'node:net';
import {
  BLOCKS_AT_START, blockV4, blockV6, churnClients, clientAddress, nextHopV6, numberToIpv4, Slot, SLOTS,
} from './plan.js';
import { EOR_V4, EOR_V6, KEEPALIVE, open, scanUpdate, Type, updateV4, updateV6, type UpdateSink } from './wire.js';

export interface FleetSpec {
  readonly n: number;
  readonly from: number;
  readonly to: number;
  /** The frozen client's index, -1 for none. */
  readonly frozen: number;
  readonly host: string;
  readonly port: number;
  readonly holdTime: number;
  /** Most sessions between connect and the reflector's OPEN at once (0: no limit). */
  readonly window: number;
}

export interface Totals {
  reads: number;
  bytes: number;
  updates: number;
  own: number;
  unknown: number;
  noOriginatorId: number;
  noClusterList: number;
  malformed: number;
  resets: number;
  /** Connects retried after CONNECT_TIMEOUT_MS. */
  retries: number;
  /** The reflector's OPEN after our TCP connect: the slowest, and how many took over a second. */
  openWaitMaxMs: number;
  openWaitOver1s: number;
  notifications: string[];
  errors: string[];
}

export type Phase = 'start' | 'churn';

const now = (): number => performance.timeOrigin + performance.now();
const RECONNECT_MS = 1000;
/** A connect not complete by then is retried at once: a dropped SYN would wait 1, 3, 7, 15 s... */
const CONNECT_TIMEOUT_MS = 2000;
const KEEP = 5; // notifications and errors kept for the report

class Client implements UpdateSink {
  private socket: Socket | null = null;
  private state: 'Idle' | 'OpenSent' | 'OpenConfirm' | 'Established' = 'Idle';
  private readonly bits: Uint32Array;
  private held = 0;
  private pending: Buffer | null = null;
  private keepalive: NodeJS.Timeout | undefined;
  private checked4 = false;
  private checked6 = false;
  /** Counted in the fleet's handshake window. */
  private opening = false;
  private connectedAt = 0;
  done = false;
  churned = false;

  constructor(private readonly fleet: Fleet, readonly index: number, readonly frozen: boolean) {
    this.bits = new Uint32Array(Math.ceil((fleet.spec.n * SLOTS) / 32));
  }

  get up(): boolean {
    return this.state === 'Established' || (this.frozen && this.socket !== null);
  }

  connect(): void {
    const { host, port, holdTime } = this.fleet.spec;
    const s = connect({ host, port, localAddress: numberToIpv4(clientAddress(this.index)), noDelay: true });
    this.socket = s;
    this.opening = true;
    const timeout = setTimeout(() => {
      this.fleet.totals.retries++;
      this.socket = null;
      s.destroy();
      this.opened();
      this.fleet.reconnect(this);
    }, CONNECT_TIMEOUT_MS);
    s.on('connect', () => {
      clearTimeout(timeout);
      this.connectedAt = now();
      const hello = open(clientAddress(this.index), holdTime);
      if (this.frozen) {
        // Blind: OPEN, KEEPALIVE for the reflector's OPEN it will never read, its routes; then deaf.
        s.write(Buffer.concat([hello, KEEPALIVE, this.routes()]));
        s.pause();
        this.opened();
      } else {
        s.write(hello);
        this.state = 'OpenSent';
      }
      this.keepalive = setInterval(() => s.write(KEEPALIVE), Math.max(1, Math.floor(holdTime / 3)) * 1000);
    });
    s.on('data', (chunk: Buffer) => this.data(chunk));
    s.on('error', (err) => this.fleet.note('errors', `client ${this.index}: ${err.message}`));
    s.on('close', () => {
      clearTimeout(timeout);
      this.closed(s);
    });
  }

  /** The announcements of the current phase and End-of-RIB for both families. */
  private routes(): Buffer {
    const i = this.index;
    const v4 = this.churned ? [blockV4(i, Slot.B), blockV4(i, Slot.CHURN)] : [blockV4(i, Slot.A), blockV4(i, Slot.B)];
    return Buffer.concat([updateV4(clientAddress(i), v4), updateV6(nextHopV6(i), blockV6(i)), EOR_V4, EOR_V6]);
  }

  churn(): void {
    this.churned = true;
    const i = this.index;
    if (this.state === 'Established' || this.frozen) this.socket?.write(updateV4(clientAddress(i), [blockV4(i, Slot.CHURN)], [blockV4(i, Slot.A)]));
  }

  private data(chunk: Buffer): void {
    const t = this.fleet.totals;
    t.reads++;
    t.bytes += chunk.length;
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    try {
      while (buf.length - at >= 19) {
        const len = (buf[at + 16] << 8) | buf[at + 17];
        if (len < 19 || len > 4096) throw new Error(`bad message length ${len}`);
        if (buf.length - at < len) break;
        this.message(buf.subarray(at, at + len));
        at += len;
      }
    } catch (err) {
      t.malformed++;
      this.fleet.note('errors', `client ${this.index}: ${(err as Error).message}`);
      this.socket?.destroy();
      return;
    }
    this.pending = at === buf.length ? null : buf.subarray(at);
    if (!this.done && this.state === 'Established') this.fleet.check(this);
  }

  private message(m: Buffer): void {
    const type = m[18];
    if (type === Type.UPDATE) {
      this.fleet.totals.updates++;
      scanUpdate(m, this);
    } else if (type === Type.KEEPALIVE) {
      if (this.state === 'OpenConfirm') {
        this.state = 'Established';
        this.fleet.up++;
        this.socket?.write(this.routes());
      }
    } else if (type === Type.OPEN) {
      if (this.state !== 'OpenSent') throw new Error(`OPEN in ${this.state}`);
      if (m[19] !== 4) throw new Error(`OPEN version ${m[19]}`);
      const wait = now() - this.connectedAt;
      const t = this.fleet.totals;
      t.openWaitMaxMs = Math.max(t.openWaitMaxMs, wait);
      if (wait > 1000) t.openWaitOver1s++;
      this.socket?.write(KEEPALIVE);
      this.state = 'OpenConfirm';
      this.opened();
    } else if (type === Type.NOTIFICATION) {
      this.fleet.note('notifications', `client ${this.index}: NOTIFICATION ${m[19]}/${m[20]}`);
    }
  }

  route(key: number, announced: boolean): void {
    const src = key >>> 2;
    if (key < 0 || src >= this.fleet.spec.n) {
      this.fleet.totals.unknown++;
      return;
    }
    if (src === this.index) {
      if (announced) this.fleet.totals.own++;
      return;
    }
    const w = key >>> 5;
    const bit = 1 << (key & 31);
    const had = (this.bits[w] & bit) !== 0;
    if (announced && !had) {
      this.bits[w] |= bit;
      this.held++;
    } else if (!announced && had) {
      this.bits[w] &= ~bit;
      this.held--;
    }
  }

  reflected(family: 4 | 6, originatorId: boolean, clusterList: boolean): void {
    if (family === 4 ? this.checked4 : this.checked6) return;
    if (family === 4) this.checked4 = true;
    else this.checked6 = true;
    if (!originatorId) this.fleet.totals.noOriginatorId++;
    if (!clusterList) this.fleet.totals.noClusterList++;
  }

  endOfRib(): void {
    // Convergence is decided by the routes held, not by End-of-RIB.
  }

  has(src: number, slot: number): boolean {
    const key = src * SLOTS + slot;
    return (this.bits[key >>> 5] & (1 << (key & 31))) !== 0;
  }

  /** Holds every other client's blocks of `phase` (churners: B, V6, CHURN) and nothing else. */
  holdsAll(n: number, phase: Phase, churners: readonly number[]): boolean {
    if (this.held !== BLOCKS_AT_START * (n - 1)) return false;
    if (phase === 'start') return true;
    for (const j of churners) if (j !== this.index && (this.has(j, Slot.A) || !this.has(j, Slot.CHURN))) return false;
    return true;
  }

  /** The handshake is over (or failed): the next client may connect. */
  private opened(): void {
    if (!this.opening) return;
    this.opening = false;
    this.fleet.opened();
  }

  private closed(s: Socket): void {
    if (this.socket !== s) return;
    this.opened();
    clearInterval(this.keepalive);
    if (this.state === 'Established') this.fleet.up--;
    if (this.done) this.fleet.undone(this);
    this.socket = null;
    this.state = 'Idle';
    this.bits.fill(0);
    this.held = 0;
    this.pending = null;
    this.checked4 = false;
    this.checked6 = false;
    if (this.fleet.stopped) return;
    this.fleet.totals.resets++;
    setTimeout(() => {
      if (!this.fleet.stopped) this.fleet.reconnect(this);
    }, RECONNECT_MS);
  }

  stop(): void {
    clearInterval(this.keepalive);
    this.socket?.destroy();
  }
}

export class Fleet {
  readonly clients: Client[] = [];
  readonly totals: Totals = {
    reads: 0, bytes: 0, updates: 0, own: 0, unknown: 0, noOriginatorId: 0, noClusterList: 0, malformed: 0, resets: 0, retries: 0,
    openWaitMaxMs: 0, openWaitOver1s: 0, notifications: [], errors: [],
  };
  readonly churners: readonly number[];
  /** Established sessions (the frozen client's counts once connected). */
  up = 0;
  done = 0;
  readonly target: number;
  phase: Phase = 'start';
  stopped = false;
  /** Absolute ms (performance.timeOrigin based): phase start, and when the last client got there. */
  started = 0;
  finished = 0;
  onPhaseDone: (phase: Phase) => void = () => undefined;
  private next = 0;
  /** Clients between connect and the reflector's OPEN. */
  opening = 0;

  constructor(readonly spec: FleetSpec) {
    this.churners = churnClients(spec.n, spec.frozen);
    for (let i = spec.from; i < spec.to; i++) this.clients.push(new Client(this, i, i === spec.frozen));
    this.target = this.clients.filter((c) => !c.frozen).length;
  }

  start(): void {
    this.started = now();
    this.launch();
  }

  /** Connects clients in order while fewer than `window` are in their handshake. */
  private launch(): void {
    const window = this.spec.window > 0 ? this.spec.window : Infinity;
    while (this.next < this.clients.length && this.opening < window) {
      this.opening++;
      this.clients[this.next++].connect();
    }
  }

  /** A reconnect after a reset: outside the order, inside the window's count. */
  reconnect(c: Client): void {
    this.opening++;
    c.connect();
  }

  opened(): void {
    this.opening--;
    if (!this.stopped) this.launch();
  }

  /** 1% churn: each churner of this fleet swaps its first /26 for a new one. */
  churn(): void {
    this.phase = 'churn';
    this.done = 0;
    this.finished = 0;
    for (const c of this.clients) c.done = false;
    this.started = now();
    for (const c of this.clients) if (this.churners.includes(c.index)) c.churn();
    for (const c of this.clients) if (!c.frozen) this.check(c);
  }

  check(c: Client): void {
    if (c.frozen || c.done || !c.holdsAll(this.spec.n, this.phase, this.churners)) return;
    c.done = true;
    this.done++;
    if (this.done === this.target) {
      this.finished = now();
      this.onPhaseDone(this.phase);
    }
  }

  undone(c: Client): void {
    c.done = false;
    this.done--;
  }

  note(kind: 'notifications' | 'errors', text: string): void {
    if (this.totals[kind].length < KEEP) this.totals[kind].push(text);
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.clients) c.stop();
  }
}
