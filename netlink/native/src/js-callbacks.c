/* Polling and calls into JS from libuv for the polled sockets (netlink.c, udp.c). */
#include "js-callbacks.h"

#include <errno.h>
#include <stdio.h>

#include "common.h"

napi_value rn_errno_error(napi_env env, int err, const char *syscall, const char *detail) {
  napi_value error = NULL;
  rn_throw_errno(env, err, syscall, detail);
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok) return NULL;
  return error;
}

bool rn_get_function(napi_env env, napi_value value, const char *name) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) == napi_ok && type == napi_function) return true;
  char text[96];
  snprintf(text, sizeof text, "%s must be a function", name);
  rn_throw_type(env, text);
  return false;
}

void *rn_get_external(napi_env env, napi_value value, const char *message) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    rn_throw_type(env, message);
    return NULL;
  }
  return data;
}

bool rn_js_init(rn_js *js, napi_env env, const char *name) {
  napi_value resource_name;
  js->env = env;
  return napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) == napi_ok &&
         napi_async_init(env, NULL, resource_name, &js->async) == napi_ok;
}

bool rn_js_hold(rn_js *js, napi_value handle, napi_value on_data, napi_value on_error) {
  napi_env env = js->env;
  return (on_data == NULL || napi_create_reference(env, on_data, 1, &js->on_data) == napi_ok) &&
         napi_create_reference(env, on_error, 1, &js->on_error) == napi_ok &&
         napi_create_reference(env, handle, 1, &js->self) == napi_ok;
}

bool rn_js_poll(rn_js *js, uv_poll_t *poll, int fd, uv_poll_cb on_poll, void *data, bool *polling) {
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(js->env, &loop) != napi_ok || uv_poll_init(loop, poll, fd) != 0) {
    rn_throw_errno(js->env, EINVAL, "uv_poll_init", NULL);
    return false;
  }
  poll->data = data;
  *polling = true;
  int rc = uv_poll_start(poll, UV_READABLE, on_poll);
  if (rc != 0) {
    rn_throw_errno(js->env, -rc, "uv_poll_start", NULL);
    return false;
  }
  return true;
}

napi_value rn_js_wrap(rn_js *js, void *data, napi_finalize finalize, int *refs, napi_value on_data,
                      napi_value on_error, napi_async_cleanup_hook hook, const char *what) {
  napi_value handle;
  char text[96];
  if (napi_create_external(js->env, data, finalize, NULL, &handle) != napi_ok) {
    rn_throw_napi_failure(js->env, what);
    return NULL;
  }
  ++*refs;
  if (!rn_js_hold(js, handle, on_data, on_error)) {
    rn_throw_napi_failure(js->env, what); /* the release deletes the references that exist */
    return NULL;
  }
  if (!rn_js_watch_teardown(js, hook, data)) {
    snprintf(text, sizeof text, "%s: napi_add_async_cleanup_hook", what);
    rn_throw_napi_failure(js->env, text);
    return NULL;
  }
  return handle;
}

/* The parts only the JS thread may delete, while the environment is alive; NULL ones are skipped. */
static void release_now(rn_js *js) {
  napi_env env = js->env;
  if (js->on_data != NULL) napi_delete_reference(env, js->on_data);
  if (js->on_error != NULL) napi_delete_reference(env, js->on_error);
  if (js->self != NULL) napi_delete_reference(env, js->self);
  if (js->async != NULL) napi_async_destroy(env, js->async);
  js->on_data = js->on_error = js->self = NULL;
  js->async = NULL;
}

void rn_js_release(rn_js *js) {
  if (js->dispatching > 0)
    js->release_pending = true;
  else
    release_now(js);
}

void rn_js_call(rn_js *js, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = js->env;
  napi_value fn, recv, result;
  if (js->closed || ref == NULL || napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  if (napi_get_global(env, &recv) != napi_ok) return; /* napi_make_callback needs an object */
  js->dispatching++;
  napi_status status = napi_make_callback(env, js->async, recv, fn, argc, argv, &result);
  js->dispatching--;
  if (status == napi_pending_exception) {
    napi_value exception;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok)
      napi_fatal_exception(env, exception);
  }
  if (js->dispatching == 0 && js->release_pending) {
    js->release_pending = false;
    release_now(js);
  }
}

void rn_js_error(rn_js *js, int err, const char *syscall, const char *detail) {
  napi_handle_scope scope;
  if (js->closed) return; /* closed by the previous callback: nothing more for JS */
  if (napi_open_handle_scope(js->env, &scope) != napi_ok) return;
  napi_value error = rn_errno_error(js->env, err, syscall, detail);
  if (error != NULL) rn_js_call(js, js->on_error, 1, &error);
  napi_close_handle_scope(js->env, scope);
}

bool rn_js_watch_teardown(rn_js *js, napi_async_cleanup_hook hook, void *arg) {
  return napi_add_async_cleanup_hook(js->env, hook, arg, &js->cleanup) == napi_ok;
}

napi_async_cleanup_hook_handle rn_js_teardown_take(rn_js *js) {
  napi_async_cleanup_hook_handle handle = js->cleanup;
  js->cleanup = NULL;
  return handle;
}

void rn_js_teardown_release(napi_async_cleanup_hook_handle handle) {
  if (handle != NULL) napi_remove_async_cleanup_hook(handle);
}
