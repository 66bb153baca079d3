/*
 * UDP sockets for BFD (RFC 5881): Node's dgram cannot tell the TTL a datagram arrived with, and
 * RFC 5881 section 5 requires discarding single-hop Control packets whose TTL / Hop Limit is not
 * 255 (GTSM, RFC 5082). A socket opened here sets IP_RECVTTL (IPV6_RECVHOPLIMIT on AF_INET6),
 * reads with recvmsg(2) from a uv_poll_t on the caller's event loop (the main thread's or a
 * worker's: napi_get_uv_event_loop), and hands each datagram to JS with its source address, port
 * and the TTL from the control message; the check itself is in TypeScript (agent/bfd/engine.ts), so
 * a dropped packet is counted. Sending sets IP_TTL / IPV6_UNICAST_HOPS at open (255 for BFD, any
 * value for tests). AF_INET6 sockets are IPv6 only (IPV6_V6ONLY). A receiving socket also sets
 * IP_PKTINFO / IPV6_RECVPKTINFO: each datagram comes with the interface it arrived on and the
 * address it was sent to, which BFD needs to key a link-local session by interface (RFC 5881
 * section 3) and a multihop one by its address pair (RFC 5883 section 3). Send and bind accept a
 * scoped address (fe80::1%eth0, ip-address.c).
 *
 *   udpOpen(family 4|6, address, port, ttl, onMessage | null, onError) -> handle
 *     onMessage(buf, address, port, ttl, ifname, local)   ttl -1 when the kernel gave no control
 *       message; ifname '' and local '' when it gave no packet info
 *   udpSend(handle, buf, address, port)    throws a typed errno error
 *   udpPort(handle) -> the bound port      udpClose(handle)
 *
 * Errors never leave a libuv callback: they go to onError. A udpClose from inside onMessage or
 * onError releases the callbacks and their async context when that callback returns
 * (js-callbacks.c, shared with netlink.c). At environment teardown (the BFD worker thread ending
 * with sockets open) an async cleanup hook closes them and holds the teardown until libuv has run
 * the poll handle's close callback, as netlink.c does: a plain cleanup hook let the worker's
 * teardown go on, and the addon be unloaded, with that callback still to come.
 * Not here: the BFD codec or sessions.
 */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"
#include "ip-address.h"
#include "js-callbacks.h"

#define NOT_A_HANDLE "handle must be a UDP socket handle from udpOpen"

#define UDP_DATAGRAM_MAX 2048
#define UDP_READ_BUDGET 256 /* datagrams per poll callback, then the loop runs other work */

typedef struct udp_socket {
  int fd;
  int family;
  bool polling;
  uv_poll_t poll;
  rn_js js; /* closed, env, onMessage (js.on_data; NULL for a send-only socket), onError */
  int refs;
} udp_socket;

static void drop_ref(udp_socket *s) {
  if (--s->refs == 0) free(s);
}

static udp_socket *get_socket(napi_env env, napi_value value, const char *syscall) {
  udp_socket *s = rn_get_external(env, value, NOT_A_HANDLE);
  if (s == NULL) return NULL;
  if (s->js.closed) {
    rn_throw_errno(env, EBADF, syscall, "UDP socket is closed");
    return NULL;
  }
  return s;
}

/* The TTL (IPv4) or Hop Limit (IPv6) of a received datagram, -1 when absent. */
static int received_ttl(struct msghdr *msg) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    int v;
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      memcpy(&v, CMSG_DATA(c), sizeof v);
      return v;
    }
  }
  return -1;
}

/* The arrival interface's name and the destination address (IP_PKTINFO / IPV6_PKTINFO), '' when absent. */
static void received_info(struct msghdr *msg, char *ifname, char *local, size_t local_size) {
  ifname[0] = '\0';
  local[0] = '\0';
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    unsigned int index = 0;
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      index = (unsigned int)info.ipi_ifindex;
      inet_ntop(AF_INET, &info.ipi_addr, local, (socklen_t)local_size);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      index = info.ipi6_ifindex;
      inet_ntop(AF_INET6, &info.ipi6_addr, local, (socklen_t)local_size);
    } else {
      continue;
    }
    if (index != 0 && if_indextoname(index, ifname) == NULL) ifname[0] = '\0';
  }
}

static void deliver(udp_socket *s, const unsigned char *data, size_t n, struct sockaddr_storage *from,
                    int ttl, const char *ifname, const char *local) {
  napi_env env = s->js.env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (from->ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)from;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)from;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  napi_value argv[6];
  if (napi_create_buffer_copy(env, n, data, NULL, &argv[0]) == napi_ok &&
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok &&
      napi_create_int32(env, port, &argv[2]) == napi_ok &&
      napi_create_int32(env, ttl, &argv[3]) == napi_ok &&
      napi_create_string_utf8(env, ifname, NAPI_AUTO_LENGTH, &argv[4]) == napi_ok &&
      napi_create_string_utf8(env, local, NAPI_AUTO_LENGTH, &argv[5]) == napi_ok)
    rn_js_call(&s->js, s->js.on_data, 6, argv);
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  udp_socket *s = handle->data;
  if (s == NULL || s->js.closed) return;
  if (status < 0) {
    int err = 0;
    socklen_t len = sizeof err;
    /* EPOLLERR on UDP: a pending ICMP error (SO_ERROR); clear it and read on. */
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) rn_js_error(&s->js, err, "recvmsg", NULL);
    if (!s->js.closed && uv_poll_start(&s->poll, UV_READABLE, on_poll) != 0) rn_js_error(&s->js, EBADF, "uv_poll_start", NULL);
    return;
  }
  if (!(events & UV_READABLE)) return;
  for (int i = 0; i < UDP_READ_BUDGET && !s->js.closed; i++) {
    unsigned char data[UDP_DATAGRAM_MAX];
    unsigned char control[256];
    struct sockaddr_storage from;
    struct iovec iov = {data, sizeof data};
    struct msghdr msg = {&from, sizeof from, &iov, 1, control, sizeof control, 0};
    ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err != EAGAIN && err != EWOULDBLOCK) rn_js_error(&s->js, err, "recvmsg", NULL);
      break;
    }
    if (msg.msg_flags & MSG_TRUNC) continue; /* larger than any BFD packet: not ours */
    char ifname[IF_NAMESIZE];
    char local[INET6_ADDRSTRLEN];
    received_info(&msg, ifname, local, sizeof local);
    deliver(s, data, (size_t)n, &from, received_ttl(&msg), ifname, local);
  }
}

/* libuv has let go of the handle: no more of this addon's code runs for the socket. */
static void on_closed(uv_handle_t *handle) {
  udp_socket *s = handle->data;
  napi_async_cleanup_hook_handle cleanup = rn_js_teardown_take(&s->js);
  drop_ref(s);
  rn_js_teardown_release(cleanup); /* teardown may go on now */
}

static void finalize_external(napi_env env, void *data, void *hint) { drop_ref(data); }

static void release(udp_socket *s, bool from_js) {
  if (s->js.closed) return;
  s->js.closed = true;
  if (s->polling) uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  if (from_js) rn_js_release(&s->js);
  if (s->polling) {
    uv_close((uv_handle_t *)&s->poll, on_closed);
  } else {
    napi_async_cleanup_hook_handle cleanup = rn_js_teardown_take(&s->js);
    drop_ref(s);
    rn_js_teardown_release(cleanup);
  }
}

/* Environment teardown (the BFD worker ending, or the main thread): close what JS left open. */
static void cleanup_hook(napi_async_cleanup_hook_handle handle, void *arg) { release(arg, false); }

static napi_value udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[6], handle;
  int32_t version, port, ttl;
  char address[RN_ADDRESS_TEXT_MAX];
  if (!rn_args(env, info, 6, argv) || !rn_get_int(env, argv[0], "family", 4, 6, &version) ||
      !rn_get_string(env, argv[1], "address", "bind", address, sizeof address, NULL) ||
      !rn_get_int(env, argv[2], "port", 0, 65535, &port) || !rn_get_int(env, argv[3], "ttl", 1, 255, &ttl) ||
      !rn_get_function(env, argv[5], "onError"))
    return NULL;
  bool receiving = !rn_is_nullish(env, argv[4]);
  if (receiving && !rn_get_function(env, argv[4], "onMessage")) return NULL;
  if (version == 5) return rn_throw_type(env, "family must be 4 or 6");
  int family = version == 4 ? AF_INET : AF_INET6;
  int fd;
  if (!rn_open_socket(env, family, SOCK_DGRAM, IPPROTO_UDP, "AF_INET/AF_INET6 SOCK_DGRAM", &fd))
    return NULL;
  bool ok = family == AF_INET
                ? rn_set_int_option(env, fd, IPPROTO_IP, IP_TTL, ttl, "IP_TTL") &&
                      (!receiving || (rn_set_int_option(env, fd, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL") &&
                                      rn_set_int_option(env, fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO")))
                : rn_set_int_option(env, fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY") &&
                      rn_set_int_option(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS") &&
                      (!receiving || (rn_set_int_option(env, fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT") &&
                                      rn_set_int_option(env, fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")));
  if (!ok || !rn_bind_ip(env, fd, family, address, (uint16_t)port)) {
    close(fd);
    return NULL;
  }
  udp_socket *s = calloc(1, sizeof *s);
  if (s == NULL) return rn_close_throw(env, fd, ENOMEM, "udpOpen", NULL);
  s->fd = fd;
  s->family = family;
  s->refs = 1;
  if (!rn_js_init(&s->js, env, "rack-agent:udp")) {
    release(s, true);
    rn_throw_napi_failure(env, "udpOpen");
    return NULL;
  }
  if ((receiving && !rn_js_poll(&s->js, &s->poll, fd, on_poll, s, &s->polling)) ||
      (handle = rn_js_wrap(&s->js, s, finalize_external, &s->refs, receiving ? argv[4] : NULL,
                           argv[5], cleanup_hook, "udpOpen")) == NULL) {
    release(s, true);
    return NULL;
  }
  return handle;
}

static napi_value udp_send(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t port;
  char address[RN_ADDRESS_TEXT_MAX];
  void *data = NULL;
  size_t length = 0;
  if (!rn_args(env, info, 4, argv)) return NULL;
  udp_socket *s = get_socket(env, argv[0], "sendto");
  if (s == NULL || !rn_get_buffer(env, argv[1], "data", &data, &length)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!rn_get_string(env, argv[2], "address", "sendto", address, sizeof address, NULL) ||
      !rn_get_int(env, argv[3], "port", 1, 65535, &port) ||
      !rn_parse_sockaddr(env, "sendto", s->family, address, (uint16_t)port, &ss, &len))
    return NULL;
  ssize_t n;
  do n = sendto(s->fd, data, length, MSG_DONTWAIT, (struct sockaddr *)&ss, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) return rn_throw_errno(env, errno, "sendto", address);
  return NULL;
}

static napi_value udp_port(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  if (!rn_args(env, info, 1, argv)) return NULL;
  udp_socket *s = get_socket(env, argv[0], "getsockname");
  if (s == NULL) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0) return rn_throw_errno(env, errno, "getsockname", NULL);
  int port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                     : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  RN_CALL(env, napi_create_int32(env, port, &result));
  return result;
}

static napi_value udp_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!rn_args(env, info, 1, argv)) return NULL;
  udp_socket *s = rn_get_external(env, argv[0], NOT_A_HANDLE);
  if (s == NULL || s->js.closed) return NULL;
  release(s, true); /* the cleanup hook stays until libuv has closed the poll handle */
  return NULL;
}

const napi_property_descriptor rn_udp_exports[] = {
  {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
  {"udpSend", NULL, udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
  {"udpPort", NULL, udp_port, NULL, NULL, NULL, napi_enumerable, NULL},
  {"udpClose", NULL, udp_close, NULL, NULL, NULL, napi_enumerable, NULL},
};
const size_t rn_udp_exports_count = sizeof rn_udp_exports / sizeof rn_udp_exports[0];
