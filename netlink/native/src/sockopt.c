/*
 * TCP socket options for BGP transport: RFC 2385 TCP MD5 signatures (TCP_MD5SIG), TTL / hop limit,
 * and RFC 5082 GTSM (IP_MINTTL / IPV6_MINHOPCOUNT), plus creating and binding a TCP socket so all
 * of them can be set before the SYN leaves. Every function takes a numeric fd and picks the IPv4
 * or IPv6 option from the socket's own family (getsockname). It does not connect or listen: Node's
 * net module does that on the same fd.
 */
#include "sockopt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "ip-address.h"

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

/* setMd5Key(fd, peerAddress, key | null): RFC 2385 section 2; an empty or null key deletes it. */
static napi_value set_md5_key(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd, family;
  char address[RN_ADDRESS_TEXT_MAX];
  if (!rn_args(env, info, 3, argv) || !rn_get_fd(env, argv[0], "setsockopt", &fd) ||
      !rn_get_string(env, argv[1], "peerAddress", "setsockopt", address, sizeof address, NULL) ||
      !rn_socket_family(env, fd, "setsockopt", &family))
    return NULL;

  struct tcp_md5sig md5;
  memset(&md5, 0, sizeof md5);
  socklen_t addr_len;
  if (!rn_parse_sockaddr(env, "setsockopt", family, address, 0, &md5.tcpm_addr, &addr_len))
    return NULL;

  size_t key_len = 0;
  bool is_buffer = false;
  if (!rn_is_nullish(env, argv[2])) {
    napi_valuetype type;
    RN_CALL(env, napi_typeof(env, argv[2], &type));
    RN_CALL(env, napi_is_buffer(env, argv[2], &is_buffer));
    if (is_buffer) {
      void *data = NULL;
      RN_CALL(env, napi_get_buffer_info(env, argv[2], &data, &key_len));
      if (key_len <= TCP_MD5SIG_MAXKEYLEN) memcpy(md5.tcpm_key, data, key_len);
    } else if (type == napi_string) {
      RN_CALL(env, napi_get_value_string_utf8(env, argv[2], NULL, 0, &key_len));
      if (key_len <= TCP_MD5SIG_MAXKEYLEN) {
        char text[TCP_MD5SIG_MAXKEYLEN + 1];
        RN_CALL(env, napi_get_value_string_utf8(env, argv[2], text, sizeof text, &key_len));
        memcpy(md5.tcpm_key, text, key_len);
      }
    } else {
      return rn_throw_type(env, "key must be a Buffer, a string, or null to remove the key");
    }
  }
  if (key_len > TCP_MD5SIG_MAXKEYLEN) {
    char detail[128];
    snprintf(detail, sizeof detail, "TCP MD5 key is %zu bytes, at most %d allowed", key_len,
             TCP_MD5SIG_MAXKEYLEN);
    return rn_throw_errno(env, EINVAL, "setsockopt", detail);
  }
  md5.tcpm_keylen = (uint16_t)key_len;

  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof md5) != 0) {
    int err = errno;
    char detail[200];
    if (err == ENOENT && key_len == 0)
      snprintf(detail, sizeof detail, "TCP_MD5SIG: no key installed for %s", address);
    else
      snprintf(detail, sizeof detail, "TCP_MD5SIG for %s: %s", address, strerror(err));
    return rn_throw_errno(env, err, "setsockopt", detail);
  }
  return NULL;
}

/* setTtl(fd, ttl): on AF_INET6 also IP_TTL, which a dual-stack socket uses for IPv4 peers. */
static napi_value set_ttl(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, family;
  int32_t ttl;
  if (!rn_args(env, info, 2, argv) || !rn_get_fd(env, argv[0], "setsockopt", &fd) ||
      !rn_get_int(env, argv[1], "ttl", 1, 255, &ttl) ||
      !rn_socket_family(env, fd, "setsockopt", &family))
    return NULL;
  if (family == AF_INET6 &&
      !rn_set_int_option(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS"))
    return NULL;
  rn_set_int_option(env, fd, IPPROTO_IP, IP_TTL, ttl, "IP_TTL");
  return NULL;
}

/* getTtl(fd) -> number: IP_TTL, or IPV6_UNICAST_HOPS on AF_INET6. */
static napi_value get_ttl(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int fd, family;
  if (!rn_args(env, info, 1, argv) || !rn_get_fd(env, argv[0], "getsockopt", &fd) ||
      !rn_socket_family(env, fd, "getsockopt", &family))
    return NULL;
  int value = 0;
  socklen_t len = sizeof value;
  int rc = family == AF_INET6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &value, &len)
                              : getsockopt(fd, IPPROTO_IP, IP_TTL, &value, &len);
  if (rc != 0) return rn_throw_errno(env, errno, "getsockopt", NULL);
  RN_CALL(env, napi_create_int32(env, value, &result));
  return result;
}

/*
 * setMinTtl(fd, ttl): RFC 5082 section 3, drop segments that arrive with a lower TTL (0 disables).
 * On AF_INET6 both options: IPv4 segments reaching a dual-stack listener are checked by IP_MINTTL.
 */
static napi_value set_min_ttl(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, family;
  int32_t ttl;
  if (!rn_args(env, info, 2, argv) || !rn_get_fd(env, argv[0], "setsockopt", &fd) ||
      !rn_get_int(env, argv[1], "ttl", 0, 255, &ttl) ||
      !rn_socket_family(env, fd, "setsockopt", &family))
    return NULL;
  if (family == AF_INET6 &&
      !rn_set_int_option(env, fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, ttl, "IPV6_MINHOPCOUNT"))
    return NULL;
  rn_set_int_option(env, fd, IPPROTO_IP, IP_MINTTL, ttl, "IP_MINTTL");
  return NULL;
}

/* createTcpSocket(4 | 6) -> fd: non-blocking, close-on-exec, not bound, not connected. */
static napi_value create_tcp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t version;
  int fd;
  if (!rn_args(env, info, 1, argv) || !rn_get_int(env, argv[0], "family", 4, 6, &version))
    return NULL;
  if (version == 5) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "family must be 4 or 6");
    return NULL;
  }
  if (!rn_open_socket(env, version == 4 ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP, NULL, &fd))
    return NULL;
  return rn_fd_value(env, fd);
}

/* bindSocket(fd, address, port): an IPv4 address on an AF_INET6 socket binds ::ffff:a.b.c.d. */
static napi_value bind_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd, family;
  int32_t port;
  char address[RN_ADDRESS_TEXT_MAX];
  if (rn_args(env, info, 3, argv) && rn_get_fd(env, argv[0], "bind", &fd) &&
      rn_get_string(env, argv[1], "address", "bind", address, sizeof address, NULL) &&
      rn_get_int(env, argv[2], "port", 0, 65535, &port) &&
      rn_socket_family(env, fd, "bind", &family))
    rn_bind_ip(env, fd, family, address, (uint16_t)port); /* JS owns the fd: not closed on failure */
  return NULL;
}

const napi_property_descriptor rn_sockopt_exports[] = {
  {"setMd5Key", NULL, set_md5_key, NULL, NULL, NULL, napi_enumerable, NULL},
  {"setTtl", NULL, set_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
  {"getTtl", NULL, get_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
  {"setMinTtl", NULL, set_min_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
  {"createTcpSocket", NULL, create_tcp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
  {"bindSocket", NULL, bind_socket, NULL, NULL, NULL, napi_enumerable, NULL},
};
const size_t rn_sockopt_exports_count = sizeof rn_sockopt_exports / sizeof rn_sockopt_exports[0];
