/** rack-agent's rtnetlink layer: codecs (pure) and the RouteSocket (the only AF_NETLINK user). */
export * from './constants.js';
export { NetlinkError, errnoName } from './errors.js';
export { decodeError, encodeError, encodeMessage, splitMessages, type NlError, type NlMessage } from './message.js';
export { decodeRoute, encodeRoute, routeMessage, type RouteMessage, type RouteNextHop } from './route.js';
export { decodeLink, encodeLink, encodeNewLink, type LinkMessage } from './link.js';
export { decodeAddress, encodeAddress, type AddressMessage } from './addr.js';
export { NetlinkChannel } from './channel.js';
export { MONITOR_GROUPS, RouteSocket, type RouteRequest, type RouteSocketOptions } from './route-socket.js';
