# libshmrpc_rpc: the RPC layer (server, call context) over the channel and
# its envelope format, with nanopb as its codec. Code that includes shmrpc/rpc.h gets
# PB_ENABLE_MALLOC (unbounded fields are malloc'd pointers) and
# PB_FIELD_32BIT (fields up to the message limit) from shmrpc::nanopb.
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/Nanopb.cmake)
add_library(shmrpc_rpc STATIC
  src/rpc_call_table.c
  src/rpc_deadline_heap.c
  src/rpc_reply.c
  src/rpc_server.c
  src/rpc_routes.c
  src/rpc_host.c
  src/rpc_call.c
  src/rpc_request_stream.c
)
add_library(shmrpc::rpc ALIAS shmrpc_rpc)
target_include_directories(shmrpc_rpc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
set_target_properties(shmrpc_rpc PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  C_VISIBILITY_PRESET hidden)
target_link_libraries(shmrpc_rpc PUBLIC shmrpc shmrpc::nanopb)
