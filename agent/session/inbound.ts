/**
 * Pure helpers of the session: RFC 7606 treat-as-withdraw applied to a decoded UPDATE, the
 * RFC 4724 / RFC 8538 decision whether a peer's routes survive the end of a session, the Cease a
 * stop sends and the names of negotiated capabilities (the collision rule is collision.ts, the
 * words for socket errors socket-errors.ts). No sockets, no state.
 */

import { AFI, CeaseSubcode, ErrorCode, SAFI } from '../bgp/constants.js';
import { describeNotification, shutdownData } from '../bgp/notification.js';
import type { Prefix, Prefix4, Prefix6 } from '../bgp/prefix.js';
import type { UpdateMessage } from '../bgp/update.js';
import type { Notify } from './fsm.js';
import { type FamilyName, familyName } from '../bgp/families.js';
import type { Negotiated } from '../contracts/engines.js';

/**
 * RFC 7606 section 2: every prefix the UPDATE announces becomes a withdrawal; its attributes are
 * dropped. IPv4 prefixes (body or MP_REACH_NLRI) go to `withdrawn`, IPv6 ones to MP_UNREACH_NLRI.
 * The findings stay (`errors`): an UPDATE left with nothing is not an End-of-RIB (RFC 4724 section
 * 2 names only the empty UPDATE as received), and endOfRibFamily reads them so.
 */
export function asWithdrawal(u: UpdateMessage): UpdateMessage {
  const v4: Prefix4[] = [];
  const v6: Prefix6[] = [];
  const sort = (list: readonly Prefix[]): void => {
    for (const p of list) {
      if (p.afi === AFI.IPV4) v4.push(p);
      else v6.push(p);
    }
  };
  sort(u.withdrawn);
  sort(u.nlri);
  const { mpReach, mpUnreach } = u.attributes;
  if (mpUnreach && !mpUnreach.raw) sort(mpUnreach.withdrawn);
  if (mpReach && !mpReach.raw) sort(mpReach.nlri);
  const attributes = v6.length > 0 ? { mpUnreach: { afi: AFI.IPV6, safi: SAFI.UNICAST, withdrawn: v6 } } : {};
  return { type: 'update', withdrawn: v4, attributes, nlri: [], ...(u.errors ? { errors: u.errors } : {}) };
}

export interface SessionEnd {
  /** The NOTIFICATIONs sent and received as the session ended, if any. */
  readonly sent?: Notify;
  readonly received?: Notify;
  /** Stopped by an operator or the configuration: the routes go. */
  readonly adminStop: boolean;
  /**
   * Ended by BFD (RFC 5882 section 4.3); `controlPlaneIndependent`: the peer's BFD sent the C bit,
   * so its forwarding failed and graceful restart does not apply.
   */
  readonly bfdDown?: { readonly controlPlaneIndependent: boolean };
}

export type GracefulRestartInfo = { readonly restartTime: number; readonly families: readonly FamilyName[] } | null;

/**
 * Whether the peer's routes are kept as stale when a session ends (RFC 4724 section 4.2): both sides
 * sent the capability, the peer listed the family, and either no NOTIFICATION was exchanged or both
 * sent the N bit and it was not a Cease / Hard Reset (RFC 8538 section 3 and 5). A session ended
 * by BFD counts as a TCP reset unless the peer's BFD sent the C bit (RFC 5882 section 4.3).
 */
export function gracefulRestartOnDown(n: Negotiated | undefined, end: SessionEnd): GracefulRestartInfo {
  const gr = n?.peerGracefulRestart;
  if (!n || !gr || !n.localGracefulRestart || end.adminStop) return null;
  // RFC 5882 section 4.3: a peer whose BFD is control-plane independent (C bit set) keeps BFD
  // running across a control-plane restart, so its BFD failing means its forwarding failed: the
  // routes go at once, no graceful restart. With C clear BFD may simply have gone down with the
  // restarting control plane: the graceful-restart rules below decide, as for a TCP reset.
  if (end.bfdDown?.controlPlaneIndependent) return null;
  const families = gr.families
    .map((f) => familyName(f.afi, f.safi))
    .filter((f): f is FamilyName => f !== undefined && n.families.includes(f));
  if (families.length === 0) return null;
  const notes = [end.sent, end.received].filter((x): x is Notify => x !== undefined);
  if (notes.length > 0) {
    // Our own capability always carries the N bit (negotiate.ts buildOpen).
    if (!gr.notification) return null;
    if (notes.some((x) => x.code === ErrorCode.CEASE && x.subcode === CeaseSubcode.HARD_RESET)) return null;
  }
  return { restartTime: gr.restartTime, families };
}

/** Negotiated capabilities in words, for status. */
export function capabilityNames(n: Negotiated): string[] {
  const names = n.families.map((f) => `${f} unicast`);
  if (n.fourOctetAs) names.push('4-octet AS');
  if (n.routeRefresh) names.push('route refresh');
  if (n.enhancedRouteRefresh) names.push('enhanced route refresh');
  if (n.extendedMessage) names.push('extended message');
  if (n.extendedNextHop.ipv4) names.push('extended next hop ipv4');
  if (n.peerGracefulRestart && n.localGracefulRestart) names.push('graceful restart');
  for (const f of n.families) {
    if (n.addPathReceive[f]) names.push(`add-path receive ${f}`);
    if (n.addPathSend[f]) names.push(`add-path send ${f}`);
  }
  return names;
}

/** Both OPENs carried the graceful-restart N bit (RFC 8538 section 2); ours always does. */
export function notificationBitExchanged(n: Negotiated | undefined): boolean {
  return n?.localGracefulRestart === true && n.peerGracefulRestart?.notification === true;
}

/**
 * RFC 8538 section 5: the Cease subcodes sent as a Hard Reset once the N bit was exchanged, so the
 * peer flushes our routes. Administrative Reset is "user control" there: an explicit reset is
 * hard, the graceful stop (gracefulStop below) sends it soft.
 */
const HARD_RESET_CEASE: ReadonlySet<number> = new Set([
  CeaseSubcode.MAX_PREFIXES, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.PEER_DECONFIGURED, CeaseSubcode.ADMINISTRATIVE_RESET,
]);
/** RFC 9003 section 2: the subcodes that carry a shutdown communication. */
const COMMUNICATION_CEASE: ReadonlySet<number> = new Set([CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.ADMINISTRATIVE_RESET]);

/**
 * A Cease with `subcode`: the RFC 9003 text for Administrative Shutdown and Reset (other subcodes
 * have no place for it: the caller logs it), or `data` as given (RFC 4486 section 4's AFI, SAFI and
 * bound for subcode 1). With the N bit exchanged, subcodes 1-4 go inside a Hard Reset, whose data is
 * the encapsulated error code, subcode and data (RFC 8538 section 3).
 */
export function ceaseNotify(subcode: number, communication: string, n: Negotiated | undefined, data?: Uint8Array): Notify {
  const inner = data ?? (COMMUNICATION_CEASE.has(subcode) && communication !== '' ? shutdownData(communication) : new Uint8Array(0));
  if (!notificationBitExchanged(n) || !HARD_RESET_CEASE.has(subcode)) return { code: ErrorCode.CEASE, subcode, data: inner };
  const wrapped = new Uint8Array(2 + inner.length);
  wrapped[0] = ErrorCode.CEASE;
  wrapped[1] = subcode;
  wrapped.set(inner, 2);
  return { code: ErrorCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: wrapped };
}

/**
 * The Cease an administrative stop sends: Administrative Shutdown with the RFC 9003 text, wrapped
 * in a Hard Reset when both sides sent the N bit, so the peer drops our routes instead of keeping
 * them as stale.
 */
export function adminShutdown(communication: string, n: Negotiated | undefined): Notify {
  return ceaseNotify(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, communication, n);
}

/**
 * How a graceful stop (the agent stopping for a restart: SIGTERM) ends an Established session so
 * the peer keeps our routes as stale until we are back (RFC 4724 section 4.2):
 * - the peer sent the graceful-restart capability and the N bit was exchanged: Cease /
 *   Administrative Reset with the text, not wrapped in a Hard Reset. RFC 8538 section 4: only a
 *   Hard Reset ends graceful restart; section 5 leaves Administrative Reset to the operator. FRR
 *   treats exactly that as graceful (only subcode 9 is hard on receipt).
 * - the peer sent the capability without the N bit (BIRD 2.0): null, close the connection without
 *   a NOTIFICATION. RFC 4724 section 4.2: any NOTIFICATION would make it flush our routes, a TCP
 *   termination keeps them.
 * - the peer is not graceful-restart capable: it flushes our routes however we go, so an
 *   Administrative Shutdown tells it why.
 * A session that is not Established has nothing to keep: the same Administrative Shutdown.
 */
export function gracefulStop(communication: string, n: Negotiated | undefined): Notify | null {
  if (!n || !n.localGracefulRestart || !n.peerGracefulRestart) return adminShutdown(communication, n);
  if (!n.peerGracefulRestart.notification) return null;
  const data = communication === '' ? new Uint8Array(0) : shutdownData(communication);
  return { code: ErrorCode.CEASE, subcode: CeaseSubcode.ADMINISTRATIVE_RESET, data };
}

/** describeNotification, with the NOTIFICATION a Hard Reset carries (RFC 8538 section 3) spelled out. */
export function describeNotify(n: Notify): string {
  const data = n.data ?? new Uint8Array(0);
  const words = describeNotification({ code: n.code, subcode: n.subcode, data });
  if (n.code !== ErrorCode.CEASE || n.subcode !== CeaseSubcode.HARD_RESET || data.length < 2) return words;
  return `${words} (${describeNotification({ code: data[0], subcode: data[1], data: data.subarray(2) })})`;
}
