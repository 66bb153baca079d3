/*
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, for systemd Type=notify
 * ("READY=1", "STATUS=...") and the watchdog ("WATCHDOG=1"). Does not unset the variable, pass
 * credentials or file descriptors, or support vsock: addresses.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "unix.h"

bool rn_unix_address(napi_env env, const char *syscall, const char *text, struct sockaddr_un *sun,
                     socklen_t *len) {
  char detail[160];
  size_t n = strlen(text);
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  if (text[0] != '/' && text[0] != '@') {
    snprintf(detail, sizeof detail, "unix socket address must start with / or @, got '%.80s'", text);
    rn_throw_errno(env, EAFNOSUPPORT, syscall, detail);
    return false;
  }
  if (n < 2 || n >= sizeof sun->sun_path) {
    snprintf(detail, sizeof detail, "unix socket address is %zu bytes, 2 to %zu allowed", n,
             sizeof sun->sun_path - 1);
    rn_throw_errno(env, ENAMETOOLONG, syscall, detail);
    return false;
  }
  memcpy(sun->sun_path, text, n);
  if (text[0] == '@') {
    sun->sun_path[0] = '\0'; /* abstract namespace: the length, not a NUL, ends the name */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return true;
}

/* sdNotify(state) -> false if NOTIFY_SOCKET is unset or empty, true once the datagram is sent. */
static napi_value sd_notify(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char state[4096];
  size_t state_len;
  if (!rn_args(env, info, 1, argv) ||
      !rn_get_string(env, argv[0], "state", "sendto", state, sizeof state, &state_len))
    return NULL;

  const char *path = getenv("NOTIFY_SOCKET");
  if (path == NULL || path[0] == '\0') {
    RN_CALL(env, napi_get_boolean(env, false, &result));
    return result;
  }
  struct sockaddr_un sun;
  socklen_t sun_len;
  if (!rn_unix_address(env, "sendto", path, &sun, &sun_len)) return NULL;

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return rn_throw_errno(env, errno, "socket", NULL);
  /* MSG_DONTWAIT: a stuck service manager must not block the event loop; EAGAIN is thrown. */
  ssize_t sent = sendto(fd, state, state_len, MSG_NOSIGNAL | MSG_DONTWAIT,
                        (struct sockaddr *)&sun, sun_len);
  int err = errno;
  close(fd);
  if (sent < 0) {
    char detail[200];
    snprintf(detail, sizeof detail, "NOTIFY_SOCKET %.100s: %s", path, strerror(err));
    return rn_throw_errno(env, err, "sendto", detail);
  }
  RN_CALL(env, napi_get_boolean(env, true, &result));
  return result;
}

const napi_property_descriptor rn_notify_exports[] = {
  {"sdNotify", NULL, sd_notify, NULL, NULL, NULL, napi_enumerable, NULL},
};
const size_t rn_notify_exports_count = sizeof rn_notify_exports / sizeof rn_notify_exports[0];
