/* TCP socket options (RFC 2385 MD5, TTL, RFC 5082 GTSM) and pre-connect socket creation. */
#ifndef RACK_AGENT_NATIVE_SOCKOPT_H
#define RACK_AGENT_NATIVE_SOCKOPT_H
#include <node_api.h>
extern const napi_property_descriptor rn_sockopt_exports[];
extern const size_t rn_sockopt_exports_count;
#endif
