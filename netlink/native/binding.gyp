{
  "targets": [
    {
      "target_name": "rack_agent_native",
      "sources": [
        "src/addon.c",
        "src/common.c",
        "src/ip-address.c",
        "src/js-callbacks.c",
        "src/sockopt.c",
        "src/notify.c",
        "src/netlink.c",
        "src/netlink-options.c",
        "src/peercred.c",
        "src/netlink-send.c",
        "src/testing.c",
        "src/udp.c"
      ],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror=implicit-function-declaration"]
    }
  ]
}
