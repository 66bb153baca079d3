/*
 * Socket options of rack-agent's netlink sockets (rtnetlink): at nlOpen the buffer sizes, extended
 * and capped acks, strict dump checking and the multicast groups the caller asks for
 * (rn_nl_configure); later nlIgnorePort's classic BPF filter (rn_nl_ignore_port). On an fd: the
 * handles and their checks are netlink.c's. Not here: opening, receiving, closing, sending.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common.h"
#include "netlink-options.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

bool rn_nl_configure(napi_env env, int fd, int32_t rcvbuf, int32_t sndbuf, napi_value groups) {
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0 &&
      !rn_set_int_option(env, fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "SO_RCVBUF"))
    return false;
  if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0 &&
      !rn_set_int_option(env, fd, SOL_SOCKET, SO_SNDBUF, sndbuf, "SO_SNDBUF"))
    return false;
  /* Overflow must be reported (ENOBUFS), so the caller knows to resynchronise by a dump. */
  if (!rn_set_int_option(env, fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 0, "NETLINK_NO_ENOBUFS") ||
      !rn_set_int_option(env, fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK") ||
      !rn_set_int_option(env, fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK"))
    return false;
  /* Strict checking lets the kernel filter dumps (table, protocol); older kernels lack it. */
  int one = 1;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);

  uint32_t count = 0;
  bool is_array = false;
  if (napi_is_array(env, groups, &is_array) != napi_ok || !is_array) {
    rn_throw_type(env, "groups must be an array of multicast group numbers");
    return false;
  }
  napi_get_array_length(env, groups, &count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    int32_t group;
    if (napi_get_element(env, groups, i, &item) != napi_ok ||
        !rn_get_int(env, item, "group", 1, 1023, &group) ||
        !rn_set_int_option(env, fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group, "NETLINK_ADD_MEMBERSHIP"))
      return false;
  }
  return true;
}

/*
 * nlIgnorePort's filter: a classic BPF filter that drops every message whose nlmsg_pid is
 * port_id. Notifications carry the port id of the socket whose request caused them, so
 * on a monitor socket this drops the echoes of our own requests (their outcome arrives as ACKs) and
 * keeps everyone else's changes. The kernel applies the filter before queueing, so our own bursts
 * never fill the monitor's receive buffer.
 */
bool rn_nl_ignore_port(napi_env env, int fd, uint32_t port_id) {
  /* BPF_ABS loads are big-endian; nlmsg_pid is in host (little-endian) order. */
  uint32_t wire = __builtin_bswap32(port_id);
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, wire, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0),
    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0) return true;
  rn_throw_errno(env, errno, "setsockopt", "SO_ATTACH_FILTER");
  return false;
}
