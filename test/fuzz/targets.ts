/**
 * What the fuzzer runs and what counts as a crash. Each target decodes one input with the
 * project's real decoders and checks the oracle: a decoder may only throw its own typed error
 * (BgpError with a NOTIFICATION code and action 'reset', BfdError, NetlinkError); anything else
 * (TypeError, RangeError, ...) is a crash, and so is a message that does not survive
 * decode(encode(decode(x))) unchanged. Inputs carry their decoding context in a leading byte, so
 * the fuzzer explores contexts too:
 * - bgp-message: [ctx flags] + one message for decodeMessage (RFC 4271 s4; flags below);
 * - bgp-framer: [ctx flags, chunk size] + a byte stream cut into chunks for the Framer, each
 *   message it returns then goes through the bgp-message oracle;
 * - bfd-control: one BFD Control packet for decodeControl (RFC 5880 s4.1, s6.8.6);
 * - rtnetlink: a netlink datagram for splitMessages, decodeRoute and decodeError.
 */

import { isDeepStrictEqual } from 'node:util';
import { BgpEncodeError, BgpError, contextWith, decodeMessage, encodeMessage, Framer, type CodecContext } from '../../agent/bgp/index.js';
import { decodeControl, encodeControl } from '../../agent/bfd/packet.js';
import { BfdError } from '../../agent/bfd/errors.js';
import { decodeError, splitMessages } from '../../netlink/rtnetlink/message.js';
import { decodeRoute } from '../../netlink/rtnetlink/route.js';
import { NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { NLMSG, RTM } from '../../netlink/rtnetlink/constants.js';

/** An oracle violation that is not an exception of the decoder itself. */
export class OracleFailure extends Error {
  override readonly name = 'OracleFailure';
}

export interface Target {
  readonly name: string;
  /** Module URL substrings whose blocks are coverage features. */
  readonly watch: readonly string[];
  /** Bytes before the payload that are context, not wire data (mutators leave them mostly alone). */
  readonly prefix: number;
  /** Where the payload's BGP message(s) start, for the BGP-aware mutators; -1 for none. */
  readonly bgpAt: number;
  run(input: Uint8Array): void;
}

/** bit0: 2-octet AS session; bit1/bit2: add-path IPv4/IPv6 receive; bit3: eBGP; bit4: RFC 8654. */
export function contextFromFlags(f: number): CodecContext {
  return contextWith({
    fourOctetAs: (f & 1) === 0,
    addPathIpv4: (f & 2) !== 0,
    addPathIpv6: (f & 4) !== 0,
    external: (f & 8) !== 0,
    maxLength: f & 16 ? 65535 : 4096,
  });
}

export function flagsFromContext(ctx: CodecContext): number {
  return (ctx.fourOctetAs ? 0 : 1) | (ctx.addPathIpv4 ? 2 : 0) | (ctx.addPathIpv6 ? 4 : 0) | (ctx.external ? 8 : 0) | (ctx.maxLength > 4096 ? 16 : 0);
}

const ACTIONS = ['reset', 'withdraw', 'discard'];

function checkBgpError(err: BgpError, thrown: boolean): void {
  const okCode = Number.isInteger(err.code) && err.code >= 1 && err.code <= 7 && Number.isInteger(err.subcode) && err.subcode >= 0 && err.subcode <= 255;
  if (!okCode || !(err.data instanceof Uint8Array) || !ACTIONS.includes(err.action)) {
    throw new OracleFailure(`BgpError ${err.reason} has code ${err.code}/${err.subcode}, action ${err.action}`);
  }
  // A thrown error ends the session; the RFC 7606 softer actions travel in UpdateMessage.errors.
  if (thrown && err.action !== 'reset') throw new OracleFailure(`thrown BgpError ${err.reason} with action ${err.action}`);
}

/** The BGP oracle on one whole message. */
export function checkBgpMessage(bytes: Uint8Array, ctx: CodecContext): void {
  let msg;
  try {
    msg = decodeMessage(bytes, ctx);
  } catch (err) {
    if (!(err instanceof BgpError)) throw err;
    checkBgpError(err, true);
    return;
  }
  if (msg.type === 'update' && msg.errors) {
    for (const e of msg.errors) {
      if (!(e instanceof BgpError)) throw new OracleFailure('UpdateMessage.errors holds a non-BgpError');
      checkBgpError(e, false);
    }
    return;
  }
  let again: Uint8Array;
  try {
    again = encodeMessage(msg, ctx);
  } catch (err) {
    if (err instanceof BgpEncodeError) return; // e.g. the re-encoding grew past the maximum length
    throw err;
  }
  const redecoded = decodeMessage(again, ctx);
  if (!isDeepStrictEqual(redecoded, msg)) throw new OracleFailure('decode(encode(decode(x))) differs from decode(x)');
}

export const bgpMessage: Target = {
  name: 'bgp-message',
  watch: ['/agent/bgp/'],
  prefix: 1,
  bgpAt: 1,
  run(input) {
    if (input.length < 1) return;
    // A plain Uint8Array (the mutators make Buffers): decoded values are views of it.
    checkBgpMessage(Uint8Array.from(input.subarray(1)), contextFromFlags(input[0]));
  },
};

export const bgpFramer: Target = {
  name: 'bgp-framer',
  watch: ['/agent/bgp/'],
  prefix: 2,
  bgpAt: 2,
  run(input) {
    if (input.length < 2) return;
    const ctx = contextFromFlags(input[0]);
    const chunk = 1 + input[1];
    const stream = Uint8Array.from(input.subarray(2));
    const framer = new Framer();
    framer.allowExtendedMessages(ctx.maxLength > 4096);
    const messages: Uint8Array[] = [];
    try {
      for (let at = 0; at < stream.length; at += chunk) messages.push(...framer.push(stream.subarray(at, at + chunk)));
    } catch (err) {
      if (!(err instanceof BgpError)) throw err;
      checkBgpError(err, true);
    }
    let at = 0;
    for (const m of messages) {
      if (m.length !== ((m[16] << 8) | m[17]) || !isDeepStrictEqual(Buffer.from(m), Buffer.from(stream.subarray(at, at + m.length)))) {
        throw new OracleFailure(`framer returned a message that is not the stream's bytes at ${at}`);
      }
      at += m.length;
      checkBgpMessage(m, ctx);
    }
  },
};

export const bfdControl: Target = {
  name: 'bfd-control',
  watch: ['/agent/bfd/'],
  prefix: 0,
  bgpAt: -1,
  run(input) {
    let p;
    try {
      p = decodeControl(input);
    } catch (err) {
      if (err instanceof BfdError) return;
      throw err;
    }
    if (!isDeepStrictEqual(decodeControl(encodeControl(p)), p)) throw new OracleFailure('BFD decode(encode(decode(x))) differs');
  },
};

export const rtnetlink: Target = {
  name: 'rtnetlink',
  watch: ['/netlink/rtnetlink/'],
  prefix: 0,
  bgpAt: -1,
  run(input) {
    try {
      const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      for (const m of splitMessages(buf)) {
        if (m.type === RTM.NEWROUTE || m.type === RTM.DELROUTE) decodeRoute(m.payload);
        else if (m.type === NLMSG.ERROR) decodeError(m);
      }
    } catch (err) {
      if (err instanceof NetlinkError) return;
      throw err;
    }
  },
};

export const TARGETS: readonly Target[] = [bgpMessage, bgpFramer, bfdControl, rtnetlink];

export function targetByName(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target ${name}; there are ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}
