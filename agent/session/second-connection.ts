/**
 * A second connection from the session's peer (RFC 4271 section 6.8). Until the collision is
 * resolved it carries only the peer's OPEN: anything else, or a malformed message, refuses it. While
 * Established a new connection is refused at once when the peer did not negotiate graceful restart;
 * with it, an acceptable OPEN on the new connection is the peer's restart (RFC 4724 section 4.2).
 * Deciding on the OPEN, not on the connect, keeps a connection that ends without one (a superseded
 * connect, a scanner) and a NOTIFICATION still queued on the old connection from resetting a good
 * session. Returns a step for the session; pure but for the log lines. Not here: the collision
 * verdict (open-check.ts, collision.ts), what the FSM does about it (fsm.ts), the sockets.
 */

import { DEFAULT_CONTEXT } from '../bgp/context.js';
import { BgpError } from '../bgp/errors.js';
import { decodeMessage, type Message } from '../bgp/message.js';
import { notificationFor } from '../bgp/notification.js';
import type { OpenMessage } from '../bgp/open.js';
import type { Inbound } from './connection.js';
import type { FsmEvent, Notify } from './fsm.js';
import { openError } from './open-check.js';
import type { State, Negotiated, PeerSpec } from '../contracts/engines.js';
import type { Logger } from '../contracts/log.js';

export type SecondStep =
  /** Close the second connection, after `notify` if given. */
  | { readonly kind: 'refuse'; readonly notify?: Notify }
  /** The peer's OPEN on it, before Established: the session checks it and resolves the collision. */
  | { readonly kind: 'open'; readonly open: OpenMessage }
  /** An acceptable OPEN while Established: the peer restarted, the OPEN is the new session's. */
  | { readonly kind: 'restart'; readonly open: OpenMessage };

export function secondStep(item: Inbound, state: State, spec: PeerSpec, log: Logger): SecondStep {
  if (!(item instanceof Uint8Array)) return { kind: 'refuse' };
  let msg: Message;
  try {
    msg = decodeMessage(item, DEFAULT_CONTEXT);
  } catch (err) {
    log.warn(`malformed message on the second connection: ${String(err)}`, { peer: spec.key });
    return err instanceof BgpError ? { kind: 'refuse', notify: notificationFor(err) } : { kind: 'refuse' };
  }
  if (msg.type !== 'open') return { kind: 'refuse' };
  if (state !== 'Established') return { kind: 'open', open: msg };
  const notify = openError(msg, spec, log, ' on a new connection while Established');
  if (notify) return { kind: 'refuse', notify };
  log.info('an OPEN on a new connection from the peer while Established: taken as its restart, the old connection is closed (graceful restart, RFC 4724 section 4.2)', { peer: spec.key });
  return { kind: 'restart', open: msg };
}

/**
 * A new connection while Established: without the peer's graceful-restart capability RFC 4271
 * section 6.8 closes it at once (the event to feed); with it, it waits for its OPEN (secondStep).
 */
export function whileEstablished(n: Negotiated | undefined, spec: PeerSpec, log: Logger): FsmEvent | undefined {
  if (n?.peerGracefulRestart !== undefined) {
    log.info('a new connection from the peer while Established: its OPEN decides whether the peer restarted (RFC 4724 section 4.2)', { peer: spec.key });
    return undefined;
  }
  log.info('refusing a new connection from the peer: the session is Established and the peer did not negotiate graceful restart', { peer: spec.key });
  return { type: 'TcpConnectionWhileEstablished', gracefulRestart: false };
}
