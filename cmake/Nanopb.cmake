# nanopb's runtime (pb_common.c, pb_encode.c, pb_decode.c), compiled in this
# build with 32-bit field sizes: target shmrpc::nanopb.
#
# Debian's prebuilt libprotobuf-nanopb.a has 16-bit sizes, so a bytes or
# string field of 65,536 bytes or more fails to decode ("bytes overflow")
# while a message may be 64 MiB. PB_FIELD_32BIT changes the layout of
# generated structs (pb_size_t), so everything that includes pb.h must see
# the same definitions: link shmrpc::nanopb (it carries PB_FIELD_32BIT and
# PB_ENABLE_MALLOC and puts its own pb.h first on the include path);
# shmrpc/service.h refuses to compile without PB_FIELD_32BIT.
#
# The source is the version of Debian's nanopb generator, from Debian's
# source package: scripts/fetch-nanopb.sh fetches it once into a cache
# (scripts/setup.sh runs it) and prints where; this file asks it, unless
# SHMRPC_NANOPB_SOURCE_DIR names a directory holding the files.
include_guard(GLOBAL)
include(GNUInstallDirs)

set(SHMRPC_NANOPB_SOURCE_DIR "" CACHE PATH
  "nanopb runtime sources (pb_*.c, pb*.h); empty: scripts/fetch-nanopb.sh")
set(_shmrpc_nanopb_dir ${SHMRPC_NANOPB_SOURCE_DIR})
if(NOT _shmrpc_nanopb_dir)
  execute_process(
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/../scripts/fetch-nanopb.sh
    OUTPUT_VARIABLE _shmrpc_nanopb_dir
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _shmrpc_nanopb_rc)
  if(NOT _shmrpc_nanopb_rc EQUAL 0)
    message(FATAL_ERROR "shmrpc: nanopb's runtime source could not be fetched "
                        "(scripts/fetch-nanopb.sh); set SHMRPC_NANOPB_SOURCE_DIR "
                        "to a directory holding pb_common.c, pb_encode.c, "
                        "pb_decode.c and their headers.")
  endif()
endif()
foreach(_file pb.h pb_common.c pb_encode.c pb_decode.c)
  if(NOT EXISTS ${_shmrpc_nanopb_dir}/${_file})
    message(FATAL_ERROR "shmrpc: ${_shmrpc_nanopb_dir}/${_file} not found")
  endif()
endforeach()

add_library(shmrpc_nanopb STATIC
  ${_shmrpc_nanopb_dir}/pb_common.c
  ${_shmrpc_nanopb_dir}/pb_encode.c
  ${_shmrpc_nanopb_dir}/pb_decode.c)
add_library(shmrpc::nanopb ALIAS shmrpc_nanopb)
# BEFORE: ahead of /usr/include, which may hold Debian's copy of pb.h.
# Installed as include/shmrpc/nanopb/ (cmake/ShmrpcInstall.cmake).
target_include_directories(shmrpc_nanopb BEFORE PUBLIC
  $<BUILD_INTERFACE:${_shmrpc_nanopb_dir}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/shmrpc/nanopb>)
set_target_properties(shmrpc_nanopb PROPERTIES PUBLIC_HEADER
  "${_shmrpc_nanopb_dir}/pb.h;${_shmrpc_nanopb_dir}/pb_common.h;${_shmrpc_nanopb_dir}/pb_encode.h;${_shmrpc_nanopb_dir}/pb_decode.h")
target_compile_definitions(shmrpc_nanopb PUBLIC PB_FIELD_32BIT=1
                                                PB_ENABLE_MALLOC=1)
# Linked into shared service libraries; hidden, so that two of them loaded
# into one process never bind to each other's copy.
set_target_properties(shmrpc_nanopb PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  C_VISIBILITY_PRESET hidden)
