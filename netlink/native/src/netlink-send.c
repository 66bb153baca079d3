/*
 * Sending on rack-agent's netlink sockets: nlSend (sendto on the calling thread) and nlSendAsync
 * (the same on a libuv worker thread). The kernel processes a datagram's messages inside sendto,
 * so the asynchronous form lets the event loop prepare the next datagram meanwhile. One datagram
 * may carry several messages.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "netlink.h"

/* nlSend(handle, buf) -> bytes sent. One call, one datagram to the kernel (pid 0). */
napi_value nl_send(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  if (!rn_args(env, info, 2, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "sendto");
  if (s == NULL) return NULL;
  bool is_buffer = false;
  void *data = NULL;
  size_t len = 0;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer)
    return rn_throw_type(env, "buf must be a Buffer");
  RN_CALL(env, napi_get_buffer_info(env, argv[1], &data, &len));
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do {
    n = sendto(s->fd, data, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return rn_throw_errno(env, errno, "sendto", NULL);
  RN_CALL(env, napi_create_int64(env, n, &result));
  return result;
}

/*
 * nlSendAsync(handle, buf, callback(err, bytes)): the same sendto on a libuv worker thread, so the
 * kernel's processing of one datagram (it runs inside sendto) overlaps the JS that prepares the
 * next. One at a time per socket (EBUSY otherwise): datagrams must reach the kernel in order.
 */
typedef struct {
  uv_work_t req;
  nl_socket *s;
  napi_ref buf;
  napi_ref callback;
  const void *data;
  size_t len;
  int fd;
  ssize_t sent;
  int err;
} send_job;

static void send_work(uv_work_t *req) {
  send_job *job = req->data;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  do {
    job->sent = sendto(job->fd, job->data, job->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (job->sent < 0 && errno == EINTR);
  job->err = job->sent < 0 ? errno : 0;
}

static void send_done(uv_work_t *req, int status) {
  send_job *job = req->data;
  nl_socket *s = job->s;
  napi_env env = s->env;
  s->sending = false;
  if (s->close_fd_after_send) {
    close(job->fd);
    s->fd = -1;
    s->close_fd_after_send = false;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value fn, recv, argv[2], result;
    int err = status == UV_ECANCELED ? ECANCELED : job->err;
    if (napi_get_reference_value(env, job->callback, &fn) == napi_ok && fn != NULL &&
        napi_get_global(env, &recv) == napi_ok) {
      if (err != 0) {
        argv[0] = rn_errno_error(env, err, "sendto", NULL);
        napi_get_undefined(env, &argv[1]);
      } else {
        napi_get_null(env, &argv[0]);
        napi_create_int64(env, job->sent, &argv[1]);
      }
      if (argv[0] != NULL) {
        napi_status st = napi_make_callback(env, s->async, recv, fn, 2, argv, &result);
        if (st == napi_pending_exception) {
          napi_value exception;
          if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
        }
      }
    }
    napi_close_handle_scope(env, scope);
  }
  napi_delete_reference(env, job->buf);
  napi_delete_reference(env, job->callback);
  free(job);
  rn_nl_drop(s);
}

napi_value nl_send_async(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!rn_args(env, info, 3, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "sendto");
  if (s == NULL || !rn_get_function(env, argv[2], "callback")) return NULL;
  bool is_buffer = false;
  void *data = NULL;
  size_t len = 0;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer)
    return rn_throw_type(env, "buf must be a Buffer");
  RN_CALL(env, napi_get_buffer_info(env, argv[1], &data, &len));
  if (s->sending) return rn_throw_errno(env, EBUSY, "sendto", "a send is already in progress on this socket");
  uv_loop_t *loop = NULL;
  RN_CALL(env, napi_get_uv_event_loop(env, &loop));
  send_job *job = calloc(1, sizeof *job);
  if (job == NULL) return rn_throw_errno(env, ENOMEM, "sendto", NULL);
  job->req.data = job;
  job->s = s;
  job->data = data;
  job->len = len;
  job->fd = s->fd;
  if (napi_create_reference(env, argv[1], 1, &job->buf) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &job->callback) != napi_ok) {
    if (job->buf != NULL) napi_delete_reference(env, job->buf);
    free(job);
    rn_throw_napi_failure(env, "nlSendAsync");
    return NULL;
  }
  int rc = uv_queue_work(loop, &job->req, send_work, send_done);
  if (rc != 0) {
    napi_delete_reference(env, job->buf);
    napi_delete_reference(env, job->callback);
    free(job);
    return rn_throw_errno(env, -rc, "uv_queue_work", NULL);
  }
  s->sending = true;
  s->refs++;
  return NULL;
}

