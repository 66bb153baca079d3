/* Test-only helpers (a unix datagram receiver). */
#ifndef RACK_AGENT_NATIVE_TESTING_H
#define RACK_AGENT_NATIVE_TESTING_H
#include <node_api.h>
extern const napi_property_descriptor rn_testing_exports[];
extern const size_t rn_testing_exports_count;
#endif
