# The RPC benchmark's peers: the shmrpc service it calls (generated from
# bench/proto/rpc_bench.proto; the TypeScript client goes to bench/gen) and
# a C echo server on a Unix socket to compare with.
add_executable(bench_unix_echo c/unix_echo.c)

if(TARGET protoc-gen-shmrpc)
  include(${CMAKE_CURRENT_SOURCE_DIR}/../cmake/ShmrpcGenerate.cmake)
  shmrpc_generate(
    PROTOS ${CMAKE_CURRENT_SOURCE_DIR}/proto/rpc_bench.proto
    C_OUT ${CMAKE_CURRENT_BINARY_DIR}/gen
    TS_OUT ${CMAKE_CURRENT_SOURCE_DIR}/gen
    TS_RUNTIME ../../js/src/codegen-runtime.js
    C_SOURCES rpc_bench_sources)
  add_library(shmrpc_rpc_bench MODULE services/rpc_bench_service.c ${rpc_bench_sources})
  target_include_directories(shmrpc_rpc_bench PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/gen)
  target_link_libraries(shmrpc_rpc_bench PRIVATE shmrpc_rpc)
  set_target_properties(shmrpc_rpc_bench PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/services)

  # The same service called from C: the floor under the JavaScript figures,
  # in-process and across processes (through shmrpc-host).
  add_executable(bench_rpc_pingpong c/rpc_pingpong.c c/bench_util.c)
  add_dependencies(bench_rpc_pingpong shmrpc_rpc_bench)
  target_include_directories(bench_rpc_pingpong PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/gen)
  target_link_libraries(bench_rpc_pingpong PRIVATE shmrpc_rpc shmrpc_xproc Threads::Threads ${CMAKE_DL_LIBS})
  add_dependencies(bench_rpc_pingpong shmrpc-host)
endif()
