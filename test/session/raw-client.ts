/**
 * The test side of raw-peer.ts: start it in a namespace, send commands, wait for its events, and
 * build the BGP messages a well-behaved peer would send (OPEN, KEEPALIVE, UPDATE).
 */

import { fileURLToPath } from 'node:url';
import { encodeMessage, type Message } from '../../agent/bgp/message.js';
import { decodeMessage } from '../../agent/bgp/message.js';
import { buildOpen } from '../../agent/session/negotiate.js';
import { captureOutput, type Lab, waitFor } from '../helpers/netns.js';

const script = fileURLToPath(new URL('./raw-peer.js', import.meta.url));

export interface RawEvent {
  readonly ev: string;
  readonly conn?: number;
  readonly [field: string]: unknown;
}

export class RawPeer {
  readonly events: RawEvent[] = [];
  private parsed = 0;
  private readonly output;

  private constructor(private readonly child: ReturnType<Lab['spawn']>, readonly name: string) {
    this.output = captureOutput(child);
  }

  static async start(lab: Lab, ns: string): Promise<RawPeer> {
    const peer = new RawPeer(lab.spawn(ns, process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] }), ns);
    await peer.waitFor((e) => e.ev === 'ready', 'ready');
    return peer;
  }

  private sync(): void {
    for (; this.parsed < this.output.lines.length; this.parsed++) {
      const line = this.output.lines[this.parsed];
      if (line.trim() !== '') this.events.push(JSON.parse(line) as RawEvent);
    }
    if (this.child.exitCode !== null) throw new Error(`raw peer exited: ${this.output.stderr()}`);
  }

  /** The first matching event at or after index `from`. */
  async waitFor(predicate: (e: RawEvent) => boolean, what: string, from = 0, timeoutMs = 10_000): Promise<RawEvent> {
    return waitFor(() => {
      this.sync();
      for (let i = from; i < this.events.length; i++) if (predicate(this.events[i])) return this.events[i];
      return undefined;
    }, { timeoutMs, what: `raw peer in ${this.name}: ${what}` });
  }

  mark(): number {
    this.sync();
    return this.events.length;
  }

  command(cmd: Record<string, unknown>): void {
    this.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  async connect(host: string, port: number): Promise<number> {
    const from = this.mark();
    this.command({ cmd: 'connect', host, port });
    const e = await this.waitFor((x) => x.ev === 'connected' || (x.ev === 'error' && x.conn === undefined), `connect to ${host}`, from);
    if (e.ev === 'error') throw new Error(`raw peer could not connect: ${String(e.code)}`);
    return e.conn as number;
  }

  send(conn: number, bytes: Uint8Array): void {
    this.command({ cmd: 'send', conn, hex: Buffer.from(bytes).toString('hex') });
  }

  sendMessage(conn: number, m: Message): void {
    this.send(conn, encodeMessage(m));
  }

  /** The next message of `type` on `conn` after `from`, decoded. */
  async message(conn: number, type: number, from: number, what: string): Promise<Message> {
    const e = await this.waitFor((x) => x.ev === 'message' && x.conn === conn && x.type === type, what, from);
    return decodeMessage(Buffer.from(e.hex as string, 'hex'));
  }

  /**
   * OPEN exchange up to Established: our OPEN, wait for theirs and their KEEPALIVE, our KEEPALIVE.
   * A plain OPEN: IPv4 unicast, 4-octet AS, route refresh; no extended messages, no add-path.
   */
  async establish(conn: number, o: { asn: number; routerId: string; holdTime?: number }, from: number): Promise<void> {
    const open = buildOpen({ asn: o.asn, routerId: o.routerId, holdTime: o.holdTime ?? 90, families: ['ipv4'] });
    this.sendMessage(conn, { ...open, capabilities: open.capabilities.filter((c) => c.kind !== 'extended-message') });
    await this.message(conn, 1, from, 'the agent\'s OPEN');
    await this.message(conn, 4, from, 'the agent\'s KEEPALIVE');
    this.sendMessage(conn, { type: 'keepalive' });
  }
}
