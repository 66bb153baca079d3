/* AF_UNIX address helper shared by notify.c and testing.c. */
#ifndef RACK_AGENT_NATIVE_UNIX_H
#define RACK_AGENT_NATIVE_UNIX_H
#include <node_api.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
/* "/path" or "@abstract" (leading NUL, as systemd writes NOTIFY_SOCKET) -> sockaddr_un. */
bool rn_unix_address(napi_env env, const char *syscall, const char *text, struct sockaddr_un *sun,
                     socklen_t *len);
#endif
