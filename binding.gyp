{
  "targets": [
    {
      "target_name": "shmrpc",
      "sources": [
        "js/native/addon.cc", "js/native/loop_hold.cc", "js/native/loop_spin.cc", "js/native/service_host.cc",
        "js/native/wake_glue.cc", "js/native/xproc_client.cc", "js/native/xproc_connect.cc",
        "c/src/errors.c", "c/src/segment.c", "c/src/wait.c", "c/src/spin_policy.c", "c/src/wait_futex.c",
        "c/src/frame.c", "c/src/ring.c", "c/src/channel.c", "c/src/channel_send.c", "c/src/channel_recv.c",
        "c/src/relay.c", "c/src/xproc_client.c", "c/src/xproc_dir.c", "c/src/xproc_error.c",
        "c/src/xproc_handshake.c", "c/src/xproc_peer.c", "c/src/xproc_segment.c",
        "c/src/xproc_thread.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "c/include",
        "c/src"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_c": ["-std=gnu11", "-O2"],
      "libraries": ["-ldl"]
    }
  ]
}
