/* AF_NETLINK NETLINK_ROUTE sockets: open, send, poll-driven receive, close (netlink.c). */
#ifndef RACK_AGENT_NATIVE_NETLINK_H
#define RACK_AGENT_NATIVE_NETLINK_H
#include <node_api.h>
extern const napi_property_descriptor rn_netlink_exports[];
extern const size_t rn_netlink_exports_count;
#endif
