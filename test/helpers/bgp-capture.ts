/**
 * The BGP wire as a third party sees it: `tcpdump` in a namespace writes the segments of port 179
 * to a pcap file as they arrive, and tshark (Wireshark's dissector, not our codec) decodes them into
 * one entry per BGP message in wire order: its kind (route refresh subtypes named), the prefixes
 * announced and withdrawn, and an OPEN's graceful-restart R and F bits. Used by the route refresh
 * and ToR reboot tests (test/e2e/).
 * Not here: namespaces (netns.ts), daemons (bird.ts, frr.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execTool } from './bgp-daemon.js';
import { captureOutput, type Lab, waitFor } from './netns.js';

/** One BGP message, as tshark decoded it. */
export interface WireMessage {
  readonly frame: number;
  /** 'update', 'keepalive', 'borr', 'eorr', 'refresh' (a request), or the type number. */
  readonly kind: string;
  /** Prefixes announced (NLRI), for UPDATEs. */
  readonly nlri: readonly string[];
  readonly withdrawn: readonly string[];
  /** For OPENs with the graceful-restart capability (RFC 4724 section 3): the R bit, the F bit per family. */
  readonly gr?: { readonly restarting: boolean; readonly forwarding: readonly boolean[] };
}

type Json = Record<string, unknown>;

/** Every value under `key` anywhere inside `node`, in document order. */
function valuesOf(node: unknown, key: string, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) valuesOf(x, key, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === key) for (const s of Array.isArray(v) ? v : [v]) out.push(String(s));
      else valuesOf(v, key, out);
    }
  }
  return out;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Prefixes (`addr/len`) under `key` anywhere inside `node`: tshark puts the length beside it. */
function prefixesOf(node: unknown, key: string, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) prefixesOf(x, key, out);
  else if (node !== null && typeof node === 'object') {
    const o = node as Json;
    if (key in o) {
      const lens = list(o['bgp.prefix_length']);
      list(o[key]).forEach((addr, i) => out.push(`${String(addr)}/${String(lens[i] ?? '?')}`));
    }
    for (const [k, v] of Object.entries(o)) if (k !== key) prefixesOf(v, key, out);
  }
  return out;
}

const KINDS: Record<string, string> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive' };
const SUBTYPES: Record<string, string> = { 0: 'refresh', 1: 'borr', 2: 'eorr' };

const flag = (v: string | undefined): boolean => v === '1' || v === 'True' || v === 'true';

/** tshark's JSON of `file` (BGP from `src` only) as one entry per BGP message, in wire order. */
export async function decodeCapture(file: string, src: string): Promise<WireMessage[]> {
  const r = await execTool('tshark', ['-r', file, '-n', '-Y', `bgp && ip.src == ${src}`, '-T', 'json', '--no-duplicate-keys', '-J', 'bgp frame']);
  if (r.code !== 0) throw new Error(`tshark -r ${file}: ${r.stderr}`);
  const frames = JSON.parse(r.stdout === '' ? '[]' : r.stdout) as { _source: { layers: Json } }[];
  const out: WireMessage[] = [];
  for (const f of frames) {
    const layers = f._source.layers;
    const frame = Number(valuesOf(layers.frame, 'frame.number')[0]);
    // Several BGP messages in one segment are several `bgp` layers (an array), each with its messages.
    const layer = layers.bgp;
    const messages = (Array.isArray(layer) ? layer : [layer]).flatMap((l) => {
      const m = (l as Json)['bgp.message'] ?? l;
      return Array.isArray(m) ? m : [m];
    });
    for (const m of messages) {
      const type = valuesOf(m, 'bgp.type')[0] ?? '?';
      const kind = type === '5' ? (SUBTYPES[valuesOf(m, 'bgp.route_refresh.subtype')[0] ?? '0'] ?? 'rr?') : (KINDS[type] ?? type);
      const restart = valuesOf(m, 'bgp.cap.gr.timers.restart_flag');
      const gr = restart.length === 0 ? {} : { gr: { restarting: flag(restart[0]), forwarding: valuesOf(m, 'bgp.cap.gr.flag.pfs').map(flag) } };
      out.push({ frame, kind, nlri: prefixesOf(m, 'bgp.nlri_prefix'), withdrawn: prefixesOf(m, 'bgp.withdrawn_prefix'), ...gr });
    }
  }
  return out;
}

/**
 * `tcpdump` on the ToR's interface, BGP only, each packet written as it arrives: `--immediate-mode`
 * hands each packet over at once (without it, packets wait in the kernel's capture buffer up to
 * its timeout, and a capture stopped soon after a packet may not hold it: seen here), `-U` writes
 * it out at once.
 */
export class Capture {
  private readonly child: ChildProcess;
  private readonly output;
  constructor(lab: Lab, ns: string, dev: string, readonly file: string) {
    this.child = lab.spawn(ns, 'tcpdump', ['-i', dev, '-n', '--immediate-mode', '-U', '-s', '0', '-w', file, 'tcp port 179']);
    this.output = captureOutput(this.child);
  }
  async ready(): Promise<void> {
    await waitFor(() => /listening on/.test(this.output.stderr()) && existsSync(this.file), { timeoutMs: 10_000, what: 'tcpdump to listen' });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGINT');
    await exited;
  }
  logs(): string {
    return this.output.stderr();
  }
}
