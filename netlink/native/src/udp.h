/* UDP sockets that report the received TTL / hop limit (udp.c), for BFD (RFC 5881 section 5). */
#ifndef RACK_AGENT_NATIVE_UDP_H
#define RACK_AGENT_NATIVE_UDP_H
#include <node_api.h>
#include <stddef.h>

extern const napi_property_descriptor rn_udp_exports[];
extern const size_t rn_udp_exports_count;
#endif
