# C services compiled to WebAssembly, for a browser Worker (js/src/wasm/).
# Included by the WebAssembly build (cmake/Wasm32Wasi.cmake); see
# docs/BROWSER.md.
#
#   shmrpc_wasm_service(NAME greeter
#     SOURCES     examples/greeter/greeter_service.c   # the handlers, unchanged
#     PROTOS      proto/greeter.proto                  # optional: generated glue
#     IMPORT_DIRS proto                                # optional, as shmrpc_generate
#     MAX_MEMORY  268435456                            # optional, bytes (default 256 MiB)
#     OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/services) # optional
#
# builds NAME.wasm from the same sources as the native service library: the
# handlers, the C glue shmrpc_generate() makes from PROTOS, the RPC runtime
# (nanopb included) and the Worker's entry points (c/wasm/wasm_host.c). The
# module imports its memory, shared (its buffer is a SharedArrayBuffer),
# so the page and the Worker see the same segment; it imports nothing else
# but the WASI clock and sched_yield, which js/src/wasm/wasi.ts provides.

# Link options of a wasm program over an imported shared memory. KIND is
# REACTOR (a library the Worker calls into: _initialize, then the exports)
# or COMMAND (a program with _start, such as a test).
#
# --no-check-features: Debian's wasi-libc is built without the atomics
# feature, and wasm-ld refuses such objects in a shared memory. They are
# safe here because only the module's one thread runs them; the memory is
# shared with the page for the segment alone, which only the shmrpc core
# touches, with atomics.
function(shmrpc_wasm_link_options target kind)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "MAX_MEMORY" "")
  if(NOT arg_MAX_MEMORY)
    set(arg_MAX_MEMORY 268435456)
  endif()
  if(kind STREQUAL "REACTOR")
    target_link_options(${target} PRIVATE -mexec-model=reactor)
  elseif(NOT kind STREQUAL "COMMAND")
    message(FATAL_ERROR "shmrpc_wasm_link_options: KIND is REACTOR or COMMAND, not ${kind}")
  endif()
  set_target_properties(${target} PROPERTIES SUFFIX .wasm)
  target_link_options(${target} PRIVATE
    -Wl,--no-check-features -Wl,--import-memory -Wl,--shared-memory
    -Wl,--max-memory=${arg_MAX_MEMORY})
endfunction()

function(shmrpc_wasm_service)
  cmake_parse_arguments(PARSE_ARGV 0 arg ""
    "NAME;MAX_MEMORY;OUTPUT_DIRECTORY" "SOURCES;PROTOS;IMPORT_DIRS")
  if(NOT arg_NAME OR NOT arg_SOURCES)
    message(FATAL_ERROR "shmrpc_wasm_service: NAME and SOURCES are required")
  endif()
  set(generated "")
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/${arg_NAME}-gen)
  if(arg_PROTOS)
    include(${PROJECT_SOURCE_DIR}/cmake/ShmrpcGenerate.cmake)
    set(import_args "")
    if(arg_IMPORT_DIRS)
      set(import_args IMPORT_DIRS ${arg_IMPORT_DIRS})
    endif()
    shmrpc_generate(PROTOS ${arg_PROTOS} ${import_args}
      C_OUT ${gen_dir} C_SOURCES generated)
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES} ${generated}
    $<TARGET_OBJECTS:shmrpc_wasm_host>)
  target_include_directories(${arg_NAME} PRIVATE ${gen_dir})
  target_link_libraries(${arg_NAME} PRIVATE shmrpc_rpc)
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${arg_NAME} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${arg_OUTPUT_DIRECTORY})
  endif()
  shmrpc_wasm_link_options(${arg_NAME} REACTOR MAX_MEMORY ${arg_MAX_MEMORY})
endfunction()
