/*
 * rack-agent's native addon: registers each topic's exports. One file per topic: sockopt.c (TCP
 * options for BGP transport), notify.c (sd_notify), netlink.c (AF_NETLINK route sockets),
 * peercred.c (SO_PEERCRED for the control socket), udp.c (UDP with the
 * received TTL, for BFD), testing.c (test-only helpers).
 * Plain C on node_api.h, no other dependencies.
 */
#include <node_api.h>

#include "common.h"
#include "netlink.h"
#include "notify.h"
#include "peercred.h"
#include "sockopt.h"
#include "testing.h"
#include "udp.h"

static const struct {
  const napi_property_descriptor *exports;
  const size_t *count;
} topics[] = {
  {rn_sockopt_exports, &rn_sockopt_exports_count},
  {rn_notify_exports, &rn_notify_exports_count},
  {rn_netlink_exports, &rn_netlink_exports_count},
  {rn_peercred_exports, &rn_peercred_exports_count},
  {rn_testing_exports, &rn_testing_exports_count},
  {rn_udp_exports, &rn_udp_exports_count},
};

NAPI_MODULE_INIT() {
  for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
    RN_CALL(env, napi_define_properties(env, exports, *topics[i].count, topics[i].exports));
  return exports;
}
