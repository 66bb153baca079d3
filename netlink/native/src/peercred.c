/*
 * getPeerCredentials(fd) -> {pid, uid, gid}: who is at the other end of a connected AF_UNIX
 * socket, as the kernel recorded it at connect(2) (SO_PEERCRED, unix(7)). The control socket
 * uses it to keep changing commands (reload) for root while its group may read. Node has no API
 * for it. Not here: SCM_CREDENTIALS messages.
 */
#include "peercred.h"

#include <errno.h>
#include <sys/socket.h>

#include "common.h"

static napi_value get_peer_credentials(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, pid, uid, gid;
  int fd;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (!rn_args(env, info, 1, argv) || !rn_get_fd(env, argv[0], "getsockopt", &fd)) return NULL;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return rn_throw_errno(env, errno, "getsockopt", "SO_PEERCRED");
  RN_CALL(env, napi_create_object(env, &result));
  RN_CALL(env, napi_create_int32(env, (int32_t)cred.pid, &pid));
  RN_CALL(env, napi_create_uint32(env, (uint32_t)cred.uid, &uid));
  RN_CALL(env, napi_create_uint32(env, (uint32_t)cred.gid, &gid));
  RN_CALL(env, napi_set_named_property(env, result, "pid", pid));
  RN_CALL(env, napi_set_named_property(env, result, "uid", uid));
  RN_CALL(env, napi_set_named_property(env, result, "gid", gid));
  return result;
}

const napi_property_descriptor rn_peercred_exports[] = {
  {"getPeerCredentials", NULL, get_peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL},
};
const size_t rn_peercred_exports_count = sizeof rn_peercred_exports / sizeof rn_peercred_exports[0];
