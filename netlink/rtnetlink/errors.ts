/**
 * NetlinkError: every failure of the netlink layer, typed like Node's system errors. `code` is the
 * errno name (EEXIST, ESRCH, ENODEV, ENOBUFS, ...) or one of the layer's own codes for input that
 * is not a kernel error (EPROTO for malformed messages from the kernel, EINVAL for bad requests).
 * `op` names what was being done ('newroute', 'delroute', 'dump', 'recv', ...).
 */
import { CodedError } from '../../agent/contracts/coded-error.js';
import { errnoName, errnoNumber } from '../../agent/contracts/errno.js';

export type NetlinkOp =
  | 'open'
  | 'send'
  | 'recv'
  | 'newroute'
  | 'delroute'
  | 'newlink'
  | 'dump'
  | 'decode'
  | 'encode'
  | 'close';

export { errnoName, errnoNumber };

/** `code` is the errno name, e.g. 'EEXIST'. */
export class NetlinkError extends CodedError {
  /** Positive errno as in errno(3); 0 when the code is not an errno. */
  readonly errno: number;
  readonly op: NetlinkOp;
  /** The kernel's extended ack message (NLMSGERR_ATTR_MSG), when it sent one. */
  readonly extack: string | undefined;

  constructor(op: NetlinkOp, code: string, message: string, options: { extack?: string; cause?: unknown } = {}) {
    super(code, `${op}: ${message}`, options);
    this.op = op;
    this.errno = errnoNumber(code);
    this.extack = options.extack;
  }

  /** From the negative errno of an NLMSG_ERROR, with the extended ack text when present. */
  static fromKernel(op: NetlinkOp, negativeErrno: number, extack?: string, what?: string): NetlinkError {
    const code = errnoName(-negativeErrno);
    const detail = extack !== undefined && extack !== '' ? `: ${extack}` : '';
    return new NetlinkError(op, code, `${what ?? op} failed: ${code}${detail}`, { extack });
  }
}

/** Errors from the addon carry `code` and `syscall`; turn them into NetlinkError. */
export function toNetlinkError(op: NetlinkOp, err: unknown): NetlinkError | unknown {
  if (err instanceof NetlinkError) return err;
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' &&
      typeof (err as { syscall?: unknown }).syscall === 'string') {
    return new NetlinkError(op, (err as unknown as { code: string }).code, err.message, { cause: err });
  }
  return err;
}
