/*
 * Argument checks, errno -> JS errors and the socket open sequence (socket, bind, close on failure,
 * the fd for JS) shared by every topic of the addon. IP address text is ip-address.c's.
 */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define RN_HAVE_STRERRORNAME_NP 1
#endif

#ifndef RN_HAVE_STRERRORNAME_NP
/* Without glibc's strerrorname_np: the errnos this addon can meet, one row each. */
static const struct { int err; const char *name; } errno_names[] = {
  {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EBADF, "EBADF"}, {EAGAIN, "EAGAIN"},
  {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EINVAL, "EINVAL"},
  {EMFILE, "EMFILE"}, {ENFILE, "ENFILE"}, {ENOTSOCK, "ENOTSOCK"}, {EPROTOTYPE, "EPROTOTYPE"},
  {ENOPROTOOPT, "ENOPROTOOPT"}, {EOPNOTSUPP, "EOPNOTSUPP"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
  {EADDRINUSE, "EADDRINUSE"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ECONNREFUSED, "ECONNREFUSED"},
  {ENAMETOOLONG, "ENAMETOOLONG"}, {EISCONN, "EISCONN"}, {ENOBUFS, "ENOBUFS"},
};
#endif

const char *rn_errno_name(int err) {
#ifdef RN_HAVE_STRERRORNAME_NP
  const char *name = strerrorname_np(err);
  return name != NULL ? name : "UNKNOWN";
#else
  for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
    if (errno_names[i].err == err) return errno_names[i].name;
  return "UNKNOWN";
#endif
}

napi_value rn_throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  const char *name = rn_errno_name(err);
  char text[320];
  if (detail != NULL)
    snprintf(text, sizeof text, "%s %s: %s", syscall, name, detail);
  else
    snprintf(text, sizeof text, "%s %s: %s", syscall, name, strerror(err));

  napi_value code, message, error, value;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) != napi_ok ||
      napi_create_error(env, code, message, &error) != napi_ok) {
    rn_throw_napi_failure(env, "creating an error");
    return NULL;
  }
  if (napi_create_int32(env, err, &value) == napi_ok)
    napi_set_named_property(env, error, "errno", value);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) == napi_ok)
    napi_set_named_property(env, error, "syscall", value);
  napi_throw(env, error);
  return NULL;
}

napi_value rn_throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

void rn_throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char text[256];
  snprintf(text, sizeof text, "N-API failure in %s: %s", what,
           info != NULL && info->error_message != NULL ? info->error_message : "unknown");
  napi_throw_error(env, "ERR_NAPI", text);
}

bool rn_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    rn_throw_napi_failure(env, "napi_get_cb_info");
    return false;
  }
  /* Missing arguments arrive as undefined; each getter then reports the argument by name. */
  for (size_t i = argc; i < want; i++)
    if (napi_get_undefined(env, &argv[i]) != napi_ok) return false;
  return true;
}

bool rn_get_fd(napi_env env, napi_value value, const char *syscall, int *fd) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    rn_throw_type(env, "fd must be a number (a file descriptor)");
    return false;
  }
  double d;
  napi_get_value_double(env, value, &d);
  if (!(d >= 0 && d <= INT32_MAX) || floor(d) != d) {
    rn_throw_errno(env, EBADF, syscall, "fd must be a non-negative integer");
    return false;
  }
  *fd = (int)d;
  return true;
}

bool rn_get_int(napi_env env, napi_value value, const char *name, int32_t min, int32_t max,
                int32_t *out) {
  napi_valuetype type;
  char text[160];
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    snprintf(text, sizeof text, "%s must be a number", name);
    rn_throw_type(env, text);
    return false;
  }
  double d;
  napi_get_value_double(env, value, &d);
  if (!(d >= min && d <= max) || floor(d) != d) {
    snprintf(text, sizeof text, "%s must be an integer from %d to %d", name, (int)min, (int)max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", text);
    return false;
  }
  *out = (int32_t)d;
  return true;
}

bool rn_is_nullish(napi_env env, napi_value value) {
  napi_valuetype type;
  return napi_typeof(env, value, &type) == napi_ok && (type == napi_undefined || type == napi_null);
}

bool rn_get_string(napi_env env, napi_value value, const char *name, const char *syscall,
                   char *buf, size_t size, size_t *len) {
  napi_valuetype type;
  char text[160];
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    snprintf(text, sizeof text, "%s must be a string", name);
    rn_throw_type(env, text);
    return false;
  }
  size_t needed = 0;
  napi_get_value_string_utf8(env, value, NULL, 0, &needed);
  if (needed >= size) {
    snprintf(text, sizeof text, "%s is %zu bytes, at most %zu allowed", name, needed, size - 1);
    rn_throw_errno(env, EINVAL, syscall, text);
    return false;
  }
  napi_get_value_string_utf8(env, value, buf, size, &needed);
  if (len != NULL) *len = needed;
  return true;
}

bool rn_get_buffer(napi_env env, napi_value value, const char *name, void **data, size_t *len) {
  bool is_buffer = false;
  char text[96];
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) {
    snprintf(text, sizeof text, "%s must be a Buffer", name);
    rn_throw_type(env, text);
    return false;
  }
  if (napi_get_buffer_info(env, value, data, len) != napi_ok) {
    rn_throw_napi_failure(env, "napi_get_buffer_info");
    return false;
  }
  return true;
}

bool rn_open_socket(napi_env env, int family, int type, int protocol, const char *what, int *fd) {
  *fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (*fd >= 0) return true;
  rn_throw_errno(env, errno, "socket", what);
  return false;
}

bool rn_bind(napi_env env, int fd, const struct sockaddr *sa, socklen_t len, const char *detail) {
  if (bind(fd, sa, len) == 0) return true;
  rn_throw_errno(env, errno, "bind", detail);
  return false;
}

napi_value rn_close_throw(napi_env env, int fd, int err, const char *syscall, const char *detail) {
  close(fd);
  return rn_throw_errno(env, err, syscall, detail);
}

napi_value rn_fd_value(napi_env env, int fd) {
  napi_value result;
  if (napi_create_int32(env, fd, &result) == napi_ok) return result;
  close(fd);
  rn_throw_napi_failure(env, "napi_create_int32");
  return NULL;
}

bool rn_set_int_option(napi_env env, int fd, int level, int name, int value, const char *what) {
  if (setsockopt(fd, level, name, &value, sizeof value) == 0) return true;
  int err = errno;
  char detail[160];
  snprintf(detail, sizeof detail, "%s: %s", what, strerror(err));
  rn_throw_errno(env, err, "setsockopt", detail);
  return false;
}
