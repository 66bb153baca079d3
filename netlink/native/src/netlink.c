/*
 * AF_NETLINK NETLINK_ROUTE sockets for rack-agent's FIB (rtnetlink, RFC 3549 for the model).
 * Opens and binds a non-blocking, close-on-exec socket with the buffer sizes and options the
 * caller asks for, joins multicast groups, can filter out the notifications its own requests cause
 * (nlIgnorePort), and reads with a uv_poll_t: every datagram waiting is read in the poll callback and
 * handed to JS, many datagrams concatenated into one Buffer (each datagram holds whole, 4-byte
 * aligned netlink messages, so concatenation keeps message boundaries).
 *
 * Errors never leave a libuv callback as a C or C++ exception: a receive error (ENOBUFS when the
 * kernel had to drop messages because the receive buffer was full, or a poll error) is handed to
 * the JS onError callback as an Error with `code` (errno name) and `errno`, and reading goes on.
 * Errors of calls made from JS are thrown as typed JS errors (common.c).
 *
 * Lifetime (what may still run after nlClose): the nl_socket is reference counted (netlink.h): the
 * open socket until libuv has closed its poll handle, the JS external until it is finalized, and
 * each send worker (netlink-send.c). nlClose stops polling at once and no receive callback runs
 * afterwards; queued sends are cancelled, the one in progress completes. The JS references and the receive async context are
 * deleted by nlClose, or when the receive callback that called it returns (js-callbacks.c). At
 * environment teardown an async cleanup hook closes what JS left open and holds the teardown until
 * libuv has run our close callback.
 *
 * Not here: the socket options and nlIgnorePort's filter (netlink-options.c), sending
 * (netlink-send.c), the rtnetlink encoding (TypeScript, netlink/rtnetlink/), request/ack matching.
 */
#include "netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"
#include "js-callbacks.h"
#include "netlink-options.h"

#define NOT_A_HANDLE "handle must be a netlink socket handle from nlOpen"

void rn_nl_drop(nl_socket *s) {
  if (--s->refs == 0) {
    uv_mutex_destroy(&s->lock);
    free(s);
  }
}

nl_socket *rn_nl_socket(napi_env env, napi_value value, const char *syscall) {
  nl_socket *s = rn_get_external(env, value, NOT_A_HANDLE);
  if (s == NULL) return NULL;
  if (s->js.closed) {
    rn_throw_errno(env, EBADF, syscall, "netlink socket is closed");
    return NULL;
  }
  return s;
}

static void deliver_data(nl_socket *s, size_t used) {
  napi_handle_scope scope;
  if (s->js.closed) return; /* s->chunk is gone */
  if (napi_open_handle_scope(s->js.env, &scope) != napi_ok) return;
  napi_value buf;
  if (napi_create_buffer_copy(s->js.env, used, s->chunk, NULL, &buf) == napi_ok)
    rn_js_call(&s->js, s->js.on_data, 1, &buf);
  napi_close_handle_scope(s->js.env, scope);
}

/*
 * Reads datagrams until none is waiting or the budget is spent. Returns the bytes in s->chunk not
 * yet delivered; delivers full chunks on the way. Errors are delivered, never thrown.
 */
static void read_available(nl_socket *s) {
  size_t used = 0, total = 0;
  while (!s->js.closed && total < NL_READ_BUDGET) {
    if (NL_CHUNK - used < NL_DATAGRAM_MAX) {
      deliver_data(s, used);
      used = 0;
      continue;
    }
    struct sockaddr_nl from;
    struct iovec iov = {s->chunk + used, NL_CHUNK - used};
    struct msghdr msg = {&from, sizeof from, &iov, 1, NULL, 0, 0};
    ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      /* Deliver what came before the error first: order matters to the caller. */
      if (used > 0) deliver_data(s, used);
      used = 0;
      rn_js_error(&s->js, err, "recvmsg",
                  err == ENOBUFS ? "netlink receive buffer overflowed: messages were lost" : NULL);
      if (err != ENOBUFS) break; /* ENOBUFS is reported once per overflow; reading goes on */
      continue;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      if (used > 0) deliver_data(s, used);
      used = 0;
      rn_js_error(&s->js, EMSGSIZE, "recvmsg", "netlink datagram larger than the read buffer: dropped");
      continue;
    }
    if (from.nl_pid != 0) continue; /* only the kernel talks to us */
    used += (size_t)n;
    total += (size_t)n;
  }
  if (used > 0 && !s->js.closed) deliver_data(s, used);
}

/*
 * libuv reports EPOLLERR as status UV_EBADF and stops the handle. On a netlink socket EPOLLERR
 * means a pending socket error: ENOBUFS after the kernel dropped messages (sk_err). So: fetch and
 * clear that error (SO_ERROR), hand it to JS, start polling again and read on. Only a socket that
 * is really unusable ends the polling, after telling JS.
 */
static void on_poll(uv_poll_t *handle, int status, int events) {
  nl_socket *s = handle->data;
  if (s == NULL || s->js.closed) return;
  if (status < 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (status != UV_EBADF) {
      rn_js_error(&s->js, -status, "poll", NULL);
    } else if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      rn_js_error(&s->js, errno, "getsockopt", "SO_ERROR after a poll error: netlink socket unusable");
      return;
    } else if (err != 0) {
      rn_js_error(&s->js, err, "recvmsg",
                  err == ENOBUFS ? "netlink receive buffer overflowed: messages were lost" : NULL);
    }
    if (s->js.closed) return;
    int rc = uv_poll_start(&s->poll, UV_READABLE, on_poll);
    if (rc != 0) {
      rn_js_error(&s->js, -rc, "uv_poll_start", "netlink socket can no longer be polled");
      return;
    }
    read_available(s);
    return;
  }
  if (events & UV_READABLE) read_available(s);
}

/* libuv has let go of the handle: no more of this addon's code runs for the socket's poll. */
static void on_poll_closed(uv_handle_t *handle) {
  nl_socket *s = handle->data;
  napi_async_cleanup_hook_handle cleanup = rn_js_teardown_take(&s->js);
  rn_nl_drop(s);
  rn_js_teardown_release(cleanup); /* teardown may go on now */
}

static void finalize_external(napi_env env, void *data, void *hint) { rn_nl_drop(data); }

/*
 * Stops polling and closes the fd (after the send worker, if any, cancelling its queue: netlink-send.c). from_js:
 * also deletes the JS references and the receive async context, deferred while a receive
 * callback runs. From the cleanup hook the environment frees those itself.
 */
static void release(nl_socket *s, bool from_js) {
  if (s->js.closed) return;
  s->js.closed = true;
  if (s->polling) uv_poll_stop(&s->poll);
  if (s->workers > 0) {
    uv_mutex_lock(&s->lock);
    s->cancel = true; /* what the worker has not started is not sent */
    uv_mutex_unlock(&s->lock);
    s->close_fd_after_send = true; /* a worker thread still uses the fd: the last closes it */
  } else {
    close(s->fd);
    s->fd = -1;
  }
  free(s->chunk);
  s->chunk = NULL;
  if (from_js) rn_js_release(&s->js);
  if (s->polling) {
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  } else {
    napi_async_cleanup_hook_handle cleanup = rn_js_teardown_take(&s->js);
    rn_nl_drop(s);
    rn_js_teardown_release(cleanup);
  }
}

/* Environment teardown (a worker thread ending, or the main one): close what JS left open. */
static void cleanup_hook(napi_async_cleanup_hook_handle handle, void *arg) { release(arg, false); }

/*
 * nlOpen(groups: number[], rcvbuf: number, sndbuf: number, onData, onError) -> handle.
 * rcvbuf/sndbuf 0 keep the kernel default. The handle is an opaque external; nlClose releases it.
 */
static napi_value nl_open(napi_env env, napi_callback_info info) {
  napi_value argv[5], handle;
  int32_t rcvbuf, sndbuf;
  if (!rn_args(env, info, 5, argv) || !rn_get_int(env, argv[1], "rcvbuf", 0, INT32_MAX, &rcvbuf) ||
      !rn_get_int(env, argv[2], "sndbuf", 0, INT32_MAX, &sndbuf) ||
      !rn_get_function(env, argv[3], "onData") || !rn_get_function(env, argv[4], "onError"))
    return NULL;

  int fd;
  if (!rn_open_socket(env, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "AF_NETLINK NETLINK_ROUTE", &fd))
    return NULL;
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  socklen_t len = sizeof local;
  if (!rn_bind(env, fd, (struct sockaddr *)&local, sizeof local, "AF_NETLINK")) {
    close(fd);
    return NULL;
  }
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0)
    return rn_close_throw(env, fd, errno, "bind", "AF_NETLINK");
  if (!rn_nl_configure(env, fd, rcvbuf, sndbuf, argv[0])) {
    close(fd);
    return NULL;
  }

  nl_socket *s = calloc(1, sizeof *s);
  unsigned char *chunk = malloc(NL_CHUNK);
  if (s == NULL || chunk == NULL || uv_mutex_init(&s->lock) != 0) {
    free(s);
    free(chunk);
    return rn_close_throw(env, fd, ENOMEM, "nlOpen", NULL);
  }
  s->fd = fd;
  s->refs = 1;
  s->port_id = local.nl_pid;
  s->chunk = chunk;

  if (!rn_js_init(&s->js, env, "rack-agent:netlink")) {
    release(s, true);
    rn_throw_napi_failure(env, "nlOpen");
    return NULL;
  }
  if (!rn_js_poll(&s->js, &s->poll, fd, on_poll, s, &s->polling) ||
      (handle = rn_js_wrap(&s->js, s, finalize_external, &s->refs, argv[3], argv[4], cleanup_hook,
                           "nlOpen")) == NULL) {
    release(s, true);
    return NULL;
  }
  return handle;
}

/* nlDrain(handle): reads now, synchronously, what is waiting (onData/onError run before return). */
static napi_value nl_drain(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!rn_args(env, info, 1, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "recvmsg");
  if (s != NULL) read_available(s);
  return NULL;
}

/* nlPortId(handle) -> the socket's netlink port id (nl_pid), as the kernel assigned it. */
static napi_value nl_port_id(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  if (!rn_args(env, info, 1, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "getsockname");
  if (s == NULL) return NULL;
  RN_CALL(env, napi_create_uint32(env, s->port_id, &result));
  return result;
}

/* nlIgnorePort(handle, portId): drops the echoes of portId's requests (netlink-options.c). */
static napi_value nl_ignore_port(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  double port;
  if (!rn_args(env, info, 2, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "setsockopt");
  if (s == NULL) return NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_number)
    return rn_throw_type(env, "portId must be a number");
  napi_get_value_double(env, argv[1], &port);
  if (!(port >= 0 && port <= UINT32_MAX)) return rn_throw_type(env, "portId must be a 32-bit unsigned integer");
  rn_nl_ignore_port(env, s->fd, (uint32_t)port);
  return NULL;
}

/*
 * nlClose(handle): idempotent. Stops polling and closes the fd; no receive callback runs
 * afterwards. Queued sends are cancelled (ECANCELED), the one in progress completes; every send
 * callback runs once, then the fd is closed.
 */
static napi_value nl_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!rn_args(env, info, 1, argv)) return NULL;
  nl_socket *s = rn_get_external(env, argv[0], NOT_A_HANDLE);
  if (s != NULL) release(s, true); /* the cleanup hook stays until libuv has closed the poll handle */
  return NULL;
}

const napi_property_descriptor rn_netlink_exports[] = {
  {"nlOpen", NULL, nl_open, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlSend", NULL, nl_send, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlSendAsync", NULL, nl_send_async, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlDrain", NULL, nl_drain, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlSendStats", NULL, nl_send_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlIgnorePort", NULL, nl_ignore_port, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlPortId", NULL, nl_port_id, NULL, NULL, NULL, napi_enumerable, NULL},
  {"nlClose", NULL, nl_close, NULL, NULL, NULL, napi_enumerable, NULL},
};
const size_t rn_netlink_exports_count = sizeof rn_netlink_exports / sizeof rn_netlink_exports[0];
