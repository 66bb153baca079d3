/*
 * The JS side of a socket that libuv polls (netlink.c, udp.c): the handle JS holds (an external),
 * the callbacks the poll callback calls (onData or onMessage, onError) and their async context,
 * and the end of opening such a socket (rn_js_poll, rn_js_wrap), written once for both.
 *
 * A callback may close the socket (nlClose, udpClose from inside onData): the references and the
 * context it runs on are then released when it returns (rn_js_release), never under its feet
 * (napi_make_callback on a destroyed async context was issue 11's crash).
 */
#ifndef RACK_AGENT_NATIVE_JS_CALLBACKS_H
#define RACK_AGENT_NATIVE_JS_CALLBACKS_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct rn_js {
  napi_env env;
  bool closed;       /* set when the socket closes: no callback is called afterwards */
  napi_ref self;     /* strong while open: the socket outlives its JS wrapper only by design */
  napi_ref on_data;  /* netlink (buf) => void, UDP (buf, address, port, ttl) => void; NULL: none */
  napi_ref on_error; /* (err: Error) => void */
  napi_async_context async; /* the receive callbacks' */
  int dispatching;   /* callbacks running now; a release inside one waits for it to return */
  bool release_pending;
  /* Registered while the socket may still run this addon's code (libuv holds its poll handle):
   * environment teardown (a worker thread ending) waits until rn_js_teardown_done; a worker's
   * addons are unloaded after teardown. */
  napi_async_cleanup_hook_handle cleanup;
} rn_js;

/* An Error {code, errno, syscall} as rn_throw_errno builds, but returned instead of thrown. */
napi_value rn_errno_error(napi_env env, int err, const char *syscall, const char *detail);
/* Throws a TypeError naming the argument unless value is a function. */
bool rn_get_function(napi_env env, napi_value value, const char *name);
/* The data of an external made by this addon; throws TypeError(message) for anything else. */
void *rn_get_external(napi_env env, napi_value value, const char *message);

/* Creates the async context of resource `name`; false (nothing thrown) if N-API fails. */
bool rn_js_init(rn_js *js, napi_env env, const char *name);
/* Strong references to the handle and the callbacks (on_data may be NULL); false if N-API fails. */
bool rn_js_hold(rn_js *js, napi_value handle, napi_value on_data, napi_value on_error);
/*
 * The end of opening a polled socket (nlOpen, udpOpen), after rn_js_init; on failure each throws
 * and the caller releases the socket. rn_js_poll polls fd on the env's loop (poll->data = data);
 * *polling turns true once libuv holds the handle, which the release must then uv_close.
 * rn_js_wrap makes the handle JS holds: an external of data (finalize when JS drops it, counted
 * in *refs), strong references to it and the callbacks, hook(data) at environment teardown; N-API
 * failures name `what`.
 */
bool rn_js_poll(rn_js *js, uv_poll_t *poll, int fd, uv_poll_cb on_poll, void *data, bool *polling);
napi_value rn_js_wrap(rn_js *js, void *data, napi_finalize finalize, int *refs, napi_value on_data,
                      napi_value on_error, napi_async_cleanup_hook hook, const char *what);
/* Calls a callback from libuv (nothing once closed); a throw is reported as an uncaught exception. */
void rn_js_call(rn_js *js, napi_ref ref, size_t argc, napi_value *argv);
/* Hands an errno error to onError (nothing once closed). */
void rn_js_error(rn_js *js, int err, const char *syscall, const char *detail);
/* Deletes the references and the context, now or when the running callbacks return. */
void rn_js_release(rn_js *js);
/* Registers hook(arg) as the async cleanup hook of the socket; false (nothing thrown) if N-API fails. */
bool rn_js_watch_teardown(rn_js *js, napi_async_cleanup_hook hook, void *arg);
/*
 * Nothing of the socket will run any more (its poll handle is closed, or it never polled): a
 * teardown waiting for it may go on. Takes the handle, so call it before freeing the socket and
 * pass what it returned to rn_js_teardown_release after.
 */
napi_async_cleanup_hook_handle rn_js_teardown_take(rn_js *js);
void rn_js_teardown_release(napi_async_cleanup_hook_handle handle);

#endif
