/*
 * AF_NETLINK NETLINK_ROUTE sockets: open, poll-driven receive, close (netlink.c); options
 * (netlink-options.c); send (netlink-send.c).
 */
#ifndef RACK_AGENT_NATIVE_NETLINK_H
#define RACK_AGENT_NATIVE_NETLINK_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "js-callbacks.h"

extern const napi_property_descriptor rn_netlink_exports[];
extern const size_t rn_netlink_exports_count;

/* Shared by netlink.c (lifecycle, receive) and netlink-send.c (send). */
/* One read chunk handed to JS; a datagram is never larger than 32 KiB (kernel dump skbs). */
#define NL_CHUNK (1024 * 1024)
#define NL_DATAGRAM_MAX (64 * 1024)
/* Bytes read in one poll callback before yielding to the rest of the event loop (fairness). */
#define NL_READ_BUDGET (8 * 1024 * 1024)

/* A datagram queued by nlSendAsync (netlink-send.c): a copy of its bytes until sent. */
typedef struct nl_datagram {
  struct nl_datagram *next;
  unsigned char *data; /* freed by the worker once sent */
  size_t len;
  napi_ref callback;
  ssize_t sent;
  int err;
} nl_datagram;

typedef struct nl_socket {
  int fd;
  uint32_t port_id;
  bool polling;
  uv_poll_t poll;
  /* closed, env, onData (buf: Buffer) => void, onError; the async context is the receive
   * callbacks' only: each send has its own (napi_async_work). */
  rn_js js; /* with the async cleanup hook: teardown waits for the poll handle's close callback */
  unsigned char *chunk;
  int refs;        /* the open socket (until its uv handle is closed), the JS external, a worker */
  int workers;     /* send workers queued and not yet completed (they use fd) */
  bool close_fd_after_send;
  /* The send queue (netlink-send.c): lock guards the lists, draining and cancel. */
  uv_mutex_t lock;
  nl_datagram *queue_head, *queue_tail; /* to send, in order */
  nl_datagram *done_head, *done_tail;   /* sent or cancelled, callbacks not yet run */
  bool draining;   /* a worker owns the queue until it finds it empty */
  bool cancel;     /* closed: the worker drops what it has not started */
  /* Under lock: datagrams the workers sent and their time inside sendto (the kernel applies a
   * route request inside sendto: this is the kernel's time on our writes), for nlSendStats. */
  uint64_t sent;
  uint64_t send_ns;
} nl_socket;

void rn_nl_drop(nl_socket *s);
nl_socket *rn_nl_socket(napi_env env, napi_value value, const char *syscall);
napi_value nl_send(napi_env env, napi_callback_info info);
napi_value nl_send_async(napi_env env, napi_callback_info info);
napi_value nl_send_stats(napi_env env, napi_callback_info info);
#endif
