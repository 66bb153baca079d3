/**
 * The codec's one error type. Every malformed input becomes a BgpError that carries what the
 * NOTIFICATION needs (code, subcode, data; RFC 4271 section 6) and the action RFC 7606 section 2
 * prescribes: 'reset' (session reset), 'withdraw' (treat-as-withdraw) or 'discard' (attribute
 * discard). Only the session turns a BgpError into a NOTIFICATION; the codec never sends anything.
 */

export type ErrorAction = 'reset' | 'withdraw' | 'discard';

/** Strength order of RFC 7606 section 3 (f): the strongest action wins. */
export const ACTION_RANK: Record<ErrorAction, number> = { discard: 0, withdraw: 1, reset: 2 };

export class BgpError extends Error {
  override readonly name = 'BgpError';
  /** NOTIFICATION error code (RFC 4271 section 4.5). */
  readonly code: number;
  readonly subcode: number;
  /** NOTIFICATION data: what RFC 4271 section 6 says to echo (a length, a type, an attribute). */
  readonly data: Uint8Array;
  readonly action: ErrorAction;
  /** Stable machine-readable reason, e.g. 'header.marker' or 'attr.origin.value'. */
  readonly reason: string;

  constructor(
    reason: string,
    message: string,
    code: number,
    subcode: number,
    action: ErrorAction,
    data: Uint8Array = new Uint8Array(0),
  ) {
    super(message);
    this.reason = reason;
    this.code = code;
    this.subcode = subcode;
    this.action = action;
    this.data = data;
  }
}

/** Thrown by encoders when asked to write something the wire format cannot carry. */
export class BgpEncodeError extends Error {
  override readonly name = 'BgpEncodeError';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}
