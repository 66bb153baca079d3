/* IPv4 / IPv6 address text for the IP sockets; see ip-address.h. */
#include "ip-address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

bool rn_socket_family(napi_env env, int fd, const char *syscall, int *family) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    rn_throw_errno(env, errno, "getsockname", NULL);
    return false;
  }
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
    rn_throw_errno(env, EAFNOSUPPORT, syscall, "not an AF_INET or AF_INET6 socket");
    return false;
  }
  *family = ss.ss_family;
  return true;
}

static bool parse_scope(const char *scope, uint32_t *index) {
  char *end = NULL;
  unsigned long n = strtoul(scope, &end, 10);
  if (*scope != '\0' && *end == '\0' && n <= UINT32_MAX) {
    *index = (uint32_t)n;
    return true;
  }
  *index = if_nametoindex(scope);
  return *index != 0;
}

bool rn_parse_sockaddr(napi_env env, const char *syscall, int family, const char *text,
                       uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
  char copy[RN_ADDRESS_TEXT_MAX];
  char detail[200];
  memset(ss, 0, sizeof *ss);
  snprintf(copy, sizeof copy, "%s", text);

  struct in_addr v4;
  struct in6_addr v6;
  uint32_t scope = 0;
  bool is_v4 = inet_pton(AF_INET, copy, &v4) == 1;
  if (!is_v4) {
    char *percent = strchr(copy, '%');
    if (percent != NULL) {
      *percent = '\0';
      if (!parse_scope(percent + 1, &scope)) {
        snprintf(detail, sizeof detail, "unknown scope (interface) in address '%s'", text);
        rn_throw_errno(env, EINVAL, syscall, detail);
        return false;
      }
    }
    if (inet_pton(AF_INET6, copy, &v6) != 1) {
      snprintf(detail, sizeof detail, "'%s' is not an IPv4 or IPv6 address", text);
      rn_throw_errno(env, EINVAL, syscall, detail);
      return false;
    }
    if (family == AF_INET && IN6_IS_ADDR_V4MAPPED(&v6)) {
      memcpy(&v4, &v6.s6_addr[12], 4);
      is_v4 = true;
    }
  }

  if (family == AF_INET) {
    if (!is_v4) {
      snprintf(detail, sizeof detail, "IPv6 address '%s' on an IPv4 (AF_INET) socket", text);
      rn_throw_errno(env, EAFNOSUPPORT, syscall, detail);
      return false;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    *len = sizeof *sin;
    return true;
  }

  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  if (is_v4) {
    /* A dual-stack socket names an IPv4 peer ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2). */
    sin6->sin6_addr.s6_addr[10] = 0xff;
    sin6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
  } else {
    sin6->sin6_addr = v6;
    sin6->sin6_scope_id = scope;
  }
  *len = sizeof *sin6;
  return true;
}

bool rn_bind_ip(napi_env env, int fd, int family, const char *address, uint16_t port) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (!rn_parse_sockaddr(env, "bind", family, address, port, &ss, &len)) return false;
  if (bind(fd, (struct sockaddr *)&ss, len) == 0) return true;
  int err = errno;
  char detail[200];
  snprintf(detail, sizeof detail, "%s port %d: %s", address, (int)port, strerror(err));
  rn_throw_errno(env, err, "bind", detail);
  return false;
}
