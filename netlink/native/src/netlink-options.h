/* Socket options of the netlink sockets, on an fd (netlink-options.c); netlink.c calls them. */
#ifndef RACK_AGENT_NATIVE_NETLINK_OPTIONS_H
#define RACK_AGENT_NATIVE_NETLINK_OPTIONS_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/* Options from JS: buffers (SO_*BUFFORCE when permitted), acks, strict dumps, groups. */
bool rn_nl_configure(napi_env env, int fd, int32_t rcvbuf, int32_t sndbuf, napi_value groups);
/* Drops every message whose nlmsg_pid is port_id (SO_ATTACH_FILTER); throws a setsockopt error. */
bool rn_nl_ignore_port(napi_env env, int fd, uint32_t port_id);
#endif
