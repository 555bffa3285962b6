# Toolchain file for the WebAssembly build (build/wasm, scripts/setup.sh):
#
#   cmake -S . -B build/wasm -DCMAKE_TOOLCHAIN_FILE=cmake/Wasm32Wasi.cmake \
#         -DSHMRPC_PLUGIN_PROGRAM=build/cmake/codegen/protoc-gen-shmrpc
#
# Debian's toolchain: clang 14 targeting wasm32-wasi, lld (wasm-ld), the
# wasm32 compiler runtime (libclang-rt-14-dev-wasm32) and wasi-libc, whose
# headers and libraries live under /usr (include/wasm32-wasi,
# lib/wasm32-wasi), hence --sysroot=/usr. Code is compiled for shared
# memory: real atomics (-matomics, thread model posix, else clang lowers
# them to plain loads and stores) and bulk memory; thread-locals in the one
# model wasm-ld supports outside Emscripten. wasi-libc of Debian 12 has no
# threads: each module runs on one thread, in a Worker.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(SHMRPC_WASM ON CACHE BOOL "Build for WebAssembly (set by cmake/Wasm32Wasi.cmake)" FORCE)

find_program(SHMRPC_WASM_CLANG NAMES clang-14 clang REQUIRED)
set(CMAKE_C_COMPILER ${SHMRPC_WASM_CLANG})
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_C_FLAGS_INIT
    "--sysroot=/usr -matomics -mbulk-memory -mthread-model posix -ftls-model=local-exec")
# Static linking only: position independent code would ask for a dynamic
# linker's tables.
set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# Programs (protoc, the plugins) are the build machine's; libraries and
# headers the target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
