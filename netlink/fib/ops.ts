/**
 * Route requests of the Fib, and what their failures mean. A request is plain data plus two shared
 * functions (no closures per route: a million of them is a lot of garbage); its payload is built
 * only when the RouteSocket puts it in a datagram. Pure apart from that.
 */
import { NLM_F, RTM } from '../rtnetlink/constants.js';
import type { NetlinkError } from '../rtnetlink/errors.js';
import { encodeRoute } from '../rtnetlink/route.js';
import type { RouteRequest } from '../rtnetlink/route-socket.js';
import { type FibOp, parseKey } from './diff.js';
import { deleteMessage, routeToMessage } from './kernel-route.js';
import type { Ownership } from './types.js';

/** Called with the Fib's index of the key (state.ts). */
export type Settle = (entry: number, op: FibOp, err: NetlinkError | null) => void;

interface OpRequest extends RouteRequest {
  readonly own: Ownership;
  readonly entry: number;
  readonly fop: FibOp;
  readonly settle: Settle;
}

function opPayload(this: OpRequest): Buffer {
  const op = this.fop;
  if (op.op === 'delete') return encodeRoute(deleteMessage(op.family, op.prefix, op.metric, this.own));
  // An interned route (shapes.ts) has no prefix: the key names it.
  const route = op.route.prefix === '' ? { ...op.route, prefix: parseKey(op.key).prefix } : op.route;
  return encodeRoute(routeToMessage(route, this.own));
}

function opDone(this: OpRequest, err: NetlinkError | null): void {
  this.settle(this.entry, this.fop, err);
}

/** add: create, never over an existing route (NLM_F_EXCL); replace: our own route in place. */
export function opRequest(op: FibOp, entry: number, own: Ownership, settle: Settle): RouteRequest {
  const request: OpRequest = op.op === 'delete'
    ? { type: RTM.DELROUTE, flags: 0, op: 'delroute', own, entry, fop: op, settle, payload: opPayload, done: opDone }
    : {
      type: RTM.NEWROUTE, flags: NLM_F.CREATE | (op.op === 'add' ? NLM_F.EXCL : NLM_F.REPLACE), op: 'newroute',
      own, entry, fop: op, settle, payload: opPayload, done: opDone,
    };
  return request;
}

/**
 * What a failed request means:
 * - again: the outcome is unknown (answers lost, socket closing): look again after a resync;
 * - taken: an add found the key held (EEXIST): by whom, the table says;
 * - gone: a delete found nothing (ESRCH): the route is already gone;
 * - refused: the kernel will not take this route as it is (ENETUNREACH, ENODEV, EINVAL, ...).
 */
export type Failure = 'again' | 'taken' | 'gone' | 'refused';

const TRANSIENT = new Set(['ENOBUFS', 'EBADF', 'EINTR', 'EBUSY', 'EAGAIN']);

export function failure(op: FibOp, err: NetlinkError): Failure {
  return failureOf(op.op, err);
}

export function failureOf(op: FibOp['op'], err: NetlinkError): Failure {
  if (TRANSIENT.has(err.code)) return 'again';
  if (op === 'add' && err.code === 'EEXIST') return 'taken';
  if (op === 'delete' && err.code === 'ESRCH') return 'gone';
  return 'refused';
}
