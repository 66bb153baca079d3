/*
 * Test-only helpers: a non-blocking unix datagram receiver, because Node's dgram has no AF_UNIX.
 * Tests use it to stand in for systemd's notify socket. Not used by the agent itself.
 */
#include "testing.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "unix.h"

/* testBindUnixDgram(address) -> fd: "/path" or "@abstract"; the caller closes it (fs.closeSync). */
static napi_value bind_unix_dgram(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  struct sockaddr_un sun;
  socklen_t len;
  int fd;
  if (!rn_args(env, info, 1, argv) ||
      !rn_get_string(env, argv[0], "address", "bind", address, sizeof address, NULL) ||
      !rn_unix_address(env, "bind", address, &sun, &len) ||
      !rn_open_socket(env, AF_UNIX, SOCK_DGRAM, 0, NULL, &fd))
    return NULL;
  if (!rn_bind(env, fd, (struct sockaddr *)&sun, len, NULL)) {
    close(fd);
    return NULL;
  }
  return rn_fd_value(env, fd);
}

/* testRecvUnixDgram(fd) -> Buffer, or null when no datagram is waiting. */
static napi_value recv_unix_dgram(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int fd;
  char buf[4096];
  if (!rn_args(env, info, 1, argv) || !rn_get_fd(env, argv[0], "recv", &fd)) return NULL;
  ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RN_CALL(env, napi_get_null(env, &result));
      return result;
    }
    return rn_throw_errno(env, errno, "recv", NULL);
  }
  RN_CALL(env, napi_create_buffer_copy(env, (size_t)n, buf, NULL, &result));
  return result;
}

const napi_property_descriptor rn_testing_exports[] = {
  {"testBindUnixDgram", NULL, bind_unix_dgram, NULL, NULL, NULL, napi_enumerable, NULL},
  {"testRecvUnixDgram", NULL, recv_unix_dgram, NULL, NULL, NULL, napi_enumerable, NULL},
};
const size_t rn_testing_exports_count = sizeof rn_testing_exports / sizeof rn_testing_exports[0];
