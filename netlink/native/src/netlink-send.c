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
  void *data = NULL;
  size_t len = 0;
  if (s == NULL || !rn_get_buffer(env, argv[1], "buf", &data, &len)) return NULL;
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
 *
 * Each send is a napi_async_work, so it owns everything its completion touches: its own async
 * resource (nlClose destroys the socket's receive context, which a queued send used to call
 * through: SIGSEGV on stop), references to the Buffer and the callback, and a reference count on
 * the socket. Node also counts the work as a pending request, so an environment being torn down
 * (a worker thread ending) waits for the completion before running cleanup hooks and unloading
 * the addon. A send queued before nlClose still goes out and its callback runs once; the fd is
 * closed after it (closing it earlier could let the worker send on a reused fd number).
 */
typedef struct {
  napi_async_work work;
  nl_socket *s;
  napi_ref buf; /* keeps the bytes the worker thread reads alive */
  napi_ref callback;
  const void *data;
  size_t len;
  int fd;
  ssize_t sent;
  int err;
} send_job;

/* Worker thread: no N-API calls here, only the job's own fields. */
static void send_execute(napi_env env, void *data) {
  send_job *job = data;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  do {
    job->sent = sendto(job->fd, job->data, job->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (job->sent < 0 && errno == EINTR);
  job->err = job->sent < 0 ? errno : 0;
}

static void free_job(napi_env env, send_job *job) {
  if (job->buf != NULL) napi_delete_reference(env, job->buf);
  if (job->callback != NULL) napi_delete_reference(env, job->callback);
  if (job->work != NULL) napi_delete_async_work(env, job->work);
  free(job);
}

/* Main thread, inside Node's callback scope for this work (a throw is reported as uncaught). */
static void send_complete(napi_env env, napi_status status, void *data) {
  send_job *job = data;
  nl_socket *s = job->s;
  s->sending = false;
  if (s->close_fd_after_send) {
    close(job->fd);
    s->fd = -1;
    s->close_fd_after_send = false;
  }
  int err = status == napi_cancelled ? ECANCELED : job->err;
  napi_value fn, recv, argv[2], result;
  /* Fails harmlessly when the environment can no longer run JS (teardown). */
  if (napi_get_reference_value(env, job->callback, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &recv) == napi_ok) {
    if (err != 0) {
      argv[0] = rn_errno_error(env, err, "sendto", NULL);
      napi_get_undefined(env, &argv[1]);
    } else {
      napi_get_null(env, &argv[0]);
      napi_create_int64(env, job->sent, &argv[1]);
    }
    if (argv[0] != NULL) napi_call_function(env, recv, fn, 2, argv, &result);
  }
  free_job(env, job);
  rn_nl_drop(s);
}

napi_value nl_send_async(napi_env env, napi_callback_info info) {
  napi_value argv[3], name;
  if (!rn_args(env, info, 3, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "sendto");
  void *data = NULL;
  size_t len = 0;
  if (s == NULL || !rn_get_function(env, argv[2], "callback") ||
      !rn_get_buffer(env, argv[1], "buf", &data, &len))
    return NULL;
  if (s->sending) return rn_throw_errno(env, EBUSY, "sendto", "a send is already in progress on this socket");
  send_job *job = calloc(1, sizeof *job);
  if (job == NULL) return rn_throw_errno(env, ENOMEM, "sendto", NULL);
  job->s = s;
  job->data = data;
  job->len = len;
  job->fd = s->fd;
  if (napi_create_reference(env, argv[1], 1, &job->buf) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &job->callback) != napi_ok ||
      napi_create_string_utf8(env, "rack-agent:netlink-send", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, send_execute, send_complete, job, &job->work) != napi_ok) {
    free_job(env, job);
    rn_throw_napi_failure(env, "nlSendAsync");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    free_job(env, job);
    rn_throw_napi_failure(env, "nlSendAsync: napi_queue_async_work");
    return NULL;
  }
  s->sending = true;
  s->refs++;
  return NULL;
}
