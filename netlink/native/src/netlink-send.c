/*
 * Sending on rack-agent's netlink sockets: nlSend (sendto on the calling thread) and nlSendAsync
 * (a send queue drained by a libuv worker thread). The kernel processes a datagram's messages
 * inside sendto, so the queue keeps the kernel busy while the event loop does other work: the
 * worker sends queued datagrams back to back, in order, without waiting for the main thread
 * (issue 21: at a million routes the kernel used to idle while the main thread decoded the BGP
 * table, one datagram per turn of the event loop). One datagram may carry several messages.
 * Not here: answers (read by the socket's poll, netlink.c), request/ACK matching (TypeScript).
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
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
 * nlSendAsync(handle, buf, callback(err, bytes)): queues a copy of buf; a worker thread sends the
 * queue in order. Any number may be queued; callbacks run on the main thread in queue order, once
 * each, after the worker finds the queue empty (a long burst reports at its end; a datagram's
 * bytes are freed as soon as it is sent, so only its small queue entry waits).
 *
 * The worker is a napi_async_work, so Node counts it as a pending request (an environment being
 * torn down waits for it before running cleanup hooks and unloading the addon), and it holds a
 * reference count on the socket. At most one worker drains the queue at a time (s->draining,
 * under s->lock): order is kept. nlClose cancels what the worker has not started: those
 * callbacks get ECANCELED; the datagram being sent completes; the fd is closed when the last
 * worker has completed (closing it earlier could let the worker send on a reused fd number).
 */
typedef struct {
  napi_async_work work;
  nl_socket *s;
  int fd;
} send_worker;

static void append(nl_datagram **head, nl_datagram **tail, nl_datagram *d) {
  d->next = NULL;
  if (*tail == NULL) *head = d;
  else (*tail)->next = d;
  *tail = d;
}

static uint64_t monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Worker thread: no N-API calls here; the queues and the counters only under s->lock. */
static void send_execute(napi_env env, void *data) {
  send_worker *w = data;
  nl_socket *s = w->s;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  uv_mutex_lock(&s->lock);
  for (;;) {
    nl_datagram *d = s->queue_head;
    if (d == NULL) {
      s->draining = false;
      break;
    }
    s->queue_head = d->next;
    if (s->queue_head == NULL) s->queue_tail = NULL;
    if (s->cancel) {
      d->err = ECANCELED;
    } else {
      uv_mutex_unlock(&s->lock);
      uint64_t began = monotonic_ns();
      do {
        d->sent = sendto(w->fd, d->data, d->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
      } while (d->sent < 0 && errno == EINTR);
      d->err = d->sent < 0 ? errno : 0;
      uint64_t took = monotonic_ns() - began;
      uv_mutex_lock(&s->lock);
      s->send_ns += took;
      if (d->err == 0) s->sent++;
    }
    free(d->data);
    d->data = NULL;
    append(&s->done_head, &s->done_tail, d);
  }
  uv_mutex_unlock(&s->lock);
}

static void call_back(napi_env env, nl_datagram *d) {
  napi_handle_scope scope;
  napi_value fn, recv, argv[2], result;
  /* Fails harmlessly when the environment can no longer run JS (teardown). */
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, d->callback, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &recv) == napi_ok) {
    if (d->err != 0) {
      argv[0] = rn_errno_error(env, d->err, "sendto",
                               d->err == ECANCELED ? "netlink socket closed before the datagram was sent" : NULL);
      napi_get_undefined(env, &argv[1]);
    } else {
      napi_get_null(env, &argv[0]);
      napi_create_int64(env, d->sent, &argv[1]);
    }
    if (argv[0] != NULL && napi_call_function(env, recv, fn, 2, argv, &result) == napi_pending_exception) {
      napi_value exception; /* reported as uncaught; the other callbacks still run */
      if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void free_datagram(napi_env env, nl_datagram *d) {
  if (d->callback != NULL) napi_delete_reference(env, d->callback);
  free(d->data);
  free(d);
}

/* Main thread: the callbacks of every datagram sent or cancelled so far, in order. */
static void send_complete(napi_env env, napi_status status, void *data) {
  send_worker *w = data;
  nl_socket *s = w->s;
  uv_mutex_lock(&s->lock);
  if (status == napi_cancelled) {
    /* Never ran: what it was to send is cancelled (the next enqueue starts a new worker). */
    while (s->queue_head != NULL) {
      nl_datagram *d = s->queue_head;
      s->queue_head = d->next;
      d->err = ECANCELED;
      append(&s->done_head, &s->done_tail, d);
    }
    s->queue_tail = NULL;
    s->draining = false;
  }
  nl_datagram *done = s->done_head;
  s->done_head = s->done_tail = NULL;
  uv_mutex_unlock(&s->lock);
  if (--s->workers == 0 && s->close_fd_after_send) {
    close(w->fd);
    s->fd = -1;
    s->close_fd_after_send = false;
  }
  napi_delete_async_work(env, w->work);
  free(w);
  while (done != NULL) {
    nl_datagram *next = done->next;
    call_back(env, done);
    free_datagram(env, done);
    done = next;
  }
  rn_nl_drop(s);
}

/* Starts a worker on the queue (s->lock is not held; s->draining was set by the caller). */
static bool start_worker(napi_env env, nl_socket *s) {
  napi_value name;
  send_worker *w = calloc(1, sizeof *w);
  if (w == NULL) return false;
  w->s = s;
  w->fd = s->fd;
  if (napi_create_string_utf8(env, "rack-agent:netlink-send", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, send_execute, send_complete, w, &w->work) != napi_ok) {
    free(w);
    return false;
  }
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    free(w);
    return false;
  }
  s->workers++;
  s->refs++;
  return true;
}

napi_value nl_send_async(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!rn_args(env, info, 3, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "sendto");
  void *data = NULL;
  size_t len = 0;
  if (s == NULL || !rn_get_function(env, argv[2], "callback") ||
      !rn_get_buffer(env, argv[1], "buf", &data, &len))
    return NULL;
  nl_datagram *d = calloc(1, sizeof *d);
  if (d == NULL || (d->data = malloc(len > 0 ? len : 1)) == NULL) {
    free(d);
    return rn_throw_errno(env, ENOMEM, "sendto", NULL);
  }
  memcpy(d->data, data, len);
  d->len = len;
  if (napi_create_reference(env, argv[2], 1, &d->callback) != napi_ok) {
    free_datagram(env, d);
    rn_throw_napi_failure(env, "nlSendAsync");
    return NULL;
  }
  uv_mutex_lock(&s->lock);
  append(&s->queue_head, &s->queue_tail, d);
  bool start = !s->draining;
  s->draining = true;
  uv_mutex_unlock(&s->lock);
  if (start && !start_worker(env, s)) {
    /* Nothing drains the queue: take the datagram back out (it is alone: no worker ran). */
    uv_mutex_lock(&s->lock);
    s->queue_head = s->queue_tail = NULL;
    s->draining = false;
    uv_mutex_unlock(&s->lock);
    free_datagram(env, d);
    rn_throw_napi_failure(env, "nlSendAsync: napi_queue_async_work");
    return NULL;
  }
  return NULL;
}

/* nlSendStats(handle) -> [datagrams, seconds]: what the send workers sent so far and their time
 * inside sendto. An open socket only (channel.ts keeps the last numbers at close). */
napi_value nl_send_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, n, secs;
  if (!rn_args(env, info, 1, argv)) return NULL;
  nl_socket *s = rn_nl_socket(env, argv[0], "sendto");
  if (s == NULL) return NULL;
  uv_mutex_lock(&s->lock);
  uint64_t sent = s->sent, ns = s->send_ns;
  uv_mutex_unlock(&s->lock);
  RN_CALL(env, napi_create_array_with_length(env, 2, &result));
  RN_CALL(env, napi_create_double(env, (double)sent, &n));
  RN_CALL(env, napi_create_double(env, (double)ns / 1e9, &secs));
  RN_CALL(env, napi_set_element(env, result, 0, n));
  RN_CALL(env, napi_set_element(env, result, 1, secs));
  return result;
}
