/**
 * Netlink framing (RFC 3549 section 2.3.2, linux/netlink.h): the 16-byte nlmsghdr, splitting a
 * receive buffer into messages, NLMSG_ERROR / ACK with extended ack TLVs, and the rtattr TLV
 * walk shared by every rtnetlink family. Pure: decoders get exactly their bytes (subarray, no
 * copies) and never mutate them; encoders return fresh Buffers.
 * Not here: what a route, link or address message means (route.ts, link.ts, addr.ts).
 */
import { NLMSG, NLMSG_HDRLEN, NLMSGERR_ATTR, NLM_F } from './constants.js';
import { NetlinkError } from './errors.js';

export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** Bytes after the header, exactly nlmsg_len - 16 of them. */
  readonly payload: Buffer;
}

export const align4 = (n: number): number => (n + 3) & ~3;

/** Writes a header at `at` of buf; `len` is the whole message including the header. */
export function writeHeader(buf: Buffer, at: number, len: number, type: number, flags: number, seq: number): void {
  buf.writeUInt32LE(len, at);
  buf.writeUInt16LE(type, at + 4);
  buf.writeUInt16LE(flags, at + 6);
  buf.writeUInt32LE(seq >>> 0, at + 8);
  buf.writeUInt32LE(0, at + 12);
}

/** One message: header + payload (the payload is padded to 4 bytes; nlmsg_len covers the padding). */
export function encodeMessage(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const len = NLMSG_HDRLEN + align4(payload.length);
  const buf = Buffer.alloc(len);
  writeHeader(buf, 0, len, type, flags, seq);
  payload.copy(buf, NLMSG_HDRLEN);
  return buf;
}

export interface BatchMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly payload: Buffer;
}

/**
 * Several messages in one datagram (one sendto; the kernel processes them in order). The last one
 * gets NLM_F_ACK added: its answer tells that every message before it was processed.
 */
export function encodeBatch(messages: readonly BatchMessage[]): Buffer {
  let size = 0;
  for (const m of messages) size += NLMSG_HDRLEN + align4(m.payload.length);
  const datagram = Buffer.allocUnsafe(size);
  let at = 0;
  messages.forEach((m, i) => {
    const len = NLMSG_HDRLEN + align4(m.payload.length);
    writeHeader(datagram, at, len, m.type, m.flags | (i === messages.length - 1 ? NLM_F.ACK : 0), m.seq);
    m.payload.copy(datagram, at + NLMSG_HDRLEN);
    datagram.fill(0, at + NLMSG_HDRLEN + m.payload.length, at + len);
    at += len;
  });
  return datagram;
}

/**
 * Splits what one or more datagrams held into messages. A truncated or impossible header throws a
 * NetlinkError EPROTO: the kernel never sends one, so the rest of the buffer cannot be trusted.
 */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > buf.length) {
      throw new NetlinkError('decode', 'EPROTO', `netlink message at ${at} claims ${len} bytes, ${buf.length - at} left`);
    }
    out.push({
      type: buf.readUInt16LE(at + 4),
      flags: buf.readUInt16LE(at + 6),
      seq: buf.readUInt32LE(at + 8),
      pid: buf.readUInt32LE(at + 12),
      payload: buf.subarray(at + NLMSG_HDRLEN, at + len),
    });
    at += align4(len);
  }
  if (at < buf.length && buf.length - at >= 4) {
    throw new NetlinkError('decode', 'EPROTO', `${buf.length - at} trailing bytes after the last netlink message`);
  }
  return out;
}

// ---- rtattr TLVs --------------------------------------------------------------------------

/** Calls visit(type, value) for each attribute in buf (type without NLA_F_NESTED/BYTEORDER). */
export function forEachAttr(buf: Buffer, visit: (type: number, value: Buffer) => void): void {
  let at = 0;
  while (at + 4 <= buf.length) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > buf.length) {
      throw new NetlinkError('decode', 'EPROTO', `attribute at ${at} claims ${len} bytes, ${buf.length - at} left`);
    }
    visit(buf.readUInt16LE(at + 2) & 0x3fff, buf.subarray(at + 4, at + len));
    at += align4(len);
  }
}

/** One attribute: 4-byte header, value, padding to 4 bytes. */
export function encodeAttr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const buf = Buffer.alloc(align4(len));
  buf.writeUInt16LE(len, 0);
  buf.writeUInt16LE(type, 2);
  value.copy(buf, 4);
  return buf;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

export function cstring(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]);
}

export function readCString(value: Buffer): string {
  const nul = value.indexOf(0);
  return value.toString('utf8', 0, nul < 0 ? value.length : nul);
}

// ---- NLMSG_ERROR and acks -------------------------------------------------------------------

export interface NlError {
  /** 0 for an ACK, else a negative errno. */
  readonly error: number;
  /** Header fields of the request this answers. */
  readonly request: { readonly type: number; readonly flags: number; readonly seq: number };
  /** NLMSGERR_ATTR_MSG: the kernel's explanation (extended ack), '' when none. */
  readonly message: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request, -1 when none. */
  readonly offset: number;
}

/**
 * struct nlmsgerr: int error, then the request's header (and its payload unless NETLINK_CAP_ACK,
 * or NLM_F_CAPPED set on the ERROR message), then extended ack TLVs when NLM_F_ACK_TLVS is set.
 */
export function decodeError(msg: NlMessage): NlError {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) {
    throw new NetlinkError('decode', 'EPROTO', `NLMSG_ERROR payload is ${p.length} bytes, at least 20 expected`);
  }
  const error = p.readInt32LE(0);
  const requestLen = p.readUInt32LE(4);
  const request = { type: p.readUInt16LE(8), flags: p.readUInt16LE(10), seq: p.readUInt32LE(12) };
  let message = '';
  let offset = -1;
  if ((msg.flags & NLM_F.ACK_TLVS) !== 0) {
    const capped = (msg.flags & NLM_F.CAPPED) !== 0;
    const tlvAt = 4 + (capped ? NLMSG_HDRLEN : align4(requestLen));
    if (tlvAt <= p.length) {
      forEachAttr(p.subarray(tlvAt), (type, value) => {
        if (type === NLMSGERR_ATTR.MSG) message = readCString(value);
        else if (type === NLMSGERR_ATTR.OFFS && value.length >= 4) offset = value.readUInt32LE(0);
      });
    }
  }
  return { error, request, message, offset };
}

/** An ACK or error message as the kernel builds it (tests, and fakes of the kernel side). */
export function encodeError(e: NlError, seq = e.request.seq): Buffer {
  const tlv = e.message === '' ? Buffer.alloc(0) : encodeAttr(NLMSGERR_ATTR.MSG, cstring(e.message));
  const body = Buffer.alloc(4 + NLMSG_HDRLEN);
  body.writeInt32LE(e.error, 0);
  writeHeader(body, 4, NLMSG_HDRLEN, e.request.type, e.request.flags, e.request.seq);
  const flags = NLM_F.CAPPED | (tlv.length > 0 ? NLM_F.ACK_TLVS : 0);
  return encodeMessage(NLMSG.ERROR, flags, seq, Buffer.concat([body, tlv]));
}
