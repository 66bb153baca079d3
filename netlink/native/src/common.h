/*
 * Shared helpers for rack-agent's addon: argument checks, errno -> JS errors, the socket open
 * sequence (IP address text: ip-address.h).
 * Every function that can fail throws a pending JS exception and returns false/NULL; callers just
 * return NULL to JS. Errors carry `code` (the errno name, e.g. "EINVAL"), `errno` (positive, as in
 * errno(3)) and `syscall`, like Node's own system errors.
 */
#ifndef RACK_AGENT_NATIVE_COMMON_H
#define RACK_AGENT_NATIVE_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Fail the current callback if an N-API call itself fails (never expected; keeps code honest). */
#define RN_CALL(env, call)                                  \
  do {                                                      \
    if ((call) != napi_ok) {                                \
      rn_throw_napi_failure((env), #call);                  \
      return NULL;                                          \
    }                                                       \
  } while (0)

napi_value rn_throw_errno(napi_env env, int err, const char *syscall, const char *detail);
napi_value rn_throw_type(napi_env env, const char *message);
void rn_throw_napi_failure(napi_env env, const char *what);
const char *rn_errno_name(int err);

bool rn_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
bool rn_get_fd(napi_env env, napi_value value, const char *syscall, int *fd);
bool rn_get_int(napi_env env, napi_value value, const char *name, int32_t min, int32_t max,
                int32_t *out);
bool rn_is_nullish(napi_env env, napi_value value);
/* Copies a JS string into buf (NUL-terminated); throws if not a string or not shorter than size. */
bool rn_get_string(napi_env env, napi_value value, const char *name, const char *syscall,
                   char *buf, size_t size, size_t *len);

/* A Buffer argument's bytes; throws TypeError("<name> must be a Buffer") for anything else. */
bool rn_get_buffer(napi_env env, napi_value value, const char *name, void **data, size_t *len);

/*
 * The open sequence of every socket of the addon (netlink.c, udp.c, sockopt.c, testing.c):
 * rn_open_socket, its options, rn_bind (or rn_bind_ip, ip-address.h); on any failure close(fd) and
 * return the thrown error (rn_close_throw when it is not thrown yet). The bind helpers do not
 * close: bindSocket binds an fd that JS owns. rn_open_socket is socket(family, type |
 * SOCK_NONBLOCK | SOCK_CLOEXEC, protocol); it throws a socket error, detail `what` (NULL:
 * strerror).
 */
bool rn_open_socket(napi_env env, int family, int type, int protocol, const char *what, int *fd);
/* bind(2); throws the errno as a bind error with `detail` (NULL: strerror). */
bool rn_bind(napi_env env, int fd, const struct sockaddr *sa, socklen_t len, const char *detail);
/* close(fd), then throws err as rn_throw_errno does; returns NULL for the caller to return. */
napi_value rn_close_throw(napi_env env, int fd, int err, const char *syscall, const char *detail);
/* The fd as a JS number, for a socket JS owns from now on; closes it if that fails. */
napi_value rn_fd_value(napi_env env, int fd);

/* setsockopt(fd, level, name, &value); throws the errno as a setsockopt error naming `what`. */
bool rn_set_int_option(napi_env env, int fd, int level, int name, int value, const char *what);

#endif
