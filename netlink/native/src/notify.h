/* sd_notify(3) to $NOTIFY_SOCKET. */
#ifndef RACK_AGENT_NATIVE_NOTIFY_H
#define RACK_AGENT_NATIVE_NOTIFY_H
#include <node_api.h>
extern const napi_property_descriptor rn_notify_exports[];
extern const size_t rn_notify_exports_count;
#endif
