/* Peer credentials of a connected unix socket (SO_PEERCRED), for the control socket. */
#ifndef RACK_AGENT_NATIVE_PEERCRED_H
#define RACK_AGENT_NATIVE_PEERCRED_H
#include <node_api.h>
extern const napi_property_descriptor rn_peercred_exports[];
extern const size_t rn_peercred_exports_count;
#endif
