/*
 * IPv4 and IPv6 addresses as text for the addon's IP sockets (sockopt.c, udp.c): text -> sockaddr
 * for a socket's family, and binding to one. Errors are thrown as common.h describes.
 */
#ifndef RACK_AGENT_NATIVE_IP_ADDRESS_H
#define RACK_AGENT_NATIVE_IP_ADDRESS_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest address text accepted: an IPv6 address with a %scope (interface name). */
#define RN_ADDRESS_TEXT_MAX 96

/* AF_INET or AF_INET6 of a socket, via getsockname(2); throws ENOTSOCK/EBADF/EAFNOSUPPORT. */
bool rn_socket_family(napi_env env, int fd, const char *syscall, int *family);

/*
 * Parses IPv4 or IPv6 text (an IPv6 address may carry %ifname or %index) into a sockaddr usable on
 * a socket of `family`: an IPv4 address on an AF_INET6 socket becomes ::ffff:a.b.c.d (a dual-stack
 * socket sees IPv4 peers that way), a v4-mapped address on an AF_INET socket becomes plain IPv4.
 */
bool rn_parse_sockaddr(napi_env env, const char *syscall, int family, const char *text,
                       uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/* rn_parse_sockaddr for `family`, then bind(2); a bind error says "<address> port <port>: ...". */
bool rn_bind_ip(napi_env env, int fd, int family, const char *address, uint16_t port);

#endif
