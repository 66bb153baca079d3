/**
 * The stream framer: TCP byte chunks of any size in, whole BGP messages out (RFC 4271 section 4.1).
 * It checks each header as soon as its 19 bytes are there and throws the BgpError of RFC 4271
 * section 6.1; after an error it stays failed (the session resets). It allocates only for bytes that
 * have arrived: a message split across chunks is joined once all of it is present, and a message
 * inside one chunk is returned as a view of that chunk, without a copy.
 * Not here: decoding message bodies (message.ts).
 */

import { HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import { checkHeader } from './header.js';

export class Framer {
  /** Chunks of an incomplete message, oldest first. */
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  /** Length of the message at the head of `parts`, once its header is known. */
  private need = 0;
  private failed: Error | undefined;
  private maxLength = MAX_MESSAGE_LENGTH;

  /** RFC 8654: both sides advertised the extended message capability. */
  allowExtendedMessages(on = true): void {
    this.maxLength = on ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
  }

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.partsLength;
  }

  /** Feeds one chunk; returns the whole messages it completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    try {
      return this.consume(chunk);
    } catch (err) {
      this.failed = err as Error;
      this.parts = [];
      this.partsLength = 0;
      throw err;
    }
  }

  private consume(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let buf = chunk;
    if (this.partsLength > 0) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      const wanted = this.need || HEADER_LENGTH;
      if (this.partsLength < wanted) return out;
      // Everything buffered is now real bytes: join them once and continue in one buffer.
      buf = joinParts(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
      this.need = 0;
    }
    let at = 0;
    while (buf.length - at >= HEADER_LENGTH) {
      const length = checkHeader(buf, at, this.maxLength);
      if (buf.length - at < length) {
        this.need = length;
        break;
      }
      out.push(buf.subarray(at, at + length));
      at += length;
    }
    if (at < buf.length) {
      const rest = buf.subarray(at);
      this.parts.push(rest);
      this.partsLength = rest.length;
      if (rest.length < HEADER_LENGTH) this.need = 0;
    }
    return out;
  }
}

function joinParts(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
